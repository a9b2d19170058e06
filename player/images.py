"""Loading still images for the screen: EXIF orientation, fit or fill, and no memory blow-up on huge files."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pygame
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import MediaError

# Decoding more than this many pixels would take hundreds of MB; JPEGs are first
# decoded at 1/2, 1/4 or 1/8 scale (libjpeg's draft mode), other formats are refused.
MAX_DECODE_PIXELS = 40_000_000
FORMATS = ("JPEG", "PNG", "WEBP", "MPO")


def scaled_size(source: tuple[int, int], box: tuple[int, int], fit: str) -> tuple[int, int]:
    """The size `source` takes in `box`: whole and letterboxed ("fit") or covering it ("fill")."""
    sw, sh = source
    bw, bh = box
    scale = min(bw / sw, bh / sh) if fit == "fit" else max(bw / sw, bh / sh)
    return max(1, round(sw * scale)), max(1, round(sh * scale))


def draft_size(stored: tuple[int, int], orientation: int, box: tuple[int, int], fit: str) -> tuple[int, int]:
    """The least stored size to decode so the upright picture still covers what `box` needs (EXIF 5-8: sideways)."""
    turned = orientation in (5, 6, 7, 8)
    upright = (stored[1], stored[0]) if turned else stored
    wanted = scaled_size(upright, box, fit)
    return (wanted[1], wanted[0]) if turned else wanted


def load_image(path: Path, box: tuple[int, int], fit: str) -> pygame.Surface:
    """The image at `path`, upright, scaled to fit in or fill `box` (fill is cropped to `box`)."""
    Image.MAX_IMAGE_PIXELS = None  # we check the size ourselves, after JPEG draft scaling
    try:
        with Image.open(path) as opened:
            if opened.format not in FORMATS:
                raise MediaError(f"{path}: {opened.format} images are not supported; use JPEG, PNG or WebP")
            full = opened.size
            if opened.format in ("JPEG", "MPO"):
                opened.draft("RGB", draft_size(full, opened.getexif().get(0x0112, 1), box, fit))
            if opened.size[0] * opened.size[1] > MAX_DECODE_PIXELS:
                raise MediaError(f"{path}: {full[0]}x{full[1]} pixels is too large to decode "
                                 f"(at most {MAX_DECODE_PIXELS // 1_000_000} megapixels, or a JPEG of any size)")
            upright = ImageOps.exif_transpose(opened)
            mode: Literal["RGBA", "RGB"] = "RGBA" if _has_alpha(upright) else "RGB"
            image = upright.convert(mode)
    except MediaError:
        raise
    except FileNotFoundError:
        raise MediaError(f"{path}: file not found") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise MediaError(f"{path}: not a readable image ({exc})") from None
    size = scaled_size(image.size, box, fit)
    image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if fit == "fill":
        left, top = (size[0] - box[0]) // 2, (size[1] - box[1]) // 2
        image = image.crop((left, top, left + box[0], top + box[1]))
    surface = pygame.image.frombytes(image.tobytes(), image.size, mode)
    return surface


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def check_image(path: Path) -> None:
    """Raise MediaError if `path` would not show; reads the header and decodes a small draft."""
    load_image(path, (64, 64), "fit")
