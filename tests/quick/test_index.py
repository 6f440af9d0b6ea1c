"""Building, refreshing and protecting the index (library level, with the small fake embedder)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from indexer.core.kb import find_root
from indexer.errors import IndexLocked, IndexProblem
from indexer.search import build, flat, store
from tests.helpers import FAKE_IDENTITY, FakeEmbedder, lock_held, make_unreadable_folder, topic_lesson

TOPICS = {
    "erp-one": "cloud erp migration",
    "invoice-one": "electronic invoicing mandate",
    "backup-one": "ransomware backup restore",
    "voip-one": "voip telephone system",
    "crm-one": "crm sales pipeline",
}


@pytest.fixture
def kb_with_lessons(kb: Path) -> Path:
    for name, topic in TOPICS.items():
        (kb / "lessons" / f"{name}.md").write_text(topic_lesson(topic))
    return kb


def _refresh(root: Path, embedder: FakeEmbedder | None = None, **kwargs) -> build.IndexReport:
    return build.refresh(find_root(explicit=root), embedder or FakeEmbedder(), FAKE_IDENTITY, **kwargs)


def _load(root: Path) -> store.IndexData:
    return store.load(store.index_root(root / ".lessons"), FAKE_IDENTITY)


def test_first_build_indexes_every_lesson(kb_with_lessons: Path) -> None:
    report = _refresh(kb_with_lessons)
    assert report.lessons == 5 and sorted(report.added) == sorted(TOPICS)
    data = _load(kb_with_lessons)
    assert data.vectors.ntotal == report.passages == len(data.passage_lesson)
    assert {rec["id"] for rec in data.lessons} == set(TOPICS)
    assert data.section(0) == "Summary"
    assert data.manifest["model"]["name"] == "fake-hash-embedder" and data.manifest["schema_version"] == 1
    assert all(len(entry[3]) == 64 for entry in data.files)  # SHA-256 of each lesson file


def test_unchanged_knowledge_base_embeds_nothing(kb_with_lessons: Path) -> None:
    _refresh(kb_with_lessons)
    embedder = FakeEmbedder()
    report = _refresh(kb_with_lessons, embedder)
    assert report.up_to_date and embedder.calls == []


def test_touching_a_file_without_changing_it_embeds_nothing(kb_with_lessons: Path) -> None:
    _refresh(kb_with_lessons)
    path = kb_with_lessons / "lessons" / "crm-one.md"
    path.write_text(path.read_text())
    embedder = FakeEmbedder()
    report = _refresh(kb_with_lessons, embedder)
    assert embedder.calls == [] and report.changed == [] and report.embedded == 0
    assert not build.is_stale(find_root(explicit=kb_with_lessons), _load(kb_with_lessons))


def test_only_the_changed_lesson_is_embedded_again(kb_with_lessons: Path) -> None:
    first = _refresh(kb_with_lessons)
    path = kb_with_lessons / "lessons" / "crm-one.md"
    path.write_text(path.read_text().replace("crm sales pipeline for months", "crm sales pipeline for two years"))
    assert build.is_stale(find_root(explicit=kb_with_lessons), _load(kb_with_lessons))
    embedder = FakeEmbedder()
    report = _refresh(kb_with_lessons, embedder)
    assert report.changed == ["crm-one"] and report.added == [] and 0 < report.embedded < first.passages / 5
    assert sum(embedder.calls) == report.embedded
    data = _load(kb_with_lessons)
    texts = [data.passage(i) for i in range(len(data.passage_lesson))]
    assert any("two years" in t for t in texts)


def test_deleted_lessons_disappear(kb_with_lessons: Path) -> None:
    _refresh(kb_with_lessons)
    (kb_with_lessons / "lessons" / "voip-one.md").unlink()
    report = _refresh(kb_with_lessons)
    assert report.removed == ["voip-one"] and report.embedded == 0
    data = _load(kb_with_lessons)
    assert "voip-one" not in {rec["id"] for rec in data.lessons}
    assert data.vectors.ntotal == len(data.passage_lesson) and data.lesson_vectors.ntotal == 4
    assert all(data.row_of(rec["id"]) == i for i, rec in enumerate(data.lessons))


def test_incremental_index_equals_a_rebuild(kb_with_lessons: Path) -> None:
    _refresh(kb_with_lessons)
    (kb_with_lessons / "lessons" / "new-one.md").write_text(topic_lesson("payroll software switch"))
    (kb_with_lessons / "lessons" / "erp-one.md").unlink()
    _refresh(kb_with_lessons)
    incremental = _load(kb_with_lessons)
    _refresh(kb_with_lessons, rebuild=True)
    rebuilt = _load(kb_with_lessons)
    assert [r["id"] for r in incremental.lessons] == [r["id"] for r in rebuilt.lessons]
    np.testing.assert_allclose(
        incremental.vectors.reconstruct_n(0, incremental.vectors.ntotal),
        rebuilt.vectors.reconstruct_n(0, rebuilt.vectors.ntotal),
        atol=1e-6,
    )
    for query in ("payroll", "ransomware backup", "nothing-matches"):
        np.testing.assert_allclose(incremental.keyword.scores(query), rebuilt.keyword.scores(query), rtol=1e-5)


def test_lessons_with_errors_are_left_out_and_reported(kb_with_lessons: Path) -> None:
    (kb_with_lessons / "lessons" / "broken-one.md").write_text(topic_lesson("broken", outcome="sucess"))
    report = _refresh(kb_with_lessons)
    assert report.lessons == 5 and [f.rule for f in report.left_out] == ["invalid-choice"]
    assert "broken-one" not in {rec["id"] for rec in _load(kb_with_lessons).lessons}
    # the broken file is remembered: nothing to do until it changes
    assert _refresh(kb_with_lessons).up_to_date


def test_a_new_duplicate_id_removes_the_unchanged_twin(kb_with_lessons: Path) -> None:
    _refresh(kb_with_lessons)
    (kb_with_lessons / "lessons" / "sub").mkdir()
    (kb_with_lessons / "lessons" / "sub" / "crm-one.md").write_text(topic_lesson("another crm"))
    report = _refresh(kb_with_lessons)
    assert {f.rule for f in report.left_out} == {"duplicate-id"}
    assert "crm-one" not in {rec["id"] for rec in _load(kb_with_lessons).lessons}


def test_deleting_a_referenced_lesson_drops_the_referrer(kb_with_lessons: Path) -> None:
    (kb_with_lessons / "lessons" / "ref-one.md").write_text(topic_lesson("referrer", related="[crm-one]"))
    _refresh(kb_with_lessons)
    (kb_with_lessons / "lessons" / "crm-one.md").unlink()
    report = _refresh(kb_with_lessons)
    assert [f.rule for f in report.left_out] == ["missing-reference"]
    assert "ref-one" not in {rec["id"] for rec in _load(kb_with_lessons).lessons}


def test_identical_passages_are_embedded_once(kb: Path) -> None:
    for i in range(3):  # three copies of one lesson under three ids
        (kb / "lessons" / f"same-{i}.md").write_text(topic_lesson("identical text"))
    embedder = FakeEmbedder()
    report = _refresh(kb, embedder)
    assert report.passages == 15 and report.embedded == 5 and sum(embedder.calls) == 5


def test_index_folder_holds_no_pickle(kb_with_lessons: Path) -> None:
    _refresh(kb_with_lessons)
    folder = store.current_generation(store.index_root(kb_with_lessons / ".lessons"))
    suffixes = {p.suffix for p in folder.iterdir()}
    assert suffixes <= {".npy", ".json", ".jsonl", ".faiss", ".bin"}
    for path in folder.glob("*.npy"):
        np.load(path, allow_pickle=False)
        assert b"\x80\x04\x95" not in path.read_bytes()[:256]


def test_previous_generation_is_kept_and_older_ones_removed(kb_with_lessons: Path) -> None:
    root = store.index_root(kb_with_lessons / ".lessons")
    for i in range(4):
        (kb_with_lessons / "lessons" / f"extra-{i}.md").write_text(topic_lesson(f"extra topic {i}"))
        _refresh(kb_with_lessons)
    generations = [p for p in root.iterdir() if p.name.startswith("gen-")]
    assert len(generations) == 2
    assert (root / "CURRENT").read_text().strip() in {p.name for p in generations}


@pytest.mark.parametrize("damage", ["truncate-faiss", "garbage-manifest", "missing-current-target", "truncate-npy", "bad-json"])
def test_damaged_index_gives_a_rebuild_hint(kb_with_lessons: Path, damage: str) -> None:
    _refresh(kb_with_lessons)
    root = store.index_root(kb_with_lessons / ".lessons")
    folder = store.current_generation(root)
    if damage == "truncate-faiss":
        path = folder / "passages.faiss"
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage-manifest":
        (folder / "manifest.json").write_text("{not json")
    elif damage == "missing-current-target":
        (root / "CURRENT").write_text("gen-0-0\n")
    elif damage == "truncate-npy":
        path = folder / "passage_lesson.npy"
        path.write_bytes(path.read_bytes()[:-8])
    else:
        (folder / "facets.json").write_text("[" + " " * (len((folder / "facets.json").read_text()) - 1))
    with pytest.raises(IndexProblem, match=r"the index is damaged.*run 'lessons index' to repair it"):
        _load(kb_with_lessons)
    # the index command itself recovers (tests/quick/test_integrity.py checks how little it embeds again)
    report = _refresh(kb_with_lessons)
    assert report.lessons == 5
    assert len(_load(kb_with_lessons).lessons) == 5


def test_foreign_model_or_dimension_is_refused(kb_with_lessons: Path) -> None:
    _refresh(kb_with_lessons)
    root = store.index_root(kb_with_lessons / ".lessons")
    with pytest.raises(IndexProblem, match=r"built with model fake-hash-embedder.*rebuild"):
        store.load(root, dict(FAKE_IDENTITY, name="other-model", sha256="1" * 64))
    with pytest.raises(IndexProblem, match="dimension"):
        store.load(root, dict(FAKE_IDENTITY, dimension=384))


def test_second_writer_waits_then_names_the_holder(kb_with_lessons: Path) -> None:
    with lock_held(kb_with_lessons / ".lessons", "lessons index --rebuild") as pid:
        started = time.monotonic()
        with pytest.raises(IndexLocked, match=rf"pid {pid}, 'lessons index --rebuild'"):
            _refresh(kb_with_lessons, wait=0.5)
        assert time.monotonic() - started >= 0.5
    assert _refresh(kb_with_lessons, wait=2).lessons == 5  # released: the next writer gets in


def test_staleness_detects_added_and_removed_files(kb_with_lessons: Path) -> None:
    _refresh(kb_with_lessons)
    kbase = find_root(explicit=kb_with_lessons)
    assert not build.is_stale(kbase, _load(kb_with_lessons))
    (kb_with_lessons / "lessons" / "new-two.md").write_text(topic_lesson("new thing"))
    assert build.is_stale(kbase, _load(kb_with_lessons))
    _refresh(kb_with_lessons)
    (kb_with_lessons / "lessons" / "new-two.md").unlink()
    assert build.is_stale(kbase, _load(kb_with_lessons))


def test_manifest_records_what_built_the_index(kb_with_lessons: Path) -> None:
    _refresh(kb_with_lessons)
    folder = store.current_generation(store.index_root(kb_with_lessons / ".lessons"))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["model"]["dimension"] == 64 and manifest["tool_version"] and manifest["counts"]["lessons"] == 5
    assert set(manifest["files"]) >= {"passages.faiss", "lessons.faiss", "lessons.jsonl", "files.json", "facets.json", "kw_vocab.json"}


def test_flat_index_file_is_what_faiss_writes_and_reads(tmp_path: Path) -> None:
    import faiss

    matrix = np.random.default_rng(1).random((9, 16), dtype=np.float32)
    flat.write_flat_index(tmp_path / "ours.faiss", matrix)
    reference = faiss.IndexFlatIP(16)
    reference.add(matrix)
    faiss.write_index(reference, str(tmp_path / "faiss.faiss"))
    assert (tmp_path / "ours.faiss").read_bytes() == (tmp_path / "faiss.faiss").read_bytes()
    back = faiss.read_index(str(tmp_path / "ours.faiss"))
    np.testing.assert_array_equal(back.reconstruct_n(0, 9), matrix)
    np.testing.assert_array_equal(flat.flat_index_matrix(tmp_path / "faiss.faiss", 16), matrix)


def test_touching_a_broken_file_is_recorded_once(kb_with_lessons: Path) -> None:
    broken = kb_with_lessons / "lessons" / "broken-one.md"
    broken.write_text(topic_lesson("broken", outcome="sucess"))
    _refresh(kb_with_lessons)
    broken.write_text(broken.read_text())  # same content, new modification time
    kbase = find_root(explicit=kb_with_lessons)
    assert build.is_stale(kbase, _load(kb_with_lessons))
    embedder = FakeEmbedder()
    _refresh(kb_with_lessons, embedder)
    assert embedder.calls == [] and not build.is_stale(kbase, _load(kb_with_lessons))


def test_an_unreadable_folder_is_reported_once(kb_with_lessons: Path) -> None:
    make_unreadable_folder(kb_with_lessons / "lessons" / "archive")
    first = _refresh(kb_with_lessons)
    (kb_with_lessons / "lessons" / "crm-one.md").write_text(topic_lesson("crm pipeline changed"))
    again = _refresh(kb_with_lessons)
    for report in (first, again):
        assert [f.rule for f in report.left_out] == ["unreadable-folder"]
        assert "/archive/" in report.left_out[0].path and "left out of the index" in report.left_out[0].message
