"""The staff console's records: passwords and their set-password links, log-in sessions and lock-outs, drafts and
their files, media facts, channel profiles, each screen's last errors, and the days staff check on the timeline.

Sessions and links keep only a hash of their secret, as tokens do; drafts hold
the playlist files staff are editing (media are blobs, named by hash).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table("staff_passwords", sa.Column("name", sa.Text, primary_key=True),
                    sa.Column("hash", sa.Text, nullable=False), sa.Column("changed", sa.Text, nullable=False))
    op.create_table("password_links", sa.Column("id", sa.Text, primary_key=True), sa.Column("name", sa.Text, nullable=False),
                    sa.Column("secret_hash", sa.Text, nullable=False), sa.Column("expires", sa.Float, nullable=False),
                    sa.Column("used", sa.Text))
    op.create_table("console_sessions", sa.Column("id", sa.Text, primary_key=True),
                    sa.Column("secret_hash", sa.Text, nullable=False), sa.Column("name", sa.Text, nullable=False),
                    sa.Column("created", sa.Float, nullable=False), sa.Column("seen", sa.Float, nullable=False),
                    sa.Column("ended", sa.Text))
    op.create_index("console_sessions_name", "console_sessions", ["name"])
    op.create_table("login_failures", sa.Column("name", sa.Text, primary_key=True),
                    sa.Column("failures", sa.Integer, nullable=False), sa.Column("locked_until", sa.Float, nullable=False))
    op.create_table("drafts", sa.Column("channel", sa.Text, nullable=False), sa.Column("staff", sa.Text, nullable=False),
                    sa.Column("base_generation", sa.Integer, nullable=False), sa.Column("opened", sa.Text, nullable=False),
                    sa.Column("marks", sa.Text, nullable=False, server_default="{}"),
                    sa.PrimaryKeyConstraint("channel", "staff"))
    op.create_table("draft_files", sa.Column("channel", sa.Text, nullable=False), sa.Column("staff", sa.Text, nullable=False),
                    sa.Column("path", sa.Text, nullable=False), sa.Column("data", sa.LargeBinary),
                    sa.Column("sha256", sa.Text, nullable=False), sa.Column("size", sa.BigInteger, nullable=False),
                    sa.Column("base_sha256", sa.Text), sa.PrimaryKeyConstraint("channel", "staff", "path"))
    op.create_table("media_info", sa.Column("sha256", sa.Text, primary_key=True), sa.Column("info", sa.Text, nullable=False))
    op.create_table("channel_profiles", sa.Column("channel", sa.Text, primary_key=True),
                    sa.Column("data", sa.LargeBinary, nullable=False), sa.Column("uploaded", sa.Text, nullable=False),
                    sa.Column("uploaded_by", sa.Text, nullable=False))
    op.create_table("screen_errors", sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("screen", sa.Text, nullable=False), sa.Column("time", sa.Text, nullable=False),
                    sa.Column("message", sa.Text, nullable=False), sqlite_autoincrement=True)
    op.create_index("screen_errors_screen", "screen_errors", ["screen", "seq"])
    op.create_table("timeline_days", sa.Column("channel", sa.Text, nullable=False), sa.Column("day", sa.Text, nullable=False),
                    sa.Column("name", sa.Text, nullable=False), sa.Column("added_by", sa.Text, nullable=False),
                    sa.PrimaryKeyConstraint("channel", "day"))


def downgrade() -> None:
    op.drop_index("screen_errors_screen", "screen_errors")
    op.drop_index("console_sessions_name", "console_sessions")
    for table in ("timeline_days", "screen_errors", "channel_profiles", "media_info", "draft_files", "drafts", "login_failures",
                  "console_sessions", "password_links", "staff_passwords"):
        op.drop_table(table)
