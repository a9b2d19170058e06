"""Numbered schema migrations (Alembic scripts), run at start and by `python -m sync server migrate`."""
