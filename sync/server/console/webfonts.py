"""The screens' fonts for the browser, from Debian's font files on disk: Noto Sans Khmer as it is, and the Simplified
Chinese face of Noto Sans CJK cut out of its collection (.ttc), since a browser reads only a collection's first face."""

from __future__ import annotations

import struct
from pathlib import Path

from player.fontfiles import NOTO, NOTO_CJK

# name served -> (file, face index in a collection or None)
FONTS = {
    "khmer.ttf": (Path(NOTO) / "NotoSansKhmer-Regular.ttf", None),
    "khmer-bold.ttf": (Path(NOTO) / "NotoSansKhmer-Bold.ttf", None),
    "sans.ttf": (Path(NOTO) / "NotoSans-Regular.ttf", None),
    "sans-bold.ttf": (Path(NOTO) / "NotoSans-Bold.ttf", None),
    "cjk-sc.otf": (Path(NOTO_CJK) / "NotoSansCJK-Regular.ttc", 2),  # face 2: Simplified Chinese
}


def font_file(name: str, cache: Path) -> Path | None:
    """The file to serve for `name`, cutting a collection's face into `cache` once; None if it is not installed."""
    if name not in FONTS:
        return None
    source, face = FONTS[name]
    if not source.is_file():
        return None
    if face is None:
        return source
    target = cache / name
    if not target.is_file() or target.stat().st_mtime < source.stat().st_mtime:
        cache.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(face_of_collection(source.read_bytes(), face))
        partial.replace(target)
    return target


def face_of_collection(data: bytes, index: int) -> bytes:
    """One face of an OpenType collection as a font file of its own: its table directory with the tables it points
    at, laid out anew (tables the faces share are copied into this one)."""
    if data[:4] != b"ttcf":
        raise ValueError("not a font collection")
    count = struct.unpack(">I", data[8:12])[0]
    if not 0 <= index < count:
        raise ValueError(f"the collection has {count} faces, not {index + 1}")
    start = struct.unpack(">I", data[12 + 4 * index:16 + 4 * index])[0]
    flavour, tables = data[start:start + 4], struct.unpack(">H", data[start + 4:start + 6])[0]
    entries = [struct.unpack(">4sIII", data[start + 12 + 16 * i:start + 28 + 16 * i]) for i in range(tables)]
    header = bytearray(data[start:start + 12])
    directory, body = bytearray(), bytearray()
    offset = 12 + 16 * tables
    for tag, checksum, at, length in entries:
        directory += struct.pack(">4sIII", tag, checksum, offset + len(body), length)
        body += data[at:at + length] + b"\0" * (-length % 4)
    assert flavour in (b"OTTO", b"\x00\x01\x00\x00"), flavour
    return bytes(header + directory + body)
