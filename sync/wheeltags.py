"""Release targets and wheel tags (pure): which wheels a screen of a target can install, and pip's platform list.

A target names the screens a release is for: `cp311-manylinux_2_36_x86_64` is
CPython 3.11 on glibc 2.36 or newer, 64-bit PC. A wheel fits a target when one
of the tags in its file name (PEP 425, with PEP 600's manylinux names) is one
that CPython 3.11 on that glibc accepts: `manylinux_2_17` and `manylinux2014`
fit a glibc 2.36 screen, `manylinux_2_38` does not. pip's own `--platform`
takes each name literally (given only `manylinux_2_36_x86_64` it finds no
wheel, since PyPI's are tagged 2_17 or 2_28), so `pip_platforms` spells out
the whole list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ARCHES = ("x86_64", "aarch64")
# 32-bit ARM (Raspberry Pi OS 32-bit) is refused by name: PyPI has no wheels of these for it,
# and building them on a screen needs a compiler and ICU's and SDL's headers.
NO_WHEELS = {"armv7l": "icu4py, pygame-ce and Pillow have no PyPI wheels for armv7l (32-bit ARM); "
                       "install the 64-bit Raspberry Pi OS (aarch64) on the screen",
             "armv6l": "icu4py, pygame-ce and Pillow have no PyPI wheels for armv6l; use a 64-bit screen (aarch64)"}
# PEP 600's older aliases: manylinux1 is glibc 2.5, manylinux2010 2.12, manylinux2014 2.17.
LEGACY = {"manylinux1": 5, "manylinux2010": 12, "manylinux2014": 17}
LOWEST_GLIBC = 5
_TARGET = re.compile(r"cp3(\d{1,2})-manylinux_2_(\d{1,3})_([a-z0-9_]+)")
_WHEEL = re.compile(r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?)-(?P<version>[A-Za-z0-9_.!+]+)"
                    r"(?:-(?P<build>\d[A-Za-z0-9_.]*))?-(?P<py>[a-z0-9_.]+)-(?P<abi>[a-z0-9_.]+)-(?P<plat>[a-z0-9_.]+)\.whl")


class TargetError(ValueError):
    """A target or wheel name this tool cannot use; the message says which and why."""


@dataclass(frozen=True)
class Target:
    python_minor: int  # 11 for CPython 3.11
    glibc_minor: int  # 36 for glibc 2.36
    arch: str

    def __str__(self) -> str:
        return f"cp3{self.python_minor}-manylinux_2_{self.glibc_minor}_{self.arch}"

    @property
    def python(self) -> str:
        return f"3.{self.python_minor}"

    @property
    def glibc(self) -> str:
        return f"2.{self.glibc_minor}"

    def runs_on(self, screen: Target) -> bool:
        """A release built for this target installs on `screen`: same Python and CPU, glibc not older."""
        return (self.python_minor, self.arch) == (screen.python_minor, screen.arch) and self.glibc_minor <= screen.glibc_minor


def parse_target(text: str) -> Target:
    match = _TARGET.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        arch = str(text).rsplit("_", 1)[-1] if isinstance(text, str) else ""
        if arch in NO_WHEELS or str(text).endswith(("armv7l", "armv6l")):
            raise TargetError(f"target {text!r}: {NO_WHEELS.get(arch, NO_WHEELS['armv7l'])}")
        raise TargetError(f"target {text!r} must look like cp311-manylinux_2_36_x86_64 (or …_aarch64)")
    arch = match.group(3)
    if arch in NO_WHEELS:
        raise TargetError(f"target {text!r}: {NO_WHEELS[arch]}")
    if arch not in ARCHES:
        raise TargetError(f"target {text!r}: the CPU must be one of {', '.join(ARCHES)}, not {arch!r}")
    glibc = int(match.group(2))
    if glibc < 17:
        raise TargetError(f"target {text!r}: glibc 2.{glibc} is older than any supported Debian")
    return Target(int(match.group(1)), glibc, arch)


def machine_target(python: tuple[int, int], libc: str, machine: str) -> Target:
    """The target of the machine whose Python version, `os.confstr('CS_GNU_LIBC_VERSION')` and `uname -m` these are."""
    match = re.fullmatch(r"glibc 2\.(\d+)", libc.strip())
    if python[0] != 3 or match is None:
        raise TargetError(f"this machine ({libc or 'no glibc'}, Python {python[0]}.{python[1]}) is not a screen "
                          "target: screens run CPython 3 on glibc")
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if arch in NO_WHEELS:
        raise TargetError(NO_WHEELS[arch])
    return Target(python[1], int(match.group(1)), arch)


def platforms(target: Target) -> list[str]:
    """Every platform tag a screen of `target` accepts, newest first (what pip download needs as --platform)."""
    names = [f"manylinux_2_{minor}_{target.arch}" for minor in range(target.glibc_minor, LOWEST_GLIBC - 1, -1)]
    for legacy, minor in LEGACY.items():
        if minor <= target.glibc_minor and (target.arch == "x86_64" or legacy == "manylinux2014"):
            names.append(f"{legacy}_{target.arch}")
    return names


def pip_platforms(target: Target) -> list[str]:
    """pip download's options for `target`: binary wheels only, the interpreter, ABIs and every platform."""
    options = ["--only-binary=:all:", "--implementation", "cp", "--python-version", target.python,
               "--abi", f"cp3{target.python_minor}", "--abi", "abi3", "--abi", "none"]
    for name in platforms(target):
        options += ["--platform", name]
    return options


def supported_tags(target: Target) -> frozenset[tuple[str, str, str]]:
    """(python, abi, platform) triples CPython of `target` installs, as pip's own list is built."""
    plats = platforms(target)
    minor = target.python_minor
    tags: set[tuple[str, str, str]] = set()
    for plat in plats + ["any"]:
        if plat != "any":
            tags.add((f"cp3{minor}", f"cp3{minor}", plat))
            tags.update((f"cp3{m}", "abi3", plat) for m in range(2, minor + 1))
            tags.add((f"cp3{minor}", "none", plat))
        for py in [f"py3{m}" for m in range(minor, -1, -1)] + ["py3", f"cp3{minor}"]:
            tags.add((py, "none", plat))
    return frozenset(tags)


@dataclass(frozen=True)
class WheelName:
    project: str  # normalized: lower case, runs of -_. as _
    version: str
    tags: frozenset[tuple[str, str, str]]


def parse_wheel_name(name: str) -> WheelName:
    match = _WHEEL.fullmatch(name) if isinstance(name, str) and len(name) <= 255 else None
    if match is None:
        raise TargetError(f"{name!r} is not a wheel file name (NAME-VERSION-PY-ABI-PLATFORM.whl)")
    tags = frozenset((py, abi, plat) for py in match["py"].split(".") for abi in match["abi"].split(".")
                     for plat in match["plat"].split("."))
    return WheelName(normalize(match["name"]), match["version"], tags)


def normalize(project: str) -> str:
    return re.sub(r"[-_.]+", "_", project).lower()


def fits(wheel: WheelName, target: Target) -> bool:
    return bool(wheel.tags & supported_tags(target))
