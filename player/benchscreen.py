"""The benchmarks' screen: a kiosk.yaml at 1920x1080 with generated photo and text slides, the same on every machine."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = (1920, 1080)
FPS = 60
ITEM_SECONDS = 1.5
FADE_SECONDS = 0.5

KIOSK = """\
screen: {id: bench-01, name: {vi: "Cửa khẩu Quốc tế Tịnh Biên", en: "Tinh Bien International Border Gate"}}
display: {fullscreen: false, size: [1920, 1080], width_mm: 952}
languages: {order: [vi, en, km, zh]}
state_dir: state
"""


def _playlist(seconds: float) -> str:
    lines = ["ticker: {vi: 'Chào mừng quý khách đến Cửa khẩu Quốc tế Tịnh Biên', en: 'Welcome to Tinh Bien',"
             " km: 'សូមស្វាគមន៍', zh: '欢迎光临静边国际口岸'}", "items:"]
    for n in range(3):
        lines.append(f"  - {{id: photo{n}, type: image, media: photo{n}.jpg, fit: fill, duration: {seconds},"
                     f" transition: {{type: crossfade, duration: {FADE_SECONDS}}}}}")
        lines.append(f"  - id: text{n}\n    type: text\n    duration: {seconds}\n    presentation: stack\n    stack_languages: [vi, en]\n"
                     f"    transition: {{type: crossfade, duration: {FADE_SECONDS}}}\n    background: '#0c2c4a'\n"
                     f"    text:\n      vi: {{title: 'Giờ mở cửa {n}', body: 'Hằng ngày 06:00 – 22:00'}}\n"
                     f"      en: {{title: 'Opening hours {n}', body: 'Daily 06:00 – 22:00'}}")
    return "\n".join(lines) + "\n"


def make_bench_screen(root: Path, seconds: float = ITEM_SECONDS) -> Path:
    """kiosk.yaml, playlists/ and media/ under `root`, items of `seconds` each; returns kiosk.yaml."""
    (root / "playlists").mkdir(parents=True, exist_ok=True)
    (root / "media").mkdir(exist_ok=True)
    for n in range(3):
        image = Image.new("RGB", (2400, 1350), (20 + 60 * n, 90, 140 - 30 * n))
        draw = ImageDraw.Draw(image)
        for k in range(40):
            draw.ellipse((k * 61 % 2400, k * 37 % 1350, k * 61 % 2400 + 200, k * 37 % 1350 + 200), fill=(200, 40 * n + k, 90))
        image.save(root / "media" / f"photo{n}.jpg", quality=88)
    (root / "playlists" / "main.yaml").write_text(_playlist(seconds), encoding="utf-8")
    (root / "kiosk.yaml").write_text(KIOSK, encoding="utf-8")
    return root / "kiosk.yaml"


def pct(values: list[float], q: float) -> float:
    """The `q` quantile of `values` (0.99: the 99th percentile), nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
