"""Channel documents (manifest, publishers, notices) kept in the database, the source of truth for every server
process; proof of play indexed by screen and start for exports at fleet scale; publishes found fast in the audit log.

The documents already on disk are copied in at the next start (sync.server.channels), not here: a migration
sees only the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table("documents", sa.Column("channel", sa.Text, nullable=False), sa.Column("name", sa.Text, nullable=False),
                    sa.Column("data", sa.LargeBinary, nullable=False), sa.Column("changed", sa.Text, nullable=False),
                    sa.PrimaryKeyConstraint("channel", "name"))
    op.create_index("proof_screen_start", "proof", ["screen", "start"])
    op.create_index("audit_action", "audit", ["action", "channel"])


def downgrade() -> None:
    op.drop_index("audit_action", "audit")
    op.drop_index("proof_screen_start", "proof")
    op.drop_table("documents")
