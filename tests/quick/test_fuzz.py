"""Property-based fuzzing: no input, however broken, makes `check` raise an unhandled exception."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.core.check import check_file
from indexer.core.rules import RULES
from indexer.core.taxonomy import load_taxonomy
from tests.helpers import BODY_EN, REPO, lesson_text

TAXONOMY = load_taxonomy(REPO / "lessons" / "taxonomy.yml")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _run(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "fuzz-lesson.md"
    path.write_bytes(raw)
    findings, lesson, _ = check_file(path, TAXONOMY, today=dt.date(2026, 1, 1))
    for finding in findings:
        assert finding.rule in RULES and finding.line >= 1 and finding.col >= 1
    assert lesson is None or not any(f.level == "error" for f in findings if f.rule != "invalid-id")


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(tmp_path: Path, raw: bytes) -> None:
    _run(tmp_path, raw)


@FUZZ
@given(st.binary(max_size=600))
def test_arbitrary_bytes_after_front_matter_opening(tmp_path: Path, raw: bytes) -> None:
    _run(tmp_path, b"---\n" + raw + b"\n---\n" + BODY_EN.encode())


yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.dates(),
    st.sampled_from(["success", "micro", "retail-wholesale", "e-invoicing", "NO", "2025-01-01"]),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)
front_keys = st.sampled_from(
    [
        "title",
        "summary",
        "date",
        "sector",
        "company_size",
        "technologies",
        "outcome",
        "country",
        "related",
        "status",
        "superseded_by",
        "cost_eur",
        "language",
        "sample",
        "titel",
    ]
)


@FUZZ
@given(st.dictionaries(st.one_of(front_keys, st.text(max_size=12)), yaml_values, max_size=12))
def test_arbitrary_yaml_front_matter(tmp_path: Path, data: dict) -> None:
    front = yaml.safe_dump(data, allow_unicode=True, default_flow_style=False)
    _run(tmp_path, f"---\n{front}---\n{BODY_EN}".encode())


@FUZZ
@given(st.lists(st.sampled_from([*"!&*[]{}:,-?|>'\"#%@`\n abc01", "!!python/object:os.system ", "!!binary ", "\t"]), max_size=80))
def test_yaml_punctuation_soup(tmp_path: Path, pieces: list[str]) -> None:
    _run(tmp_path, f"---\n{''.join(pieces)}\n---\n{BODY_EN}".encode())


@FUZZ
@given(st.text(max_size=500))
def test_arbitrary_body_text(tmp_path: Path, body: str) -> None:
    _run(tmp_path, lesson_text(body=body).encode("utf-8", "surrogatepass"))


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(20)
    )
    path = tmp_path / "bomb-one.md"
    path.write_text(f"---\n{bomb}---\n{BODY_EN}")
    findings, lesson, _ = check_file(path, TAXONOMY)
    assert [f.rule for f in findings] == ["yaml-alias"] and lesson is None
