"""How tests/data/server-v0/server.db was made, once, with the server code of commit 2b650f1 (the schema before
numbered migrations). Kept as it ran; it needs that code: git worktree add /tmp/v0 2b650f1 && cd /tmp/v0 &&
python PATH/make.py server.db (the fixture the migration tests upgrade)."""
import json, sys
from pathlib import Path
from datetime import datetime, timedelta, timezone
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sync.keys import public_text
from sync.notice import build_notice
from sync.upload import seal_notice
from sync.server.db import Database
from sync.server.tokens import NewToken, hash_secret

out = Path(sys.argv[1])
db = Database(out)
root = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
pub = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
stamp = "2026-11-20T08:00:00+07:00"
db.add_channel("gate", public_text(root.public_key()), stamp)
db.add_channel("hall", public_text(root.public_key()), stamp)
def tok(kind, tid, secret):
    return NewToken(kind, tid, hash_secret(secret), f"{kind}.{tid}.{secret}")
# Tokens with known secrets, so the test can log in with them after the upgrade.
db.add_staff("lan", ["*"], True, tok("staff", "lanlanlanlan", "L" * 43), stamp)
db.add_staff("minh", ["gate"], False, tok("staff", "minhminhminh", "M" * 43), stamp)
db.add_staff("old", ["hall"], False, tok("staff", "oldoldoldold", "O" * 43), stamp)
db.revoke_staff("old", stamp)
db.add_screen("gate-1", "gate", tok("screen", "gate1gate1ga", "G" * 43), None, stamp)
db.add_screen("gate-2", "gate", tok("screen", "gate2gate2ga", "H" * 43), 600.0, stamp)
db.add_screen("hall-1", "hall", tok("screen", "hall1hall1ha", "K" * 43), None, stamp)
db.heartbeat("gate-1", 1795660800.0, {"version": "0.1.0", "generation": 3, "item": "hours", "playlist": "daytime",
                                       "uptime": 120.0, "clock": stamp, "fallback": False, "clock_offset_s": 0.4})
db.want_screenshot("gate-2")
db.screenshot_taken("gate-1", 1795660810.0)
db.set_flag("hall-1", "silent for 30 min (more than 3 min)")
db.revoke_screen("hall-1", stamp)
for i in range(1, 4):
    db.audit(stamp, "lan", "publish", "gate", {"generation": i, "files": 2, "bytes": 10, "signed_by": "abc", "previous": i - 1})
db.audit(stamp, "server admin", "staff token", None, {"name": "minh", "channels": ["gate"], "admin": False})
lines = [{"id": f"line-{i:06d}", "start": f"2026-11-{20 + i % 5}T09:{i % 60:02d}:00+07:00", "item": "hours",
          "playlist": "daytime", "language": "vi", "planned": 10.0, "actual": 10.0 - i % 3, "status": "played",
          "reason": ""} for i in range(50)]
db.add_proof("gate-1", lines, stamp)
now = datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)
made = build_notice("notice-0001", "urgent", [("vi", "Cổng tạm đóng"), ("en", "Gate closed")], ["gate"], [], now,
                    now + timedelta(days=14))
env = seal_notice(made, pub)
db.add_notice("notice-0001", env, ["gate"], made.expires.isoformat(), "lan", stamp)
made2 = build_notice("notice-0002", "info", [("vi", "Giờ mở cửa")], ["gate", "hall"], [], now, now + timedelta(hours=2))
db.add_notice("notice-0002", seal_notice(made2, pub), ["gate", "hall"], made2.expires.isoformat(), "lan", stamp)
db.clear_notice("notice-0002", stamp)
db.close()
