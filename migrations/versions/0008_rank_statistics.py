"""rank statistics: per-item scores (item_set, item_score) and the board's bootstrap figures

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ENTRY_COLUMNS = (
    ("ci_low", sa.Float()),
    ("ci_high", sa.Float()),
    ("rank_span_up", sa.Integer()),
    ("rank_span_down", sa.Integer()),
    ("p_above_next", sa.Float()),
    ("tied_with_next", sa.Boolean()),
    ("stats_key", sa.String(length=48)),
)


def upgrade() -> None:
    op.create_table(
        "item_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("ids", sa.LargeBinary(), nullable=False),
        sa.Column("weights", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_set")),
        sa.UniqueConstraint("digest", name=op.f("uq_item_set_digest")),
    )
    op.create_table(
        "item_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("benchmark", sa.String(length=64), nullable=False),
        sa.Column("item_set_id", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=False),
        sa.Column("scores", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["eval_request.id"],
            name=op.f("fk_item_score_request_id_eval_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_set_id"], ["item_set.id"], name=op.f("fk_item_score_item_set_id_item_set")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_score")),
        sa.UniqueConstraint("request_id", "benchmark", name=op.f("uq_item_score_request_id_benchmark")),
    )
    op.create_index(op.f("ix_item_score_request_id"), "item_score", ["request_id"])
    op.create_index(op.f("ix_item_score_item_set_id"), "item_score", ["item_set_id"])
    # Plain ALTER TABLE (no batch rebuild on SQLite, see 0007). Existing rows start without figures:
    # their stats_key matches nothing, so the board's next write (or `rebuild_all`) computes them.
    for name, column_type in ENTRY_COLUMNS:
        op.add_column("leaderboard_entry", sa.Column(name, column_type, nullable=True))
    op.add_column(
        "leaderboard_entry", sa.Column("pair_stats", sa.JSON(), nullable=False, server_default="{}")
    )


def downgrade() -> None:
    op.drop_column("leaderboard_entry", "pair_stats")
    for name, _ in reversed(ENTRY_COLUMNS):
        op.drop_column("leaderboard_entry", name)
    op.drop_index(op.f("ix_item_score_item_set_id"), "item_score")
    op.drop_index(op.f("ix_item_score_request_id"), "item_score")
    op.drop_table("item_score")
    op.drop_table("item_set")
