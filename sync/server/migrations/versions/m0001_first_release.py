"""The schema of the first release (before numbered migrations): channels, staff, screens, audit, proof, notices.

A database made by that release already has these tables; it is stamped at this
version without running it (sync.server.migrate), and upgraded from here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table("channels", sa.Column("name", sa.Text, primary_key=True),
                    sa.Column("root_key", sa.Text, nullable=False), sa.Column("created", sa.Text, nullable=False))
    op.create_table("staff", sa.Column("name", sa.Text, primary_key=True), sa.Column("token_id", sa.Text, unique=True),
                    sa.Column("token_hash", sa.Text), sa.Column("channels", sa.Text, nullable=False),
                    sa.Column("admin", sa.Integer, nullable=False, server_default="0"),
                    sa.Column("created", sa.Text, nullable=False), sa.Column("revoked", sa.Text))
    op.create_table("screens", sa.Column("id", sa.Text, primary_key=True), sa.Column("channel", sa.Text, nullable=False),
                    sa.Column("token_id", sa.Text, unique=True), sa.Column("token_hash", sa.Text),
                    sa.Column("offline_after", sa.Float), sa.Column("created", sa.Text, nullable=False),
                    sa.Column("revoked", sa.Text), sa.Column("last_seen", sa.Float), sa.Column("heartbeat", sa.Text),
                    sa.Column("screenshot_at", sa.Float),
                    sa.Column("screenshot_wanted", sa.Integer, nullable=False, server_default="0"),
                    sa.Column("flagged", sa.Text))
    op.create_table("audit", sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("time", sa.Text, nullable=False), sa.Column("actor", sa.Text, nullable=False),
                    sa.Column("action", sa.Text, nullable=False), sa.Column("channel", sa.Text),
                    sa.Column("detail", sa.Text, nullable=False), sqlite_autoincrement=True)
    op.create_table("proof", sa.Column("screen", sa.Text, nullable=False), sa.Column("id", sa.Text, nullable=False),
                    sa.Column("start", sa.Text, nullable=False), sa.Column("item", sa.Text, nullable=False),
                    sa.Column("playlist", sa.Text, nullable=False), sa.Column("language", sa.Text, nullable=False),
                    sa.Column("planned", sa.Float), sa.Column("actual", sa.Float, nullable=False),
                    sa.Column("status", sa.Text, nullable=False), sa.Column("reason", sa.Text, nullable=False),
                    sa.Column("received", sa.Text, nullable=False), sa.PrimaryKeyConstraint("screen", "id"))
    op.create_index("proof_start", "proof", ["start"])
    op.create_table("notices", sa.Column("id", sa.Text, primary_key=True),
                    sa.Column("envelope", sa.LargeBinary, nullable=False), sa.Column("channels", sa.Text, nullable=False),
                    sa.Column("expires", sa.Text, nullable=False), sa.Column("posted_by", sa.Text, nullable=False),
                    sa.Column("posted", sa.Text, nullable=False), sa.Column("cleared", sa.Text))


def downgrade() -> None:
    for table in ("notices", "proof", "audit", "screens", "staff", "channels"):
        op.drop_table(table)
