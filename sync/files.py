"""Reading files for the publish tool and the screen's store: hashing in chunks, opening only regular files."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


def hash_file(path: Path) -> tuple[str, int]:
    """(sha256 hex, size) read in chunks, so a 4 GB video never sits in memory."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as src:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def sha256_file(path: Path) -> str:
    return hash_file(path)[0]


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading if it is a regular file itself: not a link, FIFO, device or folder.

    A USB stick is untrusted: a manifest that is a link to /dev/zero would fill memory, a FIFO
    would block the reader forever. O_NONBLOCK keeps the open of a FIFO from waiting for a writer.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, f"{path} is a symbolic link; refused") from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(f"{path} is not a regular file ({_kind(mode)}); refused")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
             (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a plain file")
