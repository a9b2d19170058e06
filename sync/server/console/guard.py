"""Who is asking the console, and whether they may: the session cookie, CSRF and Origin on every change, roles;
and the page renderer every console route uses (Jinja2, autoescaped, with the console's words and headers)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..channels import Refused
from ..db import Database
from .records import ConsoleRecords
from .sessions import COOKIE, PRE_COOKIE, csrf_ok, csrf_token, ended_by_time, parse_cookie, same_origin, secret_matches
from player.problem_texts import problem_text

from .forms import ICONS, WEEKDAYS
from .planning import break_marks
from .texts import LANGUAGES, WORDS, say

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "kiosk_console_lang"
FORM_LIMIT = 1024 * 1024
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                          trim_blocks=True, lstrip_blocks=True)
environment.globals.update(weekdays=WEEKDAYS, icons=list(ICONS), words=WORDS, marks=break_marks,
                           language_names={"vi": "Tiếng Việt", "en": "English", "km": "ភាសាខ្មែរ", "zh": "中文"})


@dataclass(frozen=True)
class Staffer:
    """A signed-in staff member, as a console route sees them."""

    name: str
    channels: tuple[str, ...]
    admin: bool
    session: str  # the session's id
    csrf: str

    def may(self, channel: str) -> bool:
        return self.admin or "*" in self.channels or channel in self.channels


class NeedLogin(Exception):
    """No live session: a page sends the browser to the log-in form (saying why), a fetch gets 401."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def records(request: Request) -> ConsoleRecords:
    return request.app.state.console  # type: ignore[no-any-return]


def database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "vi")
    return chosen if chosen in LANGUAGES else "vi"


def _scheme(request: Request) -> str:
    return "https" if request.app.state.settings.tls_cert else request.url.scheme


async def signed_in(request: Request) -> Staffer:
    """The staff member whose session cookie this is, or NeedLogin (none, unknown, ended, idle or expired)."""
    presented = parse_cookie(request.cookies.get(COOKIE))
    if presented is None:
        raise NeedLogin("login-needed")
    rows = records(request)
    session = await database(request).run(rows.session, presented.id)
    if session is None or not secret_matches(presented, session.secret_hash):
        raise NeedLogin("login-needed")
    now = time.time()
    if session.ended:
        raise NeedLogin("session-ended")
    why = ended_by_time(session.created, session.seen, now)
    if why:
        await database(request).run(rows.end_session, session.id, why)
        raise NeedLogin(f"session-{why}")
    who = await database(request).run(rows.staff_row, session.name)
    if who is None:
        await database(request).run(rows.end_session, session.id, "revoked")
        raise NeedLogin("session-ended")
    await database(request).run(rows.touch_session, session.id, now)
    return Staffer(who["name"], who["channels"], who["admin"], session.id, csrf_token(presented.secret))


async def admin(request: Request) -> Staffer:
    who = await signed_in(request)
    if not who.admin:
        raise Refused(403, say("admin-only", language(request)))
    return who


def may(who: Staffer, channel: str, request: Request) -> None:
    if not who.may(channel):
        raise Refused(403, say("channel-not-yours", language(request)).format(channel=channel))


def check_origin(request: Request) -> None:
    """A change (POST, PUT, DELETE) must come from a page of this server."""
    if not same_origin(request.headers.get("origin"), request.headers.get("referer"), request.headers.get("host"),
                       _scheme(request)):
        raise Refused(403, say("foreign-origin", language(request)))


async def read_form(request: Request, secret: str | None = None) -> dict[str, list[str]]:
    """The posted form (application/x-www-form-urlencoded), after the Origin and CSRF checks; `secret` is the
    pre-log-in cookie's for the log-in forms, else the session's token is checked (a signed-in route)."""
    check_origin(request)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            raise Refused(413, say("form-too-large", language(request)))
    form: dict[str, list[str]] = {}
    for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(key, []).append(value.replace("\r\n", "\n"))
    token = (form.get("csrf") or [request.headers.get("x-csrf-token", "")])[0]
    if secret is not None:
        if not csrf_ok(secret, token):
            raise Refused(403, say("csrf-missing", language(request)))
    else:
        who = await signed_in(request)
        if not token or token != who.csrf:
            raise Refused(403, say("csrf-missing", language(request)))
    return form


async def checked_change(request: Request) -> Staffer:
    """For a change without a form body (a chunk upload, a fetch): Origin and the X-CSRF-Token header."""
    check_origin(request)
    who = await signed_in(request)
    if request.headers.get("x-csrf-token") != who.csrf:
        raise Refused(403, say("csrf-missing", language(request)))
    return who


def pre_secret(request: Request) -> str | None:
    return request.cookies.get(PRE_COOKIE)


def render(request: Request, template: str, who: Staffer | None = None, status: int = 200, **context: Any) -> Response:
    lang = language(request)
    host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
    secure = _scheme(request) == "https" or host in ("localhost", "127.0.0.1", "::1")
    body = environment.get_template(template).render(
        t=lambda key, **values: say(key, lang).format(**values) if values else say(key, lang), lang=lang, me=who,
        csrf=who.csrf if who else "", path=request.url.path, here=quote(str(request.url.path)), secure=secure,
        problem_words=lambda problem: problem_text(problem, lang), **context)
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers=HEADERS)


def field(form: dict[str, list[str]], key: str, default: str = "") -> str:
    return (form.get(key) or [default])[0]
