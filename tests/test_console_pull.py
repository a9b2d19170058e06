"""`sync pull` fetches what the console published into a folder, and `publish` refuses a folder behind the server
unless --force: the command line cannot quietly undo console edits."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tests.conftest import REPO, make_screen
from tests.server_rig import start_rig
from tests.test_server_e2e import ENV

pytestmark = pytest.mark.slow  # several CLI processes (each validates content with the player's renderer)


def cli(*args: str, cwd=REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sync", *map(str, args)], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=180)


def test_pull_then_publish_and_a_folder_behind_is_refused(tmp_path, database):
    rig = start_rig(tmp_path / "server", database)
    try:
        key, token = tmp_path / "office.key", tmp_path / "staff.token"
        key.write_bytes(rig.publisher.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        token.write_text(rig.admin_token)
        assert rig.publish(1, {"playlists/main.yaml": "items:\n  - {id: a, type: text, text: {vi: 'Một'}}\n".encode()}).status_code == 201
        office = make_screen(tmp_path / "office", {})
        pulled = cli("pull", "--channel", "gate", "--from", rig.url, "--to", office.parent)
        assert pulled.returncode == 0, pulled.stderr
        assert "generation 1" in pulled.stdout and (office.parent / "playlists" / "main.yaml").read_text().endswith("'Một'}}\n")
        publish = ("publish", "--channel", "gate", "--to", rig.url, "--key", key, "--config", office, "--token-file", token)
        (office.parent / "playlists" / "main.yaml").write_text("items:\n  - {id: a, type: text, text: {vi: 'Hai'}}\n")
        assert cli(*publish).returncode == 0 and rig.current_generation() == 2
        # the console publishes generation 3; the folder (at 2) is now behind and is refused
        assert rig.publish(3, {"playlists/main.yaml": "items:\n  - {id: a, type: text, text: {vi: 'Ba'}}\n".encode()}).status_code == 201
        refused = cli(*publish)
        assert refused.returncode == 1 and "generation 3" in refused.stderr and "python -m sync pull" in refused.stderr
        assert rig.current_generation() == 3
        forced = cli(*publish, "--force")
        assert forced.returncode == 0 and rig.current_generation() == 4
    finally:
        rig.stop()
