"""The screen's urgent notices: long-poll the channel's notices, verify each, keep this screen's live ones on disk.

The player reads STORE/notices.json at least twice a second and shows what it holds
over everything. Only notices whose signature verifies against the channel's
publisher list (itself signed by the root key) are written; the file survives a
restart, and expired notices are dropped by the player's own clock.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .client import Source, check_publishers
from .envelope import open_sealed
from .errors import FetchError, SyncError
from .notice import Notice, parse_notice, read_notices_document
from .layout import write_atomic
from .store import Store, disk_error

log = logging.getLogger(__name__)

def notice_record(notice: Notice) -> dict[str, object]:
    return {"id": notice.id, "level": notice.level, "texts": dict(notice.texts),
            "created": notice.created.isoformat(), "expires": notice.expires.isoformat()}


def verified_notices(document: bytes, store: Store, source: Source, root: Ed25519PublicKey, channel: str,
                     screen: str, now: datetime) -> list[Notice]:
    """The notices in `document` signed by a current publisher of `channel`, for this screen, not expired."""
    try:  # fetched each time (small, and rare): a publisher added or revoked since the last manifest counts
        publishers: bytes | None = source.get("publishers", None)[0]
    except FetchError:
        publishers = store.publishers()
    if publishers is None:
        raise FetchError("no publisher list yet to check notices against")
    plist = check_publishers(store, publishers, root, channel)
    out = []
    for envelope in read_notices_document(document):
        try:
            _, payload = open_sealed(envelope, "notice", plist.key)
            notice = parse_notice(payload)
        except SyncError as exc:
            log.error("notice refused: %s", exc)
            continue
        if notice.for_screen(channel, screen) and notice.expires > now:
            out.append(notice)
    return out


def write_notices(store: Store, notices: list[Notice]) -> None:
    data = json.dumps({"format": 1, "notices": [notice_record(n) for n in notices]}, ensure_ascii=False, indent=1)
    try:
        write_atomic(store.files.notices, data.encode("utf-8"))
    except OSError as exc:
        raise disk_error(exc, f"writing {store.files.notices.name}") from None


def follow_notices(source: Source, store: Store, root: Ed25519PublicKey, channel: str, screen: str,
                   clock: Callable[[], datetime], stop: threading.Event, retry: float = 10.0) -> None:
    """Until `stop`: wait for the channel's notices to change, then rewrite notices.json with the verified ones."""
    etag: str | None = None
    failures = 0
    while not stop.is_set():
        try:
            document, etag_now = source.get("notices", etag)
            if document is not None:
                notices = verified_notices(document, store, source, root, channel, screen, clock())
                write_notices(store, notices)
                etag = etag_now
                log.info("notices: %d live for this screen%s", len(notices),
                         "".join(f"; {n.level} {n.id} until {n.expires.isoformat()}" for n in notices))
            failures = 0
            if not getattr(source, "long_poll", False):
                stop.wait(retry)
        except FetchError as exc:
            failures += 1
            if "not found" in str(exc):  # a static host without notices: nothing to show, look again later
                stop.wait(retry * 6)
                continue
            if failures in (1, 10) or failures % 100 == 0:
                log.warning("notices: %s (%d in a row); the last ones received stay on screen until they expire",
                            exc, failures)
            stop.wait(min(retry * failures, 120.0))
        except SyncError as exc:
            log.error("notices: %s", exc)
            stop.wait(retry)
        except Exception:  # whatever a server sends, the notices already on screen stay and the next poll comes
            log.exception("notices: unexpected error")
            stop.wait(retry)


def read_notice_file(path: Path) -> list[dict[str, object]]:
    """The notices the sync client kept (for `player status`); empty when there are none or the file is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [n for n in data.get("notices", []) if isinstance(n, dict)]
    except (OSError, ValueError, AttributeError):
        return []
