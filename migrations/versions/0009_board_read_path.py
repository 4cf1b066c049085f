"""board read path: each row's display payload, sortable benchmark cells, search and sort indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# (name, columns): the keys a board view sorts by, each with the model id that breaks ties, so a
# page is an index range scan. Ascending and descending both, since missing values come last in
# either order (PostgreSQL only: SQLite cannot say NULLS LAST in an index, and sorts small boards).
SORT_KEYS = {
    "average": "average",
    "name": "lower(name)",
    "params": "params_b",
    "submitted": "submitted_at",
    "evaluated": "evaluated_at",
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    # Plain ALTER TABLE (no batch rebuild on SQLite, see 0007). Existing rows get their payload from
    # the board's next write to them; until then the reader builds it from the row's columns.
    op.add_column("leaderboard_entry", sa.Column("payload", sa.Text(), nullable=True))
    op.create_index("ix_leaderboard_entry_reference", "leaderboard_entry", ["suite", "board", "reference"])
    op.create_table(
        "board_cell",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("benchmark", sa.String(length=64), nullable=False),
        sa.Column("suite", sa.String(length=64), nullable=False),
        sa.Column("board", sa.String(length=16), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("raw_value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["leaderboard_entry.id"],
            name=op.f("fk_board_cell_entry_id_leaderboard_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "benchmark", name=op.f("pk_board_cell")),
    )
    if not _postgresql():
        op.create_index(
            "ix_board_cell_value", "board_cell", ["suite", "board", "benchmark", "value", "model_id"]
        )
        _fill_cells()
        return
    op.execute(
        "CREATE INDEX ix_board_cell_value_desc ON board_cell"
        " (suite, board, benchmark, value DESC NULLS LAST, model_id)"
    )
    op.execute(
        "CREATE INDEX ix_board_cell_value_asc ON board_cell (suite, board, benchmark, value, model_id)"
    )
    for name, key in SORT_KEYS.items():
        op.execute(
            f"CREATE INDEX ix_leaderboard_entry_{name}_desc ON leaderboard_entry"
            f" (suite, board, {key} DESC NULLS LAST, model_id)"
        )
        op.execute(
            f"CREATE INDEX ix_leaderboard_entry_{name}_asc ON leaderboard_entry"
            f" (suite, board, {key}, model_id)"
        )
    # Name search matches anywhere in a name or reference (ILIKE '%word%'): trigram indexes answer that
    # without reading every row. pg_trgm ships with PostgreSQL (a trusted extension since 13).
    available = (
        op.get_bind()
        .execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"))
        .scalar()
    )
    if available:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in ("name", "reference"):
            op.execute(
                f"CREATE INDEX ix_leaderboard_entry_{column}_trgm ON leaderboard_entry"
                f" USING gin ({column} gin_trgm_ops)"
            )
    _fill_cells()


def _fill_cells() -> None:
    """Cells of the rows already there, from their scores (a value the board averages: not None)."""
    bind = op.get_bind()
    table = sa.table(
        "leaderboard_entry",
        sa.column("id"),
        sa.column("suite"),
        sa.column("board"),
        sa.column("model_id"),
        sa.column("scores", sa.JSON()),
    )
    cells = []
    for entry_id, suite, board, model_id, scores in bind.execute(
        sa.select(table.c.id, table.c.suite, table.c.board, table.c.model_id, table.c.scores)
    ):
        for benchmark, cell in (scores or {}).items():
            if cell.get("value") is None:
                continue
            raw = cell.get("raw")
            cells.append(
                {
                    "entry_id": entry_id,
                    "benchmark": benchmark,
                    "suite": suite,
                    "board": board,
                    "model_id": model_id,
                    "value": cell["value"],
                    "raw_value": cell["value"] if raw is None else raw,
                }
            )
    if cells:
        cell_table = sa.table(
            "board_cell",
            *(sa.column(name) for name in cells[0]),
        )
        bind.execute(sa.insert(cell_table), cells)


def downgrade() -> None:
    op.drop_table("board_cell")
    if _postgresql():
        for column in ("name", "reference"):
            op.execute(f"DROP INDEX IF EXISTS ix_leaderboard_entry_{column}_trgm")
        for name in SORT_KEYS:
            op.execute(f"DROP INDEX ix_leaderboard_entry_{name}_desc")
            op.execute(f"DROP INDEX ix_leaderboard_entry_{name}_asc")
    op.drop_index("ix_leaderboard_entry_reference", "leaderboard_entry")
    op.drop_column("leaderboard_entry", "payload")
