"""The judge response cache in the service's database (table judge_response, migration 0005):
evaluators.judge.cache.ResponseCache over SQLAlchemy, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.db import engine_for, session_scope, utcnow
from app.tables import JudgeResponse
from evaluators.judge.cache import CachedReply

LOOKUP_BATCH = 500  # keys per IN (...) query


class DatabaseJudgeCache:
    def __init__(self, database_url: str, *, create_table: bool = False) -> None:
        """`create_table`: for a cache-only SQLite file (`evalboard eval` has no service database);
        the service's own database gets the table from its migration."""
        self.database_url = database_url
        if create_table:
            JudgeResponse.metadata.create_all(engine_for(database_url), tables=[JudgeResponse.__table__])  # type: ignore[list-item]

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = sorted(set(keys))
        found: dict[str, dict[str, Any]] = {}
        with session_scope(self.database_url) as session:
            for start in range(0, len(wanted), LOOKUP_BATCH):
                chunk = wanted[start : start + LOOKUP_BATCH]
                rows = session.execute(
                    select(JudgeResponse.key, JudgeResponse.response).where(JudgeResponse.key.in_(chunk))
                )
                found.update({key: dict(response) for key, response in rows})
        return found

    def put_many(self, rows: Sequence[CachedReply]) -> None:
        """One INSERT ... ON CONFLICT DO NOTHING for the batch: another worker may have judged the
        same request first, and its reply stands."""
        if not rows:
            return
        values = [
            {
                "key": row.key,
                "judge_model": row.judge_model,
                "prompt_version": row.prompt_version,
                "request": row.request,
                "response": row.response,
                "prompt_tokens": row.response.get("prompt_tokens"),
                "completion_tokens": row.response.get("completion_tokens"),
                "created_at": utcnow(),
            }
            for row in rows
        ]
        with session_scope(self.database_url) as session:
            insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            session.execute(
                insert(JudgeResponse).values(values).on_conflict_do_nothing(index_elements=["key"])
            )
