"""`python -m updater`: see updater/cli.py."""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # the version check imports the player, which loads pygame

from .cli import main  # noqa: E402

raise SystemExit(main())
