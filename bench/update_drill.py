"""kill -9 of the updater at every step of an update, each followed by the boot check: one summary line.

    .venv/bin/python -m bench.update_drill

The long form of tests/test_update_e2e.py's drill: a real screen in a temp folder (the real player headless
under the stand-in supervisor, the real release of this repository), and the updater killed with its whole
process group at each of the 11 steps where it can stop itself (KIOSK_UPDATE_STOP_AT). After every kill the
boot check must leave `current` at a complete version and the player must come back up and play; both
releases must end up committed.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sync.statichost import StaticHost
from tests.update_rig import POINTS_AFTER_SWITCH, POINTS_BEFORE_SWITCH, Screen, SoftwareChannel, build_real_release, kill_drill


def main() -> int:
    real = build_real_release()
    with tempfile.TemporaryDirectory(prefix="update-drill-") as tmp:
        root = Path(tmp)
        channel = SoftwareChannel(root / "dest", real)
        with StaticHost(channel.dest) as host:
            screen = Screen(root / "screen", host.url, channel.root_text)
            screen.seed(real)
            screen.start()
            try:
                screen.wait_playing()
                began = time.monotonic()
                said = kill_drill(screen, channel, POINTS_BEFORE_SWITCH, POINTS_AFTER_SWITCH, "1")
                took = time.monotonic() - began
            finally:
                screen.stop()
    for line in said:
        print(f"  {line}", file=sys.stderr)
    print(f"update drill: kill -9 at {len(said)} steps, each then the boot check: a complete version behind current "
          f"and the screen playing every time, both releases committed ({took:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
