"""The screen's units and install script: units systemd accepts, and install.sh's plan for the release layout."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from sync.release_tools import DEBIAN_NEEDS
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
SCREEN_UNITS = ["kiosk-player.service", "kiosk-update.service", "kiosk-update-boot.service", "kiosk-update.path",
                "kiosk-update.timer"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_every_unit(tmp_path):
    for name in SCREEN_UNITS + ["kiosk-server.service"]:
        shutil.copy(DEPLOY / name, tmp_path / name)
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *(str(tmp_path / n) for n in SCREEN_UNITS)],
                          capture_output=True, text=True, cwd=tmp_path)
    complaints = [line for line in done.stderr.splitlines() if "kiosk" in line]
    assert done.returncode == 0 and not complaints, done.stderr


def test_the_units_run_what_current_and_committed_point_at():
    player = (DEPLOY / "kiosk-player.service").read_text()
    assert 'readlink -f /opt/kiosk/current)/venv/bin/python" -P -m player run' in player
    assert "After=kiosk-update-boot.service" in player
    for name in ("kiosk-update.service", "kiosk-update-boot.service"):
        assert 'readlink -f /opt/kiosk/committed)/venv/bin/python" -P -m updater' in (DEPLOY / name).read_text()
    assert "PathChanged=/opt/kiosk/state/update/ready" in (DEPLOY / "kiosk-update.path").read_text()


def test_install_sh_plans_a_release_and_moves_the_old_layout(tmp_path):
    target = tmp_path / "kiosk"
    (target / "player").mkdir(parents=True)
    (target / ".venv").mkdir()
    done = subprocess.run(["bash", str(DEPLOY / "install.sh"), "--dry-run", "--target", str(target)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "-m sync release build --target" in out and "-m updater --install" in out and "seed --wheelhouse" in out
    assert f"removing the old layout's {target}/player" in out and f"removing the old layout's {target}/.venv" in out
    assert "systemctl enable kiosk-player.service kiosk-update-boot.service kiosk-update.path kiosk-update.timer" in out
    for unit in SCREEN_UNITS:
        assert f"write /etc/systemd/system/{unit}" in out
    assert f"PathChanged={target}/state/update/ready" in out


def test_a_release_needs_what_install_sh_installs():
    script = (DEPLOY / "install.sh").read_text()
    listed = re.search(r'^DEBIAN_PACKAGES="([^"]+)"', script, re.M)
    assert listed is not None and tuple(listed.group(1).split()) == DEBIAN_NEEDS
