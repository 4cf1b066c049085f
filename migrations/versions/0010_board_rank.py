"""board rank apart: each board row's rank and rank interval in a narrow board_rank table

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:30:00.000000

A finished request mid-board shifts the rank of every row below it. On the wide leaderboard_entry
row (payload, scores, 17 indexes) that rewrote thousands of rows and index entries per write; the
narrow row takes the shift as an in-place update. The default view's order is the average index's
(rank is position by average, then model id), so rank itself needs no index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

MOVED = ("rank", "rank_span_up", "rank_span_down")


def upgrade() -> None:
    op.create_table(
        "board_rank",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("rank_span_up", sa.Integer(), nullable=True),
        sa.Column("rank_span_down", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["leaderboard_entry.id"],
            name=op.f("fk_board_rank_entry_id_leaderboard_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_board_rank")),
        postgresql_with={"fillfactor": 50},
    )
    op.execute(
        "INSERT INTO board_rank (entry_id, rank, rank_span_up, rank_span_down)"
        " SELECT id, rank, rank_span_up, rank_span_down FROM leaderboard_entry"
    )
    op.drop_index("ix_leaderboard_entry_rank", table_name="leaderboard_entry")
    for column in MOVED:  # plain ALTER TABLE on both databases (SQLite >= 3.35), no batch rebuild
        op.execute(f"ALTER TABLE leaderboard_entry DROP COLUMN {column}")
    _trigram_fastupdate(on=False)


def _trigram_fastupdate(*, on: bool) -> None:
    """Name search's trigram indexes (0009) take each new row at once instead of in a pending list:
    every finished request adds a row, and until a vacuum merged the list, each search read all of it
    (a new search on 10,000 models: 20 ms instead of 0.6). Writing a row costs a little more."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in ("name", "reference"):
        index = f"ix_leaderboard_entry_{column}_trgm"
        exists = op.get_bind().execute(sa.text("SELECT to_regclass(:name)"), {"name": index}).scalar()
        if exists is None:  # no pg_trgm where 0009 ran
            continue
        op.execute(f"ALTER INDEX {index} SET (fastupdate = {'on' if on else 'off'})")
        if not on:
            op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def downgrade() -> None:
    _trigram_fastupdate(on=True)
    op.add_column("leaderboard_entry", sa.Column("rank", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("leaderboard_entry", sa.Column("rank_span_up", sa.Integer(), nullable=True))
    op.add_column("leaderboard_entry", sa.Column("rank_span_down", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE leaderboard_entry SET rank = board_rank.rank, rank_span_up = board_rank.rank_span_up,"
        " rank_span_down = board_rank.rank_span_down FROM board_rank"
        " WHERE board_rank.entry_id = leaderboard_entry.id"
    )
    op.create_index("ix_leaderboard_entry_rank", "leaderboard_entry", ["suite", "board", "rank"])
    op.drop_table("board_rank")
