"""`python -m player`: see player/cli.py."""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # the banner would go to stdout, mixed with our output

from .cli import main  # noqa: E402

raise SystemExit(main())
