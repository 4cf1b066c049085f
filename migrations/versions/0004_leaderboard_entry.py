"""leaderboard_entry: the board's index (one row per suite, data board and model)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00.000000

Rows for requests finished before this revision are written by app.migrate.upgrade, with the same
code that writes them when a request finishes (app/leaderboard/entries.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leaderboard_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suite", sa.String(length=64), nullable=False),
        sa.Column("board", sa.String(length=16), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("average", sa.Float(), nullable=True),
        sa.Column("average_raw", sa.Float(), nullable=True),
        sa.Column("scores", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("reference", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("model_type", sa.String(length=32), nullable=False),
        sa.Column("precision", sa.String(length=16), nullable=False),
        sa.Column("weight_type", sa.String(length=16), nullable=False),
        sa.Column("params_b", sa.Float(), nullable=True),
        sa.Column("licence", sa.String(length=128), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("data_source", sa.String(length=16), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"], ["model.id"], name=op.f("fk_leaderboard_entry_model_id_model"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["eval_request.id"],
            name=op.f("fk_leaderboard_entry_request_id_eval_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_entry")),
        sa.UniqueConstraint(
            "suite", "board", "model_id", name=op.f("uq_leaderboard_entry_suite_board_model_id")
        ),
    )
    # One row: bumped in the transaction that changes any board row, so a cached rendering of a view
    # is served only while the board it was drawn from is still the current one.
    board_version = op.create_table(
        "board_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_version")),
    )
    op.bulk_insert(board_version, [{"id": 1, "version": 0}])
    op.create_index("ix_leaderboard_entry_rank", "leaderboard_entry", ["suite", "board", "rank"])
    op.create_index(op.f("ix_leaderboard_entry_model_id"), "leaderboard_entry", ["model_id"])
    op.create_index(op.f("ix_leaderboard_entry_request_id"), "leaderboard_entry", ["request_id"])


def downgrade() -> None:
    op.drop_table("board_version")
    op.drop_table("leaderboard_entry")
