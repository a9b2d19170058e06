"""The server's tables as SQLAlchemy Core sees them at the newest migration (migrations/ makes them so)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

metadata = MetaData()

channels = Table(
    "channels", metadata,
    Column("name", Text, primary_key=True), Column("root_key", Text, nullable=False),
    Column("created", Text, nullable=False))

staff = Table(
    "staff", metadata,
    Column("name", Text, primary_key=True), Column("token_id", Text, unique=True), Column("token_hash", Text),
    Column("channels", Text, nullable=False), Column("admin", Integer, nullable=False, server_default="0"),
    Column("created", Text, nullable=False), Column("revoked", Text))

screens = Table(
    "screens", metadata,
    Column("id", Text, primary_key=True), Column("channel", Text, nullable=False), Column("token_id", Text, unique=True),
    Column("token_hash", Text), Column("offline_after", Float), Column("created", Text, nullable=False),
    Column("revoked", Text), Column("last_seen", Float), Column("heartbeat", Text), Column("screenshot_at", Float),
    Column("screenshot_wanted", Integer, nullable=False, server_default="0"), Column("flagged", Text))

audit = Table(
    "audit", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True), Column("time", Text, nullable=False),
    Column("actor", Text, nullable=False), Column("action", Text, nullable=False), Column("channel", Text),
    Column("detail", Text, nullable=False),
    Index("audit_action", "action", "channel"))

proof = Table(
    "proof", metadata,
    Column("screen", Text, nullable=False), Column("id", Text, nullable=False), Column("start", Text, nullable=False),
    Column("item", Text, nullable=False), Column("playlist", Text, nullable=False), Column("language", Text, nullable=False),
    Column("planned", Float), Column("actual", Float, nullable=False), Column("status", Text, nullable=False),
    Column("reason", Text, nullable=False), Column("received", Text, nullable=False),
    PrimaryKeyConstraint("screen", "id"),
    Index("proof_start", "start"), Index("proof_screen_start", "screen", "start"))

notices = Table(
    "notices", metadata,
    Column("id", Text, primary_key=True), Column("envelope", LargeBinary, nullable=False),
    Column("channels", Text, nullable=False), Column("expires", Text, nullable=False),
    Column("posted_by", Text, nullable=False), Column("posted", Text, nullable=False), Column("cleared", Text))

# The signed documents screens read: the source of truth, mirrored to content/channels/<channel>/<name>.
documents = Table(
    "documents", metadata,
    Column("channel", Text, nullable=False), Column("name", Text, nullable=False),
    Column("data", LargeBinary, nullable=False), Column("changed", Text, nullable=False),
    PrimaryKeyConstraint("channel", "name"))

# Software channels (issue 16): the root key of each, the releases published and the screens that rolled one back.
software = Table(
    "software", metadata,
    Column("name", Text, primary_key=True), Column("root_key", Text, nullable=False),
    Column("created", Text, nullable=False))

releases = Table(
    "releases", metadata,
    Column("channel", Text, nullable=False), Column("sequence", Integer, nullable=False),
    Column("version", Text, nullable=False), Column("envelope", LargeBinary, nullable=False),
    Column("published", Text, nullable=False), Column("halted", Text),
    PrimaryKeyConstraint("channel", "sequence"))

rollbacks = Table(
    "rollbacks", metadata,
    Column("channel", Text, nullable=False), Column("sequence", Integer, nullable=False),
    Column("screen", Text, nullable=False), Column("version", Text), Column("reason", Text, nullable=False),
    Column("time", Text, nullable=False),
    PrimaryKeyConstraint("channel", "sequence", "screen"))

# The staff console's (migration 0004): secrets are kept as hashes only, as for tokens.
staff_passwords = Table(
    "staff_passwords", metadata,
    Column("name", Text, primary_key=True), Column("hash", Text, nullable=False), Column("changed", Text, nullable=False))

password_links = Table(
    "password_links", metadata,
    Column("id", Text, primary_key=True), Column("name", Text, nullable=False), Column("secret_hash", Text, nullable=False),
    Column("expires", Float, nullable=False), Column("used", Text))

console_sessions = Table(
    "console_sessions", metadata,
    Column("id", Text, primary_key=True), Column("secret_hash", Text, nullable=False), Column("name", Text, nullable=False),
    Column("created", Float, nullable=False), Column("seen", Float, nullable=False), Column("ended", Text),
    Index("console_sessions_name", "name"))

login_failures = Table(
    "login_failures", metadata,
    Column("name", Text, primary_key=True), Column("failures", Integer, nullable=False),
    Column("locked_until", Float, nullable=False))

drafts = Table(
    "drafts", metadata,
    Column("channel", Text, nullable=False), Column("staff", Text, nullable=False),
    Column("base_generation", Integer, nullable=False), Column("opened", Text, nullable=False),
    Column("marks", Text, nullable=False, server_default="{}"),
    PrimaryKeyConstraint("channel", "staff"))

draft_files = Table(
    "draft_files", metadata,
    Column("channel", Text, nullable=False), Column("staff", Text, nullable=False), Column("path", Text, nullable=False),
    Column("data", LargeBinary), Column("sha256", Text, nullable=False), Column("size", BigInteger, nullable=False),
    Column("base_sha256", Text),
    PrimaryKeyConstraint("channel", "staff", "path"))

media_info = Table(
    "media_info", metadata,
    Column("sha256", Text, primary_key=True), Column("info", Text, nullable=False))

channel_profiles = Table(
    "channel_profiles", metadata,
    Column("channel", Text, primary_key=True), Column("data", LargeBinary, nullable=False),
    Column("uploaded", Text, nullable=False), Column("uploaded_by", Text, nullable=False))

screen_errors = Table(
    "screen_errors", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True), Column("screen", Text, nullable=False),
    Column("time", Text, nullable=False), Column("message", Text, nullable=False),
    Index("screen_errors_screen", "screen", "seq"))

# days staff keep for the timeline (a festival, a holiday with its own schedule), per channel
timeline_days = Table(
    "timeline_days", metadata,
    Column("channel", Text, nullable=False), Column("day", Text, nullable=False), Column("name", Text, nullable=False),
    Column("added_by", Text, nullable=False),
    PrimaryKeyConstraint("channel", "day"))

# in the order export and import take them
TABLES = (channels, staff, screens, audit, proof, notices, documents, software, releases, rollbacks, staff_passwords,
          password_links, console_sessions, login_failures, drafts, draft_files, media_info, channel_profiles,
          screen_errors, timeline_days)

