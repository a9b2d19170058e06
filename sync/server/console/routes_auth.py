"""Log-in, log-out, set-password links and the language switch."""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..db import add_audit
from .guard import (LANG_COOKIE, NeedLogin, database, field, language, read_form, records, redirect, render,
                    signed_in)
from .passwords import check_password, hash_password, link_matches, lock_seconds, parse_link, weak
from .sessions import COOKIE, PRE_COOKIE, csrf_token, make_session, new_pre_secret
from .texts import LANGUAGES, say

router = APIRouter()


def stamp() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _safe_next(value: str) -> str:
    """Only a console page of this server: never another site after log-in."""
    return value if value.startswith("/console/") and not value.startswith("//") and "\\" not in value else "/console/"


def _login_page(request: Request, status: int = 200, name: str = "", next_page: str = "/console/",
                problem: str | None = None, notice: str | None = None) -> Response:
    secret = request.cookies.get(PRE_COOKIE) or new_pre_secret()
    response = render(request, "login.html", status=status, pre_csrf=csrf_token(secret), name=name, next=next_page,
                      problem=problem, notice=notice)
    _set_cookie(request, response, PRE_COOKIE, secret, path="/console/")
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, path: str = "/console/") -> None:
    response.set_cookie(name, value, httponly=True, samesite="strict", path=path,
                        secure=bool(request.app.state.settings.tls_cert) or request.url.scheme == "https")


@router.get("/console/login")
async def login_form(request: Request, next: str = "/console/", why: str = "") -> Response:
    return _login_page(request, next_page=_safe_next(next),
                       notice=say(why, language(request)) if why in ("login-needed", "session-ended", "session-idle",
                                                                      "session-expired", "logged-out",
                                                                      "password-set") else None)


@router.post("/console/login")
async def login(request: Request) -> Response:
    secret = request.cookies.get(PRE_COOKIE) or ""
    form = await read_form(request, secret)
    name, password = field(form, "name").strip()[:64], field(form, "password")[:1024]
    next_page = _safe_next(field(form, "next", "/console/"))
    rows, db, lang = records(request), database(request), language(request)
    now = time.time()
    failures, locked_until = await db.run(rows.failures, name)
    if locked_until > now:
        return _login_page(request, 429, name, next_page,
                           say("login-locked", lang).format(seconds=math.ceil(locked_until - now)))
    who = await db.run(rows.staff_row, name)
    stored = await db.run(rows.password_hash, name) if who else None
    good = await asyncio.to_thread(check_password, stored, password)
    if not good:
        failures += 1
        await db.run(rows.set_failures, name, failures, now + lock_seconds(failures))
        await db.run(db.audit, stamp(), name or "(no name)", "login failed", None, {"failures": failures})
        return _login_page(request, 401, name, next_page, say("login-wrong", lang))
    await db.run(rows.set_failures, name, 0, 0.0)
    session = make_session()
    await db.run(rows.add_session, name, session, now)
    await db.run(db.audit, stamp(), name, "login", None, {"session": session.id})
    response = redirect(next_page)
    _set_cookie(request, response, COOKIE, session.cookie)
    response.delete_cookie(PRE_COOKIE, path="/console/")
    return response


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    await read_form(request)
    who = await signed_in(request)
    await database(request).run(records(request).end_session, who.session, "logged out")
    response = redirect("/console/login?why=logged-out")
    response.delete_cookie(COOKIE, path="/console/")
    return response


async def _link(request: Request, link: str) -> tuple[str, str] | None:
    """(link id, staff name) of a live set-password link, or None."""
    parsed = parse_link(link)
    if parsed is None:
        return None
    row = await database(request).run(records(request).link, parsed[0])
    if row is None or row["used"] or row["expires"] < time.time() or not link_matches(parsed[1], row["secret_hash"]):
        return None
    return parsed[0], row["name"]


@router.get("/console/password/{link}")
async def password_form(request: Request, link: str) -> Response:
    found = await _link(request, link)
    secret = request.cookies.get(PRE_COOKIE) or new_pre_secret()
    response = render(request, "password.html", status=200 if found else 404, valid=found is not None, link=link,
                      name=found[1] if found else "", pre_csrf=csrf_token(secret),
                      problem=None if found else say("password-link-bad", language(request)))
    _set_cookie(request, response, PRE_COOKIE, secret)
    return response


@router.post("/console/password/{link}")
async def set_password(request: Request, link: str) -> Response:
    form = await read_form(request, request.cookies.get(PRE_COOKIE) or "")
    found, lang = await _link(request, link), language(request)
    if found is None:
        return render(request, "password.html", status=404, valid=False, link=link, name="", pre_csrf="",
                      problem=say("password-link-bad", lang))
    link_id, name = found
    password = field(form, "password")[:1024]
    why = "password-differ" if password != field(form, "again") else weak(password, name)
    if why:
        return render(request, "password.html", status=422, valid=True, link=link, name=name,
                      pre_csrf=csrf_token(request.cookies.get(PRE_COOKIE) or ""), problem=say(why, lang))
    hashed = await asyncio.to_thread(hash_password, password)
    rows, db = records(request), database(request)
    if not await db.run(rows.use_link, link_id, stamp()):
        return render(request, "password.html", status=404, valid=False, link=link, name="", pre_csrf="",
                      problem=say("password-link-bad", lang))
    await db.run(rows.set_password, name, hashed, stamp())
    await db.run(rows.end_sessions_of, name, "password changed")
    await db.run(rows.set_failures, name, 0, 0.0)

    def log() -> None:
        with db.transaction() as c:
            add_audit(c, stamp(), name, "password set", None, {"name": name})

    await db.run(log)
    return redirect("/console/login?why=password-set")


@router.get("/console/language/{code}")
async def switch_language(request: Request, code: str, back: str = "/console/") -> Response:
    response = redirect(_safe_next(back))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="strict", path="/console/")
    return response


def login_redirect(request: Request, exc: NeedLogin) -> Response:
    """Asked without a live session: a page goes to the log-in form, which comes back afterwards (to the page a
    refused form was on, where the browser still holds what was typed); a fetch gets 401."""
    if request.headers.get("x-console-fetch"):
        return Response(say(exc.why, language(request)), status_code=401, media_type="text/plain; charset=utf-8",
                        headers={"X-Console-Login": f"/console/login?why={exc.why}"})
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        referer = urlsplit(request.headers.get("referer", ""))
        target = referer.path + (f"?{referer.query}" if referer.query else "") \
            if referer.netloc == request.headers.get("host") else "/console/"
    return redirect(f"/console/login?why={exc.why}&next={quote(_safe_next(target), safe='/')}")
