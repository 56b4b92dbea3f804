"""The notes, README and benchmark docstrings name code that exists: every `hwplan.…` name imports (or is an
attribute of what imports), every repository path with a folder in it is a file, and no command of the layout
before the package reshape (`python -m app`, `from costmodel …`) is left."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
BENCH = sorted((REPO / "bench").glob("*.py"))
OLD_LAYOUT = re.compile(r"python -m (app|costmodel|profiler)\b|\b(from|import) (app|costmodel|profiler)\b"
                        r"|(?<![\w.])(app|costmodel|profiler)\.(cli|api|fit|commands|cache|session|sinks)\b"
                        r"|\bhwplan\.(ingest|schema|tableio|catalog|store|published|paths|fmt|vocab|errors)\b")


def _texts() -> list[tuple[str, str]]:
    out = [(p.name, p.read_text(encoding="utf-8")) for p in DOCS]
    out += [(p.name, ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or "") for p in BENCH]
    for p in BENCH:  # function docstrings too: they name the commands they time
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                out.append((f"{p.name}:{node.name}", ast.get_docstring(node) or ""))
    return out


def _resolves(name: str) -> bool:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_no_command_or_import_of_the_old_layout():
    stale = [(name, m.group(0)) for name, text in _texts() for m in OLD_LAYOUT.finditer(text)]
    assert stale == []


@pytest.mark.parametrize("name,text", _texts(), ids=[n for n, _ in _texts()])
def test_every_hwplan_name_resolves(name, text):
    names = {n for n in re.findall(r"`(hwplan(?:\.[A-Za-z_][A-Za-z0-9_]*)+)", text)
             if not n.endswith((".db", ".csv", ".json", ".md"))}  # file names, not modules
    assert [n for n in sorted(names) if not _resolves(n)] == []


def test_every_path_named_is_in_the_repository():
    tracked = set(subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split())
    missing = []
    for name, text in _texts():
        for path in set(re.findall(r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]+\.(?:py|sh|csv|json|md|toml|j2))\b", text)):
            if path not in tracked and not (REPO / path).exists() and not path.startswith(("site-packages/", "/", ".")):
                missing.append((name, path))
    assert missing == []
