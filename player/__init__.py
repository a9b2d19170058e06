"""Tịnh Biên border-gate signage and touch-kiosk player."""

__version__ = "0.1.0"
