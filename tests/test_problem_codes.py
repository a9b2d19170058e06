"""Every content problem has a stable code, and every code says what is wrong in Vietnamese and in English."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from player.content import parse_playlist
from player.errors import Problem
from player.problem_texts import LANGUAGES, TEXTS, problem_text
from tests.conftest import REPO

REPORTERS = {"error", "warn", "error_at", "warn_at"}


def codes_in_source() -> dict[str, list[str]]:
    """{code: [where]} for every Problem made and every Reader report in player/ and sync/; "" where none is given.
    Reader's own methods, which pass their `code` argument on, are left out."""
    found: dict[str, list[str]] = {}
    for path in [*(REPO / "player").rglob("*.py"), *(REPO / "sync").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id == "Problem":
                given = [k.value for k in node.keywords if k.arg == "code"] + node.args[5:6]
            elif isinstance(func, ast.Attribute) and func.attr in REPORTERS and isinstance(func.value, ast.Name) \
                    and func.value.id in ("r", "self") and path.name in ("fields.py", "content.py", "config.py",
                                                                         "when.py", "browse.py", "update_settings.py"):
                given = node.args[:1]
            else:
                continue
            if given and isinstance(given[0], ast.Name) and given[0].id == "code":
                continue
            code = given[0].value if given and isinstance(given[0], ast.Constant) else ""
            found.setdefault(code, []).append(f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def test_every_problem_names_a_code_the_console_can_say():
    found = codes_in_source()
    assert "" not in found, f"problems without a code: {found.get('')}"
    assert set(found) <= set(TEXTS), f"codes without texts: {sorted(set(found) - set(TEXTS))}"
    assert len(found) > 50


@pytest.mark.parametrize("code", sorted(TEXTS))
def test_each_code_has_vietnamese_and_english(code):
    for language in LANGUAGES:
        text = TEXTS[code].get(language, "")
        assert text.strip(), f"{code} has no {language} text"
    assert TEXTS[code]["vi"] != TEXTS[code]["en"]


def test_a_problem_reads_in_the_console_language_with_its_values():
    playlist, problems = parse_playlist({"items": [{"id": "a", "type": "text", "duration": -3, "text": {"vi": "x"}}]},
                                        "p.yaml", "p", ("vi",), lambda code: True)
    [problem] = [p for p in problems if p.severity == "error"]
    assert problem.code == "out-of-range"
    assert problem_text(problem, "vi") == "Giá trị -3 nằm ngoài khoảng cho phép."
    assert problem_text(problem, "en") == "-3 is outside the allowed range."
    unknown = Problem("f", "k", "the English message", code="from-a-newer-player")
    assert problem_text(unknown, "vi") == "the English message"


