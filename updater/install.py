"""Building a version's venv at its final place, and checking it runs on this screen before any switch.

pip comes from the release itself (its own wheel, run straight from the file as
pip's documentation allows), with no index, no dependency resolution and every
file's hash required: nothing the release does not name is installed. The machine's
pip configuration is not read (PIP_CONFIG_FILE=/dev/null), so a stray index or
constraints file cannot change what a screen installs.
"""

from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path

from sync.release import Wheel
from sync.wheeltags import parse_wheel_name

from .errors import Blocked, InstallFailed

PIP_TIMEOUT = 900.0
CHECK_TIMEOUT = 300.0
# What the new version must import before it may run: the player's render stack, the sync client, the updater.
IMPORTS = "import pygame, av, PIL, icu4py, yaml, requests, cryptography, player.app, player.cli, sync.cli, updater.cli"


def requirements(listed: tuple[Wheel, ...], wheels: Path) -> str:
    """pip's requirements file: every wheel by its path here and the sha256 the signed release gives."""
    return "".join(f"{wheels / w.name} --hash=sha256:{w.sha256}\n" for w in listed)


def pip_wheel(listed: tuple[Wheel, ...], wheels: Path, version: str) -> Path:
    for wheel in listed:
        if parse_wheel_name(wheel.name).project == "pip":
            return wheels / wheel.name
    raise InstallFailed(f"release {version} has no pip wheel to install itself with; build it again "
                        "(python -m sync release build adds pip)")


def pip_env() -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PIP_CONFIG_FILE": os.devnull,
            "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def make_venv(python: str, venv: Path) -> None:
    _run([python, "-m", "venv", "--without-pip", str(venv)], "making the venv", InstallFailed, pip_env())


def start_pip(venv: Path, pip: Path, requirements_file: Path) -> subprocess.Popen[str]:
    """pip installing the release into `venv` (started, not waited for: the caller reports while it runs)."""
    command = [str(venv / "bin" / "python"), str(pip / "pip"), "install", "--no-index", "--no-deps", "--require-hashes",
               "--no-cache-dir", "--quiet", "-r", str(requirements_file)]
    env = dict(pip_env())
    env.pop("PYTHONDONTWRITEBYTECODE")  # the venv is root's: the player could not write its byte code later
    try:
        return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    except OSError as exc:
        raise InstallFailed(f"cannot run pip: {exc}") from None


def finish_pip(process: subprocess.Popen[str]) -> None:
    try:
        output, _ = process.communicate(timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        raise InstallFailed(f"pip took longer than {PIP_TIMEOUT:.0f} s; stopped") from None
    if process.returncode != 0:
        lines = [line for line in output.splitlines() if line.strip()]
        raise InstallFailed("pip could not install the release: " + " | ".join(lines[-8:])[:1500])


def check_version(python: Path, config: Path, workdir: Path, user: str) -> None:
    """The new venv imports everything and `player validate` passes on this screen's config and content.

    Run as the player's user at the lowest priority, so the screen playing meanwhile keeps its frames.
    """
    env = dict(pip_env(), SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYGAME_HIDE_SUPPORT_PROMPT="1",
               HOME="/nonexistent")
    prefix = ["nice", "-n", "19"] + (["runuser", "-u", user, "--"] if user != getpass.getuser() else [])
    _run(prefix + [str(python), "-P", "-c", IMPORTS], "importing the new version", Blocked, env, workdir)
    _run(prefix + [str(python), "-P", "-m", "player", "--config", str(config), "validate"],
         f"player validate of {config} with the new version", Blocked, env, workdir)


def _run(command: list[str], doing: str, error: type[Exception], env: dict[str, str], cwd: Path | None = None) -> None:
    try:
        done = subprocess.run(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=CHECK_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise error(f"{doing} took longer than {CHECK_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise error(f"{doing}: {exc}") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        raise error(f"{doing} failed (exit status {done.returncode}): " + " | ".join(lines[-6:])[:1500])
