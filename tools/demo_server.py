"""The office and a screen on one machine: the central server, a publish, a player that reports to it, a notice.

Everything goes under out/demo-server/ (keys, the server's data, tokens, the screen's state).
Run by ./demo-server; extra arguments go to `python -m player run`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from tools.demo_sync import demo_kiosk_text

REPO = Path(__file__).resolve().parent.parent
CHANNEL = "demo"
NOTICE_AFTER = 12.0


def sync(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "sync", *args], cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"python -m sync {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str]) -> int:
    work = REPO / "out" / "demo-server"
    keys, data = work / "keys", work / "server-data"
    keys.mkdir(parents=True, exist_ok=True)
    for name in ("root", "office"):
        if not (keys / f"{name}.key").exists():
            sync("keygen", "--name", name, "--out", str(keys))
    sync("server", "channel", "add", CHANNEL, "--root", str(keys / "root.pub"), "--data", str(data))
    staff = work / "staff.token"
    staff.write_text(sync("server", "staff", "add", "demo-staff", "--channel", CHANNEL, "--data", str(data)).splitlines()[-1])
    staff.chmod(0o600)
    screen = work / "screen"
    screen.mkdir(parents=True, exist_ok=True)
    token = screen / "screen.token"
    token.write_text(sync("server", "screen", "add", "demo-screen", "--channel", CHANNEL, "--data", str(data)).splitlines()[-1])
    token.chmod(0o600)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "sync", "serve", "--data", str(data), "--port", str(port)], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        common = ["--to", url, "--token-file", str(staff)]
        version = str(int(time.time()))  # a new, higher publisher list each run
        sync("sign-publishers", "--root", str(keys / "root.key"), "--channel", CHANNEL, "--version", version,
             "--add", f"office={keys / 'office.pub'}", *common)
        print(sync("publish", "--channel", CHANNEL, "--key", str(keys / "office.key"), "--config", "kiosk.yaml", *common)
              .strip().splitlines()[-1])
        config = screen_config(work, url)
        print(f"server at {url}: the status page is {url}/status (any user name; password: the token in {staff})")
        threading.Timer(NOTICE_AFTER, lambda: print(sync(
            "notice", "post", "--key", str(keys / "office.key"), "--channel", CHANNEL, "--level", "urgent",
            "--expires", "1m", "--text", "vi=Cổng tạm đóng 30 phút. Xin vui lòng chờ tại khu vực A.",
            "--text", "en=The gate is closed for 30 minutes. Please wait in area A.",
            "--text", "km=ច្រកទ្វារបិទ ៣០ នាទី។ សូមរង់ចាំនៅតំបន់ A។",
            "--text", "zh=口岸暂停通关30分钟。请在A区等候。", *common).strip())).start()
        run = [sys.executable, "-m", "player", "--config", str(config), "run", *argv]
        if not argv and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            run += ["--headless", "--seconds", "30"]
            print("no display: playing headless for 30 s")
        print(f"an urgent notice is posted {NOTICE_AFTER:.0f} s after start, for one minute")
        code = subprocess.call(run, cwd=REPO)
        subprocess.call([sys.executable, "-m", "player", "--config", str(config), "status"], cwd=REPO)
        return code
    finally:
        server.terminate()
        server.wait(10)


def screen_config(work: Path, url: str) -> Path:
    root_key = (work / "keys" / "root.pub").read_text().strip()
    text = demo_kiosk_text() + (f'\n# Added by tools/demo_server.py: follow the demo channel on the local central server.\nsync:\n'
             f'  server: "{url}"\n  channel: {CHANNEL}\n  root_key: "{root_key}"\n  token_file: screen.token\n'
             "  heartbeat_seconds: 10\n  screenshot_seconds: 60\n")
    config = work / "screen" / "kiosk.yaml"
    config.write_text(text, encoding="utf-8")
    return config


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
