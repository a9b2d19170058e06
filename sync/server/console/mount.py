"""Puts the console into the server's app: its routers, static files, web fonts, security headers and login
redirects (called by create_app; same process, same port)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from ..channels import Refused
from . import (routes_admin, routes_auth, routes_drafts, routes_home, routes_media, routes_notices, routes_planning,
               routes_preview, routes_publish, routes_screens)
from .uploads import Uploads
from .preview import RenderWorker
from .drafts import Drafts
from .guard import NeedLogin, language, render
from .records import ConsoleRecords
from .texts import say
from .webfonts import font_file

STATIC = Path(__file__).parent / "static"
ROUTERS = (routes_auth.router, routes_home.router, routes_drafts.router, routes_publish.router, routes_notices.router,
           routes_screens.router, routes_preview.router, routes_media.router, routes_admin.router, routes_planning.router)


def install(app: FastAPI) -> None:
    app.state.console = ConsoleRecords(app.state.db)
    app.state.uploads = Uploads(app.state.settings.data / "console" / "uploads", app.state.channels.blobs)
    app.state.render_worker = RenderWorker()  # started on the first preview, never with the server
    app.state.drafts = Drafts(app.state.channels, app.state.console, app.state.settings.data / "console" / "work")
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    fonts = app.state.settings.data / "console" / "fonts"

    @app.get("/console/fonts/{name}", include_in_schema=False)
    async def webfont(name: str) -> Response:
        found = font_file(name, fonts)
        if found is None:
            raise Refused(404, f"no font {name!r} here")
        return FileResponse(found, media_type="font/otf" if name.endswith(".otf") else "font/ttf",
                            headers={"Cache-Control": "public, max-age=604800"})

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, exc: NeedLogin) -> Response:
        return routes_auth.login_redirect(request, exc)


def refused_page(request: Request, exc: Refused) -> Response:
    """A refusal on a console page, as a page in the console's language (the API's stay JSON)."""
    return render(request, "refused.html", None, status=exc.status, problem=exc.message,
                  title=say("refused", language(request)))
