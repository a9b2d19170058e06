"""The server's tables as SQLAlchemy Core sees them at the newest migration (migrations/ makes them so)."""

from __future__ import annotations

from sqlalchemy import (
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

# in the order export and import take them
TABLES = (channels, staff, screens, audit, proof, notices, documents, software, releases, rollbacks)
