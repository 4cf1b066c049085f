"""Run Alembic migrations from code (`evalboard db upgrade`, and automatically on serve / worker)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.config import get_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url or get_settings().resolved_database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    url = database_url or get_settings().resolved_database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)
    _index_board_if_new(url)


def _index_board_if_new(url: str) -> None:
    """The board's index (revision 0004) starts empty; a database with finished requests from before
    it gets its rows from the same code that writes them when a request finishes."""
    from sqlalchemy import inspect, select

    from app.db import session_scope
    from app.leaderboard.entries import rebuild_all
    from app.tables import EvalRequest, LeaderboardEntry, RequestStatus

    with session_scope(url) as session:
        if not inspect(session.get_bind()).has_table("leaderboard_entry"):
            return  # upgraded to a revision before the index
        if session.scalar(select(LeaderboardEntry.id).limit(1)) is not None:
            return
        if session.scalar(
            select(EvalRequest.id).where(EvalRequest.status == RequestStatus.FINISHED).limit(1)
        ):
            rebuild_all(session, get_settings().resolved_private_dir)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
