"""The staff status page (pure): one HTML document listing every screen, its state and its latest screenshot."""

from __future__ import annotations

from datetime import datetime
from html import escape

from .monitor import ScreenStatus

STYLE = """
body{font-family:'Noto Sans',sans-serif;margin:1.5em;background:#f4f6f8;color:#17202a}
h1{font-size:1.4em} table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #d5dbe0;padding:.5em;text-align:left;vertical-align:top;font-size:.95em}
.ok{color:#0b6b2b;font-weight:bold} .off{color:#a40e0e;font-weight:bold} .flag{background:#fff2c6}
img{width:320px;border:1px solid #8895a0} .muted{color:#5d6d7e}
"""


def status_page(rows: list[ScreenStatus], now: datetime) -> str:
    """The page at `now` (aware, in the zone staff read times in)."""
    online = sum(1 for r in rows if r.online)
    flagged = sum(1 for r in rows if r.flag)
    body = "".join(_row(r, now) for r in rows) or '<tr><td colspan="7" class="muted">no screens yet</td></tr>'
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30">
<title>Tịnh Biên screens</title><style>{STYLE}</style></head><body>
<h1>Tịnh Biên screens: {online} of {len(rows)} online, {flagged} flagged</h1>
<p class="muted">as of {now:%Y-%m-%d %H:%M:%S} ({escape(str(now.tzinfo))}); this page reloads every 30 s</p>
<table><tr><th>screen</th><th>state</th><th>playing</th><th>screen health</th><th>software</th><th>last error</th>
<th>screenshot</th></tr>
{body}</table></body></html>"""


def _row(r: ScreenStatus, now: datetime) -> str:
    beat = r.heartbeat or {}
    state = '<span class="ok">online</span>' if r.online else '<span class="off">offline</span>'
    if r.revoked:
        state = '<span class="muted">revoked</span>'
    seen = f"last seen {_when(r.last_seen, now)}" if r.last_seen else "never seen"
    flag = f"<br><b>{escape(r.flag)}</b>" if r.flag else ""
    item = "the fallback slide" if beat.get("item") == "_fallback" else str(beat.get("item") or "–")
    playing = (f"{escape(item)}<br><span class=muted>generation {beat.get('generation', '–')}, "
               f"{escape(str(beat.get('playlist') or ''))}</span>")
    health = (f"up {_duration(beat.get('uptime'))}<br>"
              f"free disk {_number(beat.get('free_disk_mb'), 'MB')}<br>clock {_offset(beat.get('clock_offset_s'))}"
              f"{_playback(beat)}")
    shot = (f'<img src="/api/screens/{escape(r.id)}/screenshot" alt="screenshot of {escape(r.id)}" loading="lazy">'
            f"<br><span class=muted>{_when(r.screenshot_at, now)}</span>") if r.screenshot_at else "<span class=muted>none yet</span>"
    css = ' class="flag"' if r.flag else ""
    software = _software(beat)
    return (f"<tr{css}><td><b>{escape(r.id)}</b><br><span class=muted>{escape(r.channel)}</span></td>"
            f"<td>{state}<br><span class=muted>{seen}</span>{flag}</td><td>{playing}</td><td>{health}</td><td>{software}</td>"
            f"<td>{escape(str(beat.get('last_error') or '–'))}</td><td>{shot}</td></tr>\n")


def _software(beat: dict[str, object]) -> str:
    """Version, update state (with its reason) and rollbacks, as the screen's heartbeat reports them."""
    if not beat.get("software_channel"):
        return f"version {escape(str(beat.get('version', '–')))}<br><span class=muted>no software updates</span>"
    state = str(beat.get("update_state") or "idle")
    reason = f"<br><span class=muted>{escape(str(beat.get('update_reason')))}</span>" if beat.get("update_reason") else ""
    rollbacks = beat.get("rollbacks") or 0
    back = f"<br><b>{rollbacks} rollback{'s' if rollbacks != 1 else ''}</b>" if rollbacks else "<br>no rollbacks"
    return (f"version {escape(str(beat.get('version', '–')))} ({escape(str(beat.get('software_channel')))})"
            f"<br>{escape(state)}{reason}<br><span class=muted>release sequence seen "
            f"{escape(str(beat.get('release_sequence', '–')))}</span>{back}")


def _playback(beat: dict[str, object]) -> str:
    """Skipped slots with the files broken now, and the video frames dropped in the last hour, when there are any."""
    out = ""
    skips, broken = beat.get("skips"), beat.get("broken")
    if isinstance(skips, int) and skips:
        out += f"<br>skipped {skips} slot(s)"
        for entry in broken if isinstance(broken, list) else []:
            out += f"<br><span class=muted>broken: {escape(str(entry))}</span>"
    shown, dropped = beat.get("frames_shown_hour"), beat.get("frames_dropped_hour")
    if isinstance(shown, int) and isinstance(dropped, int) and shown + dropped:
        out += f"<br>video frames dropped {100 * dropped / (shown + dropped):.1f} % (last hour)"
    return out


def _when(iso: str | None, now: datetime) -> str:
    """An ISO time as staff read it: local clock time and how long ago."""
    if not iso:
        return ""
    when = datetime.fromisoformat(iso).astimezone(now.tzinfo)
    ago = max(0, int((now - when).total_seconds()))
    span = f"{ago} s" if ago < 120 else f"{ago // 60} min" if ago < 7200 else f"{ago // 3600} h" if ago < 172800 \
        else f"{ago // 86400} days"
    day = "" if when.date() == now.date() else f"{when:%Y-%m-%d} "
    return escape(f"{day}{when:%H:%M:%S} ({span} ago)")


def _duration(seconds: object) -> str:
    if not isinstance(seconds, (int, float)):
        return "–"
    days, rest = divmod(int(seconds), 86400)
    return f"{days} d {rest // 3600} h" if days else f"{rest // 3600} h {rest % 3600 // 60} min"


def _number(value: object, unit: str) -> str:
    return f"{value:,.0f} {unit}" if isinstance(value, (int, float)) else "–"


def _offset(value: object) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    return "in step" if abs(value) < 2 else f"{value:+.0f} s off the server"
