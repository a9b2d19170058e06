"""The player's exception tree and the Problem record that validation collects.

    PlayerError
     ├── ContentError      a kiosk.yaml, playlist or schedule that cannot be used
     ├── MediaError        an image or video that cannot be decoded or is refused
     └── FontError         a language whose font is not installed
"""

from __future__ import annotations

from dataclasses import dataclass


class PlayerError(Exception):
    """Anything the player reports to a person rather than as a traceback."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the content, located as precisely as we can.

    `code` names the kind of problem in a way that stays put when the English message is reworded: the staff
    console shows each code in Vietnamese or English (player/problem_texts.py), with `values` filled in.
    """

    file: str
    key: str
    message: str
    line: int | None = None
    severity: str = "error"  # "error" or "warning"
    code: str = "other"
    values: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        key = f" [{self.key}]" if self.key else ""
        return f"{self.severity}: {where}{key}: {self.message}"


class ContentError(PlayerError):
    """Content (config, playlists, schedule) with at least one error."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class MediaError(PlayerError):
    """A media file that cannot be shown: missing, corrupt, unsupported or too large."""


class FontError(PlayerError):
    """No font is installed for a language the screen must show."""
