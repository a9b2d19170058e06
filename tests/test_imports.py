"""Which module imports which: the sync client never loads pygame or PyAV, and player/ reaches into sync/ only for the store."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("player", "sync")
# What the player may import of sync/: the files both processes share (sync/layout.py) and the store itself,
# which the player uses to roll back a generation it cannot play. Never the client, HTTP or keys.
PLAYER_MAY_IMPORT = {"sync.layout", "sync.store"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str) -> set[str]:
    """What module `name` (at `path`) imports, at the top or inside a function (an import in a function still counts)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            found.add(stem)
            found.update(f"{stem}.{alias.name}" for alias in node.names)  # `from . import x` names a module
    return found


def graph() -> dict[str, set[str]]:
    """Our modules and the modules of ours each one imports (`from a.b import c` counts as a.b, or a.b.c if a module)."""
    files = {module_name(p): p for package in PACKAGES for p in (REPO / package).rglob("*.py")}
    return {name: {m for m in imports_of(path, name) if m in files and m != name} for name, path in files.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle once, as the path that closes it (a -> b -> a); none in a tree that imports one way."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        for target in sorted(edges[name]):
            if target in path:
                found.append(path[path.index(target):] + [target])
            elif target not in done:
                visit(target, path + [target])
        done.add(name)

    for name in sorted(edges):
        if name not in done:
            visit(name, [name])
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_a_module_that_imports_it_back(package):
    edges = {name: {t for t in targets if t.split(".")[0] == package}
             for name, targets in graph().items() if name.split(".")[0] == package}
    assert circles(edges) == []


def test_player_and_sync_together_import_in_one_direction():
    assert circles(graph()) == []


def test_the_circle_finder_finds_a_circle_through_a_function_level_import(tmp_path):
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    module = tmp_path / "m.py"
    module.write_text("def later():\n    from player import loop  # noqa\n", encoding="utf-8")
    assert "player.loop" in imports_of(module, "m")


def test_player_imports_of_sync_are_the_store_and_the_shared_layout_only():
    reaching = {(name, target) for name, targets in graph().items() if name.startswith("player")
                for target in targets if target.startswith("sync") and target != "sync"}
    assert {target for _, target in reaching} <= PLAYER_MAY_IMPORT, sorted(reaching)


def loaded_by(*python_args: str) -> set[str]:
    """Every module a fresh interpreter loads for `python_args` (from -X importtime, which lists each one)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *python_args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("command", [
    ("-m", "sync", "run", "--help"),
    # what `sync run` and `sync import` load after parsing their arguments
    ("-c", "import sync.cli, sync.screen, sync.client, sync.fleet, sync.notice_feed, sync.store, player.config"),
], ids=["sync run --help", "the sync client's modules"])
def test_the_sync_client_loads_neither_pygame_nor_pyav(command):
    modules = loaded_by(*command)
    assert "sync.cli" in modules or "sync.screen" in modules  # the listing worked
    heavy = sorted(m for m in modules if m.split(".")[0] in ("pygame", "av"))
    assert not heavy, f"the sync client loads {heavy[:5]}"
