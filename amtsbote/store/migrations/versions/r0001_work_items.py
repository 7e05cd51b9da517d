"""Work items, their encrypted payloads and their history.

Revision ID: 0001
Revises:
Create Date: 2026-05-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("process", sa.String(100), nullable=False),
        sa.Column("item_key", sa.String(200), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error_code", sa.String(200)),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("deadline", _Time),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("lease_until", _Time),
        sa.Column("claimed_from", sa.String(32)),
        sa.Column("refs", sa.JSON, nullable=False),
        sa.Column("human_run", sa.String(100)),
        sa.Column("created_at", _Time, nullable=False),
        sa.Column("updated_at", _Time, nullable=False),
        sa.Column("ended_at", _Time),
        sa.UniqueConstraint("tenant", "process", "item_key", name="uq_work_items_key"),
    )
    op.create_index("ix_work_items_queue", "work_items", ["tenant", "process", "state", "priority"])
    op.create_index("ix_work_items_claimed_by", "work_items", ["claimed_by"])
    op.create_index("ix_work_items_ended_at", "work_items", ["ended_at"])
    op.create_table(
        "work_item_payloads",
        sa.Column("item_id", _Id, sa.ForeignKey("work_items.id"), primary_key=True),
        sa.Column("token", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "work_item_history",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("item_id", _Id, sa.ForeignKey("work_items.id"), nullable=False),
        sa.Column("at", _Time, nullable=False),
        sa.Column("from_state", sa.String(32)),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("worker", sa.String(200)),
        sa.Column("error_code", sa.String(200)),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_work_item_history_item", "work_item_history", ["item_id"])


def downgrade() -> None:
    op.drop_table("work_item_history")
    op.drop_table("work_item_payloads")
    op.drop_table("work_items")
