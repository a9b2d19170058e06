"""The console's render worker: `python -m sync.server.console.worker`, one process the server spawns, which runs the
player's own renderer (pygame-ce, PyAV) so the server process never loads either.

It reads one JSON request a line on standard input and answers one JSON line on
standard output: {"id", "ok": true, "files": [...], ...} or {"id", "ok": false,
"error"}. The renderer for a kiosk.yaml is kept between requests, so a preview
after the first is quick.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402
import pygame.freetype  # noqa: E402
from PIL import Image  # noqa: E402

from player.config import KioskConfig, load_config  # noqa: E402
from player.errors import MediaError  # noqa: E402
from player.fontfiles import has_font_for  # noqa: E402
from player.notices import ShownNotice, render_notice  # noqa: E402
from player.overlays import Overlays  # noqa: E402
from player.painter import make_renderer  # noqa: E402
from player.preview import browse_screens, contact_sheet, render_slot  # noqa: E402
from player.slides import SlideRenderer  # noqa: E402
from player.source import load_program  # noqa: E402
from player.touch.browse import load_menu  # noqa: E402
from player.validate import check_layout  # noqa: E402
from player.video import poster_frame  # noqa: E402
from player.videofile import probe as probe_video  # noqa: E402

THUMB = (320, 180)


class Worker:
    def __init__(self) -> None:
        pygame.display.init()
        pygame.font.init()
        pygame.freetype.init()
        self.renderers: dict[tuple[str, float], tuple[KioskConfig, SlideRenderer]] = {}

    def renderer(self, config_path: str) -> tuple[KioskConfig, SlideRenderer]:
        key = (config_path, Path(config_path).stat().st_mtime)
        if key not in self.renderers:
            self.renderers.clear()
            config = load_config(Path(config_path))
            self.renderers[key] = (config, make_renderer(config))
        return self.renderers[key]

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        action = request["do"]
        if action == "ping":
            return {"pid": os.getpid()}
        if action == "probe":
            return probe(Path(request["file"]), Path(request["out"]))
        config, renderer = self.renderer(request["config"])
        out = Path(request["out"])
        out.mkdir(parents=True, exist_ok=True)
        now = datetime.now(timezone.utc).astimezone(config.tz)
        if action == "item":
            return self.item(config, renderer, request["playlist"], request["item"], out, now)
        if action == "sheet":
            return self.sheet(config, renderer, request["playlist"], out, now)
        if action == "browse":
            menu, problems = load_menu(config.playlists_dir, config.languages, has_font_for(config))
            if menu is None:
                return {"files": [], "problems": [str(p) for p in problems]}
            files = []
            for label, surface in browse_screens(config, menu):
                pygame.image.save(surface, str(out / f"{label}.png"))
                files.append(f"{label}.png")
            return {"files": files}
        if action == "notice":
            notice = ShownNotice(request["id"], request["level"], tuple(tuple(p) for p in request["texts"]), now, now)
            files = []
            for index, picture in enumerate(render_notice(renderer, notice, config.languages)):
                canvas = pygame.Surface(renderer.canvas)
                canvas.fill((40, 40, 40))
                canvas.blit(picture, (0, 0))
                pygame.image.save(canvas, str(out / f"notice-{index + 1}.png"))
                files.append(f"notice-{index + 1}.png")
            return {"files": files}
        if action == "layout":
            program, _ = load_program(config, now)
            return {"warnings": [[p.file, p.key, p.message, p.code] for p in check_layout(config, program.content)]}
        raise ValueError(f"unknown request {action!r}")

    def item(self, config: KioskConfig, renderer: SlideRenderer, playlist: str, item: str, out: Path,
             now: datetime) -> dict[str, Any]:
        program, _ = load_program(config, now)
        files, warnings = [], []
        for slot in program.slots_of(playlist):
            if slot.item.id != item:
                continue
            name = f"{playlist}-{item}-{'+'.join(slot.languages)}.png"
            try:
                surface = render_slot(renderer, config, slot)
            except MediaError as exc:
                warnings.append(str(exc))
                continue
            if slot.item.kind != "video":
                warnings += renderer.render(slot).warnings
            pygame.image.save(surface, str(out / name))
            files.append(name)
        return {"files": files, "warnings": warnings}

    def sheet(self, config: KioskConfig, renderer: SlideRenderer, playlist: str, out: Path,
              now: datetime) -> dict[str, Any]:
        program, _ = load_program(config, now)
        overlays = Overlays(config.display.canvas, renderer.floor, renderer.setter, config.overlays.clock,
                            config.overlays.ticker, 1.0, 0)
        shots = []
        for pl in program.content.playlists:
            if playlist and pl.id != playlist:
                continue
            overlays.set_ticker(tuple((code, pl.ticker_text(code)) for code in config.languages))
            for slot in program.slots_of(pl.id):
                try:
                    surface = render_slot(renderer, config, slot)
                except MediaError:
                    continue
                overlays.update(0.0, 0.0, now, slot.language)
                overlays.draw(surface)
                shots.append((f"{pl.id} {slot.index + 1} {slot.item.id} {'+'.join(slot.languages)}", surface))
        if not shots:
            return {"files": []}
        pygame.image.save(contact_sheet(shots, renderer.setter("en")), str(out / "contact-sheet.png"))
        return {"files": ["contact-sheet.png"], "slots": len(shots)}


def probe(path: Path, out: Path) -> dict[str, Any]:
    """A media file's facts (kind, size, duration, codec) and a thumbnail (a video's poster frame)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with Image.open(path) as image:
            image.load()
            width, height = image.size
            thumb = image.convert("RGB")
            thumb.thumbnail(THUMB)
            thumb.save(out, "JPEG", quality=80)
            return {"kind": "image", "width": width, "height": height, "codec": image.format or "", "duration": None}
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        pass
    try:
        info = probe_video(path)
        poster = poster_frame(path, THUMB, "fit")
        pygame.image.save(poster, str(out.with_suffix(".png")))
        Image.open(out.with_suffix(".png")).convert("RGB").save(out, "JPEG", quality=80)
        out.with_suffix(".png").unlink(missing_ok=True)
        return {"kind": "video", "width": info.width, "height": info.height, "duration": info.duration,
                "codec": info.codec}
    except MediaError as exc:
        return {"kind": "unknown", "error": str(exc)}


def main() -> int:
    # The server's event loop (heartbeats, long-polls) comes first on a machine with few cores: a preview waits.
    os.nice(10)
    worker = Worker()
    for line in sys.stdin:
        request: dict[str, Any] = {}
        try:
            request = json.loads(line)
            answer = {"id": request.get("id"), "ok": True, **worker.handle(request)}
        except Exception as exc:  # one bad request must not end the worker
            answer = {"id": request.get("id"), "ok": False, "error": f"{type(exc).__name__}: {exc}",
                      "trace": traceback.format_exc()[-2000:]}
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
