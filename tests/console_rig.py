"""A console user on a real server: set the password from a link, log in, and post forms as a browser would."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import requests

from sync.server.console.passwords import make_link
from sync.server.console.records import ConsoleRecords
from tests.server_rig import Rig

PASSWORD = "mật khẩu đủ dài 7"


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', page) or re.search(r'data-csrf="([^"]*)"', page)
    assert found, page[:500]
    return found.group(1)


@dataclass
class Browser:
    """A requests session that behaves like the console's pages: Origin on every change, the page's CSRF token."""

    rig: Rig
    session: requests.Session
    csrf: str = ""

    def get(self, path: str, **kwargs: object) -> requests.Response:
        answer = self.session.get(self.rig.url + path, **kwargs)  # type: ignore[arg-type]
        if "data-csrf=" in answer.text:
            self.csrf = csrf_of(answer.text) or self.csrf
        return answer

    def post(self, path: str, data: dict[str, str] | list[tuple[str, str]] | None = None, origin: str | None = None,
             csrf: str | None = None, **kwargs: object) -> requests.Response:
        fields = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf is not False:
            fields.append(("csrf", self.csrf if csrf is None else csrf))
        headers = {"Origin": origin or self.rig.url}
        return self.session.post(self.rig.url + path, data=fields, headers=headers, allow_redirects=False,
                                 **kwargs)  # type: ignore[arg-type]


def password_link(rig: Rig, name: str) -> str:
    link = make_link()
    ConsoleRecords(rig.db).add_link(name, link, time.time() + 3600)
    return f"/console/password/{link.text}"


def log_in(rig: Rig, name: str = "lan", password: str = PASSWORD, set_first: bool = True) -> Browser:
    browser = Browser(rig, requests.Session())
    if set_first:
        page = browser.get(password_link(rig, name))
        answer = browser.post(page.url.replace(rig.url, ""), {"password": password, "again": password},
                              csrf=csrf_of(page.text))
        assert answer.status_code == 303, answer.text[:300]
    page = browser.get("/console/login")
    answer = browser.post("/console/login", {"name": name, "password": password, "next": "/console/"},
                          csrf=csrf_of(page.text))
    assert answer.status_code == 303 and answer.headers["location"] == "/console/", answer.text[:500]
    browser.get("/console/")
    return browser
