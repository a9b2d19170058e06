"""`python -m sync`: see sync/cli.py."""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # publish validates with the player, which imports pygame

from .cli import main  # noqa: E402

raise SystemExit(main())
