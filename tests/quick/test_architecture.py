"""The habits the codebase keeps: no private names across modules, one definition of each vocabulary item."""

from __future__ import annotations

import ast
import re

import pytest

from tests.helpers import REPO

SOURCES = sorted(p for folder in ("indexer", "tests", "bench", "scripts") for p in (REPO / folder).rglob("*.py"))


def private_imports(source: str, label: str) -> list[str]:
    """Every import of a name or module starting with an underscore in `source` (dunder names such as __future__ aside)."""
    found = []
    for node in ast.walk(ast.parse(source, filename=label)):
        if isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names if _private(alias.name)]
            if any(_private(part) for part in (node.module or "").split(".")) or names:
                found.append(f"{label}:{node.lineno}: from {node.module} import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Import):
            found += [f"{label}:{node.lineno}: import {a.name}" for a in node.names if any(_private(p) for p in a.name.split("."))]
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_module_imports_a_private_name() -> None:
    assert len(SOURCES) > 50
    offenders = [line for path in SOURCES for line in private_imports(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))]
    assert offenders == []


def test_the_private_import_check_finds_them() -> None:
    source = "from __future__ import annotations\nfrom indexer.contrib.review import _secret\nimport indexer._hidden\nfrom ._x import y\n"
    assert [line.split(":")[1] for line in private_imports(source, "sample.py")] == ["2", "3", "4"]


# Each vocabulary item, and a pattern that would find a second definition of it outside core/vocabulary.py.
VOCABULARY = {
    "outcomes": r"[\"']abandoned[\"']\s*,\s*[\"']ongoing[\"']",
    "company sizes": r"[\"']micro[\"']\s*,\s*[\"']small[\"']\s*,\s*[\"']medium[\"']",
    "outcome labels": r"Partial success",
    "size labels": r"staff\)",
    "slug pattern": r"\[a-z0-9\]\+",
    "title limits": r"\b10\b[^\n]{0,25}\b120\b",
    "section headings": r"[\"']What we did[\"']|[\"']Lecciones aprendidas[\"']",
    "section keys": r"[\"']what_we_did[\"']\s*,\s*[\"']what_happened[\"']",
    "browse and stats facets": r"[\"']sector[\"']\s*,\s*[\"']technology[\"']\s*,\s*[\"']outcome[\"']",
    "read-level rules": r"[\"']yaml-unsafe[\"'][^\n]*\n?\s*[\"']yaml-alias[\"']",
}


@pytest.mark.parametrize("item", sorted(VOCABULARY))
def test_each_vocabulary_item_has_one_definition(item: str) -> None:
    pattern = re.compile(VOCABULARY[item])
    package = sorted((REPO / "indexer").rglob("*.py"))
    where = [str(p.relative_to(REPO)) for p in package if pattern.search(p.read_text(encoding="utf-8"))]
    allowed = {"indexer/core/vocabulary.py", "indexer/core/rules.py"}
    assert len(where) == 1 and set(where) <= allowed, where


def test_every_outcome_and_size_has_its_labels_and_colours() -> None:
    """Adding an outcome or a size to the vocabulary must come with its labels and colours, or fail here."""
    from indexer.cli.terminal import OUTCOME_COLOURS
    from indexer.core.vocabulary import OUTCOME_LABELS, OUTCOMES, SIZE_LABELS, SIZE_STAFF, SIZES
    from indexer.web.charts import COLOURS

    css = (REPO / "docs" / "assets" / "lessons.css").read_text(encoding="utf-8")
    for table in (OUTCOME_LABELS, OUTCOME_COLOURS, COLOURS):
        assert tuple(table) == OUTCOMES
    assert [o for o in OUTCOMES if f".lesson-badge--{o} " not in css] == []
    assert tuple(SIZE_LABELS) == SIZES and tuple(SIZE_STAFF) == SIZES
