"""What the soak plays and what befalls it: content versions, the synced screen, and the plan of faults by hour."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.sync_bench import CHANNEL

VN = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 11, 23, 21, 30, tzinfo=VN)  # a Monday evening: the first hour already crosses 22:00
HOUR = 3600.0
NIGHT = ("22:00", "06:00")
SPREAD = {"welcome": 1.0, "hours": 0.8, "customs": 1.1, "news": 0.7, "scenery": 1.3, "closed": 0.9}  # x item seconds


# -- content -----------------------------------------------------------------------------------------

def make_media() -> dict[str, bytes]:
    """JPEGs for the playlists, and a file named .jpg that is not an image (it must be skipped)."""
    from PIL import Image, ImageDraw

    out = {}
    for n, (name, color) in enumerate((("photo0.jpg", (30, 110, 160)), ("photo1.jpg", (160, 120, 40)),
                                       ("night.jpg", (10, 20, 50)), ("bg.jpg", (12, 40, 80)))):
        image = Image.new("RGB", (1600, 900), color)
        draw = ImageDraw.Draw(image)
        for k in range(30):
            x, y = (k * 97 + n * 31) % 1600, (k * 53 + n * 17) % 900
            draw.ellipse((x, y, x + 160, y + 160), fill=(200, 60 + 5 * k, 90 + 20 * n))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        out[name] = buffer.getvalue()
    out["broken.jpg"] = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(range(256)) * 8  # a JPEG header, then noise
    return out


def playlists(version: int, seconds: float) -> dict[str, str]:
    """Content version `version`: a daytime loop (with a broken image), a night loop, and their schedule."""
    import yaml

    s = {key: round(seconds * factor, 1) for key, factor in SPREAD.items()}  # unequal: boundaries drift over the day

    def text(**languages: tuple[str, str]) -> dict[str, dict[str, str]]:
        return {code: {"title": title, "body": body} if body else {"title": title}
                for code, (title, body) in languages.items()}

    news = {"id": f"news-{version}", "type": "text", "duration": s["news"],
            "text": text(vi=(f"Bản tin số {version}", "Thông báo mới"), en=(f"Bulletin {version}", "A new notice"))}
    daytime = {
        "id": "daytime", "duration": seconds, "transition": {"type": "crossfade", "duration": 0.8},
        "ticker": {"vi": "Chào mừng đến Cửa khẩu Quốc tế Tịnh Biên", "en": "Welcome to Tinh Bien",
                   "km": "សូម\u200bស្វាគមន៍", "zh": "欢迎光临静边国际口岸"},
        "items": [
            {"id": "welcome", "type": "image", "media": "photo0.jpg", "fit": "fill", "duration": s["welcome"],
             "text": text(vi=("Chào mừng", ""), en=("Welcome", ""))},
            {"id": "hours", "type": "text", "duration": s["hours"], "presentation": "stack",
             "stack_languages": ["vi", "en"],
             "background": {"color": "#0b1e3a", "image": "bg.jpg"},
             "text": text(vi=("Giờ mở cửa", "Hằng ngày 06:00 – 22:00"), en=("Opening hours", "Daily 06:00 – 22:00"))},
            {"id": "broken-poster", "type": "image", "media": "broken.jpg"},
            {"id": "customs", "type": "text", "duration": s["customs"],  # rotates through all four languages
             "text": text(vi=("Hải quan", "Khai báo ngoại tệ trên 5.000 USD"), en=("Customs", "Declare over 5,000 USD"),
                          km=("គយ", "ប្រកាស\u200bរូបិយប័ណ្ណ\u200bបរទេស"), zh=("海关", "携带超过5000美元现金须申报"))},
            news,
            {"id": "scenery", "type": "image", "media": "photo1.jpg", "fit": "fit", "duration": s["scenery"]},
        ]}
    night = {
        "id": "night", "duration": seconds, "transition": {"type": "crossfade", "duration": 1.0},
        "ticker": {"vi": "Cửa khẩu đóng cửa từ 22:00 đến 06:00", "en": "The gate is closed from 22:00 to 06:00",
                   "km": "ច្រកទ្វារ\u200bបិទ", "zh": "口岸于 22:00 至 06:00 关闭"},
        "items": [
            {"id": "night-gate", "type": "image", "media": "night.jpg", "fit": "fill",
             "text": text(vi=("Cửa khẩu đã đóng cửa", ""), en=("The border gate is closed", ""))},
            {"id": "closed", "type": "text", "duration": s["closed"], "presentation": "stack",
             "stack_languages": ["vi", "en", "km", "zh"],
             "text": text(vi=("Mở cửa lúc 06:00", ""), en=("Opens at 06:00", ""), km=("បើក\u200bម៉ោង ០៦:០០", ""),
                          zh=("06:00 开放", ""))},
            news,
        ]}
    schedule = {"dayparts": [{"playlist": "daytime"},
                             {"playlist": "night", "priority": 10, "when": {"times": [f"{NIGHT[0]}-{NIGHT[1]}"]}}]}
    return {name: yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
            for name, data in (("daytime.yaml", daytime), ("night.yaml", night), ("schedule.yaml", schedule))}


def content_files(version: int, seconds: float, media: dict[str, bytes]) -> dict[str, bytes]:
    files = {f"playlists/{name}": text.encode("utf-8") for name, text in playlists(version, seconds).items()}
    files.update({f"media/{name}": data for name, data in media.items()})
    return files


def publish(publisher, files: dict[str, bytes]) -> None:  # noqa: ANN001 - sync_bench's Publisher
    """Sign `files` as the next generation of the channel (no validation: a broken one must reach the screen)."""
    publisher.files = {}
    for path, data in files.items():
        publisher.put(path, data)
    publisher.publish()


def make_soak_screen(root: Path, size: tuple[int, int], root_key: str, files: dict[str, bytes]) -> Path:
    """A synced screen folder: kiosk.yaml with a sync section, and local content (version 0) to start on."""
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    config = root / "kiosk.yaml"
    config.write_text(
        "screen: {id: soak-01, name: {vi: 'Cửa khẩu Quốc tế Tịnh Biên', en: 'Tinh Bien International Border Gate'}}\n"
        f"display: {{fullscreen: false, size: [{size[0]}, {size[1]}], width_mm: 952}}\n"
        "languages: {order: [vi, en, km, zh]}\nstate_dir: state\n"
        f"sync: {{server: 'http://127.0.0.1:9/', channel: {CHANNEL}, root_key: '{root_key}', keep_generations: 3}}\n",
        encoding="utf-8")
    return config


# -- the plan ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fault:
    at: float  # virtual seconds after the start
    kind: str  # "publish", "publish-bad", "damage", "mend" or "jump"
    hours: float = 0.0  # jump: how far NTP moves the wall clock
    file: str = ""  # damage, mend: the media file


def plan_faults(hours: float) -> list[Fault]:
    """What happens when, from START (Monday 21:30): the first night has one of everything, later days more."""
    plan = [
        Fault(0.25 * HOUR, "publish"),                  # 21:45 the first generation replaces the local folders
        Fault(1.50 * HOUR, "jump", hours=-2),           # 23:00 NTP sets the clock back to 21:00: daytime again
        Fault(2.25 * HOUR, "jump", hours=+2),           # 21:45 and forward to 23:45: night again
        Fault(3.00 * HOUR, "damage", file="night.jpg"),  # 00:30 a night picture goes bad on disk
        Fault(3.75 * HOUR, "mend", file="night.jpg"),    # 01:15 and is mended
        Fault(4.50 * HOUR, "publish-bad"),              # 02:00 a signed generation that cannot play
        Fault(5.50 * HOUR, "publish"),                  # 03:00 a good one after it
    ]
    for day in range(1, 1 + int(hours // 24) + 1):
        plan.append(Fault((day * 24 - 10) * HOUR, "publish"))  # 11:30 each day
    plan += [
        Fault(40.0 * HOUR, "damage", file="photo0.jpg"),  # Wednesday 13:30, in the daytime loop
        Fault(41.0 * HOUR, "mend", file="photo0.jpg"),
        Fault(79.5 * HOUR, "jump", hours=+5),            # Friday 05:00 -> 10:00: the night ends early
        Fault(81.5 * HOUR, "jump", hours=-5),            # 12:00 -> 07:00
        Fault(114.0 * HOUR, "publish-bad"),              # Saturday 15:30
    ]
    return sorted((f for f in plan if f.at < hours * HOUR), key=lambda f: f.at)


def expected_playlist(now: datetime) -> str:
    clock = f"{now:%H:%M}"
    return "night" if clock >= NIGHT[0] or clock < NIGHT[1] else "daytime"
