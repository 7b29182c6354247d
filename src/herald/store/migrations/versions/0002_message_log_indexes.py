"""message log indexes: page a campaign's messages by id, filter by error code

Revision ID: 0002_message_log_indexes
Revises: 0001
Create Date: 2026-11-26 23:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_message_log_indexes"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_campaign_log", ["campaign_id", "id"], unique=False)
        batch_op.create_index(
            "ix_messages_campaign_error",
            ["campaign_id", "error_code", "id"],
            unique=False,
            sqlite_where=sa.text("error_code IS NOT NULL"),
            postgresql_where=sa.text("error_code IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_campaign_error")
        batch_op.drop_index("ix_messages_campaign_log")
