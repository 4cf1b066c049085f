"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 23:53:00.432119
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=512), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("revision", sa.String(length=128), nullable=False),
        sa.Column("commit_sha", sa.String(length=128), nullable=True),
        sa.Column("precision", sa.String(length=16), nullable=False),
        sa.Column("weight_type", sa.String(length=16), nullable=False),
        sa.Column("base_model", sa.String(length=512), nullable=True),
        sa.Column("model_type", sa.String(length=32), nullable=False),
        sa.Column("params_b", sa.Float(), nullable=True),
        sa.Column("licence", sa.String(length=128), nullable=True),
        sa.Column("use_chat_template", sa.Boolean(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model")),
        sa.UniqueConstraint(
            "reference",
            "revision",
            "precision",
            "weight_type",
            "base_model",
            name=op.f("uq_model_reference_revision_precision_weight_type_base_model"),
        ),
    )
    op.create_table(
        "eval_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("suite", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("current_task", sa.String(length=128), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("log_tail", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("artifacts_path", sa.String(length=1024), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"], ["model.id"], name=op.f("fk_eval_request_model_id_model"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_request")),
    )
    with op.batch_alter_table("eval_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eval_request_model_id"), ["model_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_eval_request_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_eval_request_suite"), ["suite"], unique=False)
        batch_op.create_index(
            "uq_eval_request_active",
            ["model_id", "suite"],
            unique=True,
            sqlite_where=sa.text("status IN ('PENDING', 'RUNNING')"),
            postgresql_where=sa.text("status IN ('PENDING', 'RUNNING')"),
        )

    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(), nullable=False),
        sa.Column("locked_by", sa.String(length=128), nullable=True),
        sa.Column("locked_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["eval_request.id"],
            name=op.f("fk_job_request_id_eval_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index("ix_job_claimable", ["status", "priority", "run_after"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_request_id"), ["request_id"], unique=False)

    op.create_table(
        "result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("benchmark", sa.String(length=64), nullable=False),
        sa.Column("task", sa.String(length=128), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("stderr", sa.Float(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["eval_request.id"],
            name=op.f("fk_result_request_id_eval_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result")),
        sa.UniqueConstraint("request_id", "task", "metric", name=op.f("uq_result_request_id_task_metric")),
    )
    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_result_request_id"), ["request_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_result_request_id"))

    op.drop_table("result")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_request_id"))
        batch_op.drop_index("ix_job_claimable")

    op.drop_table("job")
    with op.batch_alter_table("eval_request", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_eval_request_active",
            sqlite_where=sa.text("status IN ('PENDING', 'RUNNING')"),
            postgresql_where=sa.text("status IN ('PENDING', 'RUNNING')"),
        )
        batch_op.drop_index(batch_op.f("ix_eval_request_suite"))
        batch_op.drop_index(batch_op.f("ix_eval_request_status"))
        batch_op.drop_index(batch_op.f("ix_eval_request_model_id"))

    op.drop_table("eval_request")
    op.drop_table("model")
