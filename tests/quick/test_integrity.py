"""Index checksums: every damaged file is noticed by readers and repaired by the next refresh, re-embedding only
what it must (library level, with the small fake embedder)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from indexer.core.kb import find_root
from indexer.errors import IndexDamaged, IndexFolderBlocked, IndexOutdated
from indexer.search import build, integrity, rank, store
from tests.helpers import FAKE_IDENTITY, FakeEmbedder, topic_lesson

TOPICS = ["cloud erp migration", "electronic invoicing mandate", "ransomware backup restore", "voip telephone system"]
INDEX_FILES = [f"{name}.npy" for name in store.ARRAYS] + [
    "passages.bin",
    "lessons.jsonl",
    "files.json",
    "facets.json",
    "kw_vocab.json",
    "passages.faiss",
    "lessons.faiss",
    "manifest.json",
]
QUERIES = ["ransomware backups", "invoicing", "telephone"]


@pytest.fixture
def indexed(kb: Path) -> Path:
    """A knowledge base indexed twice (so a previous generation exists), the last time after adding one lesson."""
    for i, topic in enumerate(TOPICS):
        (kb / "lessons" / f"lesson-{i}.md").write_text(topic_lesson(topic))
    _refresh(kb)
    (kb / "lessons" / "crm-one.md").write_text(topic_lesson("crm sales pipeline"))
    _refresh(kb)
    return kb


def _refresh(root: Path, embedder: FakeEmbedder | None = None) -> build.IndexReport:
    return build.refresh(find_root(explicit=root), embedder or FakeEmbedder(), FAKE_IDENTITY)


def _root(kb: Path) -> Path:
    return store.index_root(kb / ".lessons")


def _answers(kb: Path) -> list[list[tuple[str, float, str, str]]]:
    data = store.load(_root(kb), FAKE_IDENTITY)
    return [[(h.id, h.score, h.snippet, h.title) for h in hits] for hits in rank.search(data, FakeEmbedder(), QUERIES)]


def flip(path: Path, at: float = 0.5) -> None:
    """Invert one byte in place (same size), then set the modification time back: only the change time tells."""
    before = path.stat()
    raw = bytearray(path.read_bytes())
    raw[int(len(raw) * at)] ^= 0xFF
    path.write_bytes(bytes(raw))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.mark.parametrize("name", INDEX_FILES)
def test_a_flipped_byte_is_noticed_and_repaired_by_the_next_refresh(indexed: Path, name: str) -> None:
    expected = _answers(indexed)
    flip(store.current_generation(_root(indexed)) / name)
    with pytest.raises(IndexDamaged, match=r"the index is damaged .*run 'lessons index' to repair it"):
        store.load(_root(indexed), FAKE_IDENTITY)
    embedder = FakeEmbedder()
    report = _refresh(indexed, embedder)
    assert report.repaired and not report.up_to_date and report.lessons == 5 and report.changed == []
    embedded = sum(embedder.calls)
    if name == "passages.faiss":  # one block holds every vector here: every lesson is embedded again
        assert 0 < embedded <= report.passages
    elif name in ("manifest.json", "passage_hash.npy"):  # vectors cannot be matched to their texts: start from the
        # previous index, which lacks one lesson
        assert 0 < embedded < report.passages and "previous index" in report.repaired[0]
    else:  # texts, records, keyword data, lesson vectors: rebuilt from the files, every vector kept
        assert embedded == 0, report.repaired
    assert _answers(indexed) == expected
    assert _refresh(indexed).up_to_date


def test_a_garbled_current_file_starts_again_from_the_newest_generation_that_verifies(indexed: Path) -> None:
    expected = _answers(indexed)
    flip(_root(indexed) / "CURRENT", at=0.1)
    with pytest.raises(IndexDamaged, match="CURRENT"):
        store.load(_root(indexed), FAKE_IDENTITY)
    embedder = FakeEmbedder()
    report = _refresh(indexed, embedder)
    assert report.repaired and sum(embedder.calls) == 0 and _answers(indexed) == expected


def test_only_the_lessons_in_a_damaged_vector_block_are_embedded_again(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(integrity, "BLOCK_ROWS", 8)  # small blocks, so that a few lessons fill several
    for i in range(12):
        (kb / "lessons" / f"lesson-{i:02d}.md").write_text(topic_lesson(f"topic number {i} words{i}"))
    _refresh(kb)
    expected = _answers(kb)
    folder = store.current_generation(_root(kb))
    data = store.load(_root(kb), FAKE_IDENTITY)
    flip(folder / "passages.faiss", at=(integrity.FLAT_HEADER + 4 * 64 * 20 + 8) / (folder / "passages.faiss").stat().st_size)
    embedder = FakeEmbedder()
    report = _refresh(kb, embedder)
    block = range(16, 24)  # the second block of 8 rows holds the damaged passage 20
    lessons = set(data.passage_lesson[list(block)].tolist())
    assert "1 damaged block(s)" in report.repaired[0]
    # at most the passages of the two lessons in that block (fewer when an intact row holds the same text)
    assert 0 < sum(embedder.calls) <= int(np.isin(data.passage_lesson, list(lessons)).sum()) < len(data.passage_lesson) / 2
    assert _answers(kb) == expected


def test_vectors_of_any_length_are_refused_before_they_give_scores(indexed: Path) -> None:
    folder = store.current_generation(_root(indexed))
    path = folder / "passages.faiss"
    raw = bytearray(path.read_bytes())
    raw[integrity.FLAT_HEADER + 3] = 0x7F  # the exponent byte of the first float: about 1e38
    path.write_bytes(bytes(raw))
    with pytest.raises(IndexDamaged, match=r"passages\.faiss does not match"):
        store.load(_root(indexed), FAKE_IDENTITY)


def test_offsets_that_do_not_fit_are_damage_even_when_checksums_hold(indexed: Path) -> None:
    folder = store.current_generation(_root(indexed))
    manifest = store.read_manifest(folder)
    offsets = np.load(folder / "passage_offsets.npy")
    offsets[1] = 10**9
    np.save(folder / "passage_offsets.npy", offsets)
    with pytest.raises(IndexDamaged, match="passage_offsets"):
        store.read_verified(folder, manifest)


def test_a_copied_index_is_verified_once_and_then_trusted_by_fingerprint(indexed: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(indexed / ".lessons" / "index", copy)
    folder = store.current_generation(copy)
    assert not (folder / integrity.STAMP).exists()
    store.load(copy, FAKE_IDENTITY)  # new inodes: every file is hashed, then recorded
    stamp = integrity.read_stamp(folder / integrity.STAMP)
    assert set(stamp) == set(store.read_manifest(folder)["checksums"])
    assert stamp["lessons.jsonl"] == integrity.fingerprint(folder / "lessons.jsonl")
    flip(folder / "lessons.jsonl")
    with pytest.raises(IndexDamaged, match=r"lessons\.jsonl"):
        store.load(copy, FAKE_IDENTITY)


def test_a_file_at_the_index_folder_or_a_folder_at_the_lock_is_named_with_its_fix(kb: Path) -> None:
    (kb / ".lessons").write_text("not a folder")
    with pytest.raises(IndexFolderBlocked, match=r"\.lessons is a file.*move or delete it"):
        _refresh(kb)
    (kb / ".lessons").unlink()
    (kb / ".lessons" / "lock").mkdir(parents=True)
    with pytest.raises(IndexFolderBlocked, match=r"\.lessons/lock is a folder.*remove it"):
        _refresh(kb)
    with pytest.raises(IndexFolderBlocked, match=r"\.lessons/lock is a folder"):
        store.load(_root(kb), FAKE_IDENTITY)


def test_an_index_of_the_previous_format_is_updated_without_embedding_again(indexed: Path) -> None:
    expected = _answers(indexed)
    folder = store.current_generation(_root(indexed))
    manifest = store.read_manifest(folder)
    for key in ("checksums", "vector_blocks", "fingerprints", "self_sha256"):
        del manifest[key]
    (folder / "manifest.json").write_text(json.dumps(manifest | {"format": 2}))
    with pytest.raises(IndexOutdated, match=r"older version of lessons.*run 'lessons index' to update it"):
        store.load(_root(indexed), FAKE_IDENTITY)
    embedder = FakeEmbedder()
    report = _refresh(indexed, embedder)
    assert "written by an older version" in report.repaired[0] and embedder.calls == []
    assert _answers(indexed) == expected


def _fake_export(folder: Path) -> Path:
    """An export folder as `embedding._export` writes it (the files' contents do not matter to the checksums)."""
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(os.urandom(4096))
    (folder / "tokenizer.json").write_text('{"model": "fake"}')
    info = {"onnx_sha256": integrity.file_sha256(folder / "model.onnx"), "onnx_size": 4096}
    (folder / "export.json").write_text(json.dumps(info))
    return folder


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("flip-model", "model.onnx does not match"),
        ("flip-tokenizer", "tokenizer.json does not match"),
        ("delete-export-json", "missing or unreadable"),
        ("garble-export-json", "missing or unreadable"),
    ],
)
def test_a_damaged_model_export_is_refused_with_its_reason(tmp_path: Path, damage: str, reason: str) -> None:
    from indexer.search.embedding import export_problem

    folder = _fake_export(tmp_path / "export")
    assert export_problem(folder) is None  # first verification: hashes both, records the tokenizer's hash
    assert "tokenizer_sha256" in json.loads((folder / "export.json").read_text())
    assert export_problem(folder) is None  # then trusted by fingerprint
    if damage == "flip-model":
        flip(folder / "model.onnx")
    elif damage == "flip-tokenizer":
        flip(folder / "tokenizer.json", at=0.3)
    elif damage == "delete-export-json":
        (folder / "export.json").unlink()
    else:
        flip(folder / "export.json", at=0.0)
    problem = export_problem(folder)
    assert problem is not None and reason in problem
