"""The file system as an attacker would use it: only regular files inside the root are read, by check, index and
site alike. FIFOs, devices and links out of the root are findings or clean errors, never hangs, reads or copies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.core.check import check_knowledge_base
from indexer.core.kb import UnsafeFile, find_root, read_regular
from indexer.errors import KnowledgeBaseNotFound, SiteBuildFailed
from indexer.web.build import static_files
from tests.helpers import lesson_text


@pytest.fixture
def hostile_kb(kb: Path) -> Path:
    lessons = kb / "lessons"
    (lessons / "good-one.md").write_text(lesson_text())
    os.mkfifo(lessons / "fifo-one.md")
    (lessons / "zero-one.md").symlink_to("/dev/zero")
    (lessons / "passwd-one.md").symlink_to("/etc/passwd")
    return kb


def test_check_reports_fifo_and_links_without_reading_them(hostile_kb: Path) -> None:
    # in a child process with a timeout: a hang must fail the test, not stop the run
    proc = subprocess.run(
        [sys.executable, "-m", "indexer", "--root", str(hostile_kb), "check", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    findings = json.loads(proc.stdout)["findings"]
    assert {Path(f["path"]).name: f["rule"] for f in findings} == {
        "fifo-one.md": "not-regular",
        "zero-one.md": "symlink",
        "passwd-one.md": "symlink",
    }
    assert "root:" not in proc.stdout + proc.stderr  # nothing of /etc/passwd is read
    assert [lesson.id for lesson in check_knowledge_base(find_root(explicit=hostile_kb)).lessons] == ["good-one"]


def test_read_regular_refuses_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "big").write_bytes(b"x" * 2048)
    (tmp_path / "inside").write_text("ok")
    (tmp_path / "link").symlink_to(tmp_path / "inside")
    with pytest.raises(UnsafeFile, match="FIFO"):
        read_regular(tmp_path / "pipe", 1024)
    with pytest.raises(UnsafeFile, match="not a regular file"):
        read_regular(Path("/dev/zero"), 1024)
    with pytest.raises(UnsafeFile, match="limit is 1 KiB"):
        read_regular(tmp_path / "big", 1024)
    with pytest.raises(UnsafeFile, match="symbolic link"):
        read_regular(tmp_path / "link", 1024)  # a lesson is never a link...
    assert read_regular(tmp_path / "link", 1024, inside=tmp_path) == b"ok"  # ...a docs page may link inside the root
    with pytest.raises(UnsafeFile, match="outside the knowledge base"):
        read_regular(tmp_path / "link", 1024, inside=tmp_path / "elsewhere")


def test_docs_link_out_of_the_root_is_never_copied(kb: Path) -> None:
    docs = kb / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "page.md").write_text("# Page\n")
    (docs / "leak.md").symlink_to("/etc/passwd")
    with pytest.raises(SiteBuildFailed, match=r"leak\.md: a symbolic link to a file outside the knowledge base"):
        static_files(docs, docs / "generated")
    (docs / "leak.md").unlink()
    os.mkfifo(docs / "pipe.md")
    with pytest.raises(SiteBuildFailed, match=r"pipe\.md: not a regular file"):
        static_files(docs, docs / "generated")


def test_lessons_folder_linked_out_of_the_root_is_a_clean_error(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = tmp_path / "kb"
    root.mkdir()
    (root / "lessons").symlink_to(elsewhere)
    with pytest.raises(KnowledgeBaseNotFound, match="outside the knowledge base: make 'lessons/' a real folder"):
        find_root(explicit=root)
    with pytest.raises(KnowledgeBaseNotFound):
        find_root(start=root)
