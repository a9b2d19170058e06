"""Software channels (issue 16): each with the root key that signs its releasers list, the releases published
on it (the signed envelopes, halted or not) and the screens that rolled a release back.

The served release and releasers documents live in the documents table like a content channel's, under the
names software/release and software/releasers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table("software", sa.Column("name", sa.Text, primary_key=True),
                    sa.Column("root_key", sa.Text, nullable=False), sa.Column("created", sa.Text, nullable=False))
    op.create_table("releases", sa.Column("channel", sa.Text, nullable=False),
                    sa.Column("sequence", sa.Integer, nullable=False), sa.Column("version", sa.Text, nullable=False),
                    sa.Column("envelope", sa.LargeBinary, nullable=False), sa.Column("published", sa.Text, nullable=False),
                    sa.Column("halted", sa.Text), sa.PrimaryKeyConstraint("channel", "sequence"))
    op.create_table("rollbacks", sa.Column("channel", sa.Text, nullable=False),
                    sa.Column("sequence", sa.Integer, nullable=False), sa.Column("screen", sa.Text, nullable=False),
                    sa.Column("version", sa.Text), sa.Column("reason", sa.Text, nullable=False),
                    sa.Column("time", sa.Text, nullable=False), sa.PrimaryKeyConstraint("channel", "sequence", "screen"))


def downgrade() -> None:
    op.drop_table("rollbacks")
    op.drop_table("releases")
    op.drop_table("software")
