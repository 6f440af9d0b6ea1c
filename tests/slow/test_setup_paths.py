"""The maintainer's and the contributor's first steps, run for real: the light install in a clean virtualenv,
`lessons init` followed by the whole chain the README promises, and a real pre-commit run on a commit that adds
a lesson. These need PyPI (the light install's few packages) and the bundled model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import GIT_USER, REPO, git, installed_tool, lesson_text
from tests.quick.test_contributing import issue_body

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
HEAVY = {"torch", "onnxruntime", "faiss-cpu", "numpy", "onnx", "sentence-transformers", "transformers", "tokenizers", "mkdocs", "scipy"}


def _bash(script: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-o", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _source_copy(target: Path) -> Path:
    """The package's source as a fresh folder (pip builds in place: the worktree stays clean)."""
    shutil.copytree(REPO / "indexer", target / "indexer", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, target / name)
    return target


@pytest.mark.parametrize("options", ["", " --no-samples"], ids=["samples", "no-samples"])
def test_init_then_check_index_search_and_site_as_documented(tmp_path: Path, model_cache: Path, options: str) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "LESSONS_CACHE_DIR": str(model_cache)}
    chain = f'lessons init my-kb{options} && cd my-kb && lessons check --strict && lessons index && lessons search "test" && '
    chain += "lessons site --strict"
    proc = _bash(chain, tmp_path, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = tmp_path / "my-kb" / "site"
    assert (site / "index.html").is_file() and (site / "contributing" / "index.html").is_file()
    lessons = sorted((site / "lessons").glob("*/index.html")) if (site / "lessons").is_dir() else []
    assert len(lessons) == (0 if options else 3)
    assert ("no lessons yet" in proc.stderr) is bool(options)


def test_light_install_validates_without_the_search_stack(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    source = _source_copy(tmp_path / "src")
    pip = subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "-q", str(source)], capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    listed = subprocess.run([venv / "bin" / "python", "-m", "pip", "list", "--format", "json"], capture_output=True, text=True, check=True)
    installed = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "lessons-kb" in installed and not installed & HEAVY, installed & HEAVY
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    (tmp_path / "issue.md").write_text(issue_body())
    new = (
        'cd kb && lessons new --title "Moving our invoices to e-invoicing" --sector retail-wholesale --size small '
        "--outcome success --technology e-invoicing --no-interactive && rm lessons/moving-our-invoices-to-e-invoicing.md"
    )
    for step in ("lessons init kb", "cd kb && lessons check --strict && lessons check lessons/ && lessons schema > /dev/null", new):
        proc = _bash(step, tmp_path, env)
        assert proc.returncode == 0, (step, proc.stdout + proc.stderr)
    made = _bash("cd kb && lessons from-issue ../issue.md && lessons check", tmp_path, env)
    assert made.returncode == 0 and "Created lessons/" in made.stdout, made.stdout + made.stderr
    committed = _bash(f"cd kb && git init -q -b main && git add . && git {' '.join(GIT_USER)} commit -q -m start", tmp_path, env)
    assert committed.returncode == 0, committed.stderr
    (tmp_path / "kb" / "lessons" / "a-second-lesson.md").write_text(lesson_text(title="A second lesson on the light install"))
    review = _bash("cd kb && lessons review --base main", tmp_path, env)
    assert review.returncode == 0, review.stdout + review.stderr
    assert "lessons/a-second-lesson.md" in review.stdout and "the search extra is not installed" in review.stdout
    search = _bash('cd kb && lessons search "anything"', tmp_path, env)
    assert search.returncode == 3 and "pip install 'lessons-kb[search]'" in search.stderr and "Traceback" not in search.stderr


def test_pre_commit_runs_the_hook_with_relative_file_names(tmp_path: Path) -> None:
    pre_commit = installed_tool("pre-commit")
    if not pre_commit:
        pytest.skip("pre-commit is not installed (pip install '.[test]')")
    # the hook repository as pre-commit would clone it: this source at one commit
    hook_repo = _source_copy(tmp_path / "hooks")
    shutil.copy(REPO / ".pre-commit-hooks.yaml", hook_repo)
    git(hook_repo, "init", "-q", "-b", "main")
    git(hook_repo, "add", ".")
    git(hook_repo, *GIT_USER, "commit", "-q", "-m", "hooks")
    kb = tmp_path / "kb"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    assert _bash("lessons init kb --no-samples && cd kb && git init -q -b main", tmp_path, env).returncode == 0
    (kb / "lessons" / "our-first-lesson.md").write_text(lesson_text(title="Our first lesson, committed through pre-commit"))
    git(kb, "add", ".")
    hook = [pre_commit, "try-repo", str(hook_repo), "lessons-check", "--verbose"]
    passed = subprocess.run(hook, cwd=kb, env=env, capture_output=True, text=True, timeout=900)
    assert passed.returncode == 0 and "Passed" in passed.stdout, passed.stdout + passed.stderr
    (kb / "lessons" / "broken.md").write_text(lesson_text(title="A lesson whose outcome is wrong", outcome="failed"))
    git(kb, "add", "lessons/broken.md")
    failed = subprocess.run(hook, cwd=kb, env=env, capture_output=True, text=True, timeout=900)
    assert failed.returncode == 1 and "Failed" in failed.stdout, failed.stdout + failed.stderr
    # pre-commit passes relative names: the finding names the file so, and nothing is a duplicate of itself
    assert "lessons/broken.md:" in failed.stdout and "duplicate-id" not in failed.stdout
