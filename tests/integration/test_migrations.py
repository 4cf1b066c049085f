"""The same migrations run on SQLite and PostgreSQL, both ways."""

from __future__ import annotations

from sqlalchemy import inspect

from app.db import make_engine
from app.migrate import downgrade, upgrade


def test_upgrade_creates_every_table_and_downgrade_removes_them(database_url: str) -> None:
    engine = make_engine(database_url, one_shot=True)
    assert {"model", "eval_request", "result", "job", "alembic_version"} <= set(
        inspect(engine).get_table_names()
    )
    downgrade(database_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(database_url)
    assert "job" in inspect(engine).get_table_names()
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("eval_request")}
    assert indexes["uq_eval_request_active"]["unique"]
    engine.dispose()
