"""The GitHub workflows, read as GitHub would run them: schema-valid, zizmor-clean, least privilege, the label
gate with its permission check, no pull request for a lesson with errors, the fork-safe review comment, pinned
installs. The same files are what `lessons init` writes (tests/quick/test_init.py keeps them equal)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from indexer.contrib.issue_reply import ACCEPT_LABEL, SUBMITTED_LABEL
from tests.helpers import REPO, installed_tool

WORKFLOW_DIR = REPO / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))
FORM = REPO / ".github" / "ISSUE_TEMPLATE" / "lesson.yml"


def _load(name: str) -> dict:
    return yaml.safe_load((WORKFLOW_DIR / name).read_text(encoding="utf-8"))


def _tool(name: str) -> str:
    found = installed_tool(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install '.[test]')")
    return found


def _steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def _script(workflow: dict, job: str, step_name: str) -> str:
    return next(step["run"] for step in _steps(workflow, job) if step.get("name") == step_name)


def test_workflows_and_issue_form_match_the_github_schemas() -> None:
    assert WORKFLOWS and FORM.exists()
    for schema, files in (("vendor.github-workflows", WORKFLOWS), ("vendor.github-issue-forms", [FORM])):
        proc = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing() -> None:
    proc = subprocess.run([_tool("zizmor"), "--offline", "--format", "json", str(WORKFLOW_DIR)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []


def test_every_job_asks_only_for_what_it_needs() -> None:
    for path in WORKFLOWS:
        data = yaml.safe_load(path.read_text())
        assert data["permissions"] == {}, path  # nothing by default; each job asks for what it needs
        for name, job in data["jobs"].items():
            assert "permissions" in job, (path, name)
            for step in job.get("steps", []):
                if "uses" in step:
                    assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
                script = step.get("run", "")
                assert "${{ github.event.issue" not in script and "${{ github.event.pull_request.title" not in script
                assert "${{" not in script, (path, name, "expressions reach scripts through env only")
    assert _load("lessons-checks.yml")["jobs"]["check"]["permissions"] == {"contents": "read"}
    assert _load("pull-request.yml")["jobs"]["checks"]["permissions"] == {"contents": "read"}
    assert _load("review-comment.yml")["jobs"]["comment"]["permissions"] == {"actions": "read", "pull-requests": "write"}


def test_the_form_submits_and_only_a_maintainers_label_opens_a_pull_request() -> None:
    assert yaml.safe_load(FORM.read_text())["labels"] == [SUBMITTED_LABEL]
    workflow = _load("issue-to-pr.yml")
    assert workflow[True] == {"issues": {"types": ["labeled"]}}  # YAML 1.1 reads 'on' as True
    job = workflow["jobs"]["open-pull-request"]
    assert job["if"] == f"${{{{ github.event.label.name == '{ACCEPT_LABEL}' }}}}"
    # the first step asks GitHub for the labeller's permission and stops unless it is write or above
    first = job["steps"][0]
    assert first["env"]["LABELLER"] == "${{ github.event.sender.login }}"
    assert 'gh api "repos/$REPO/collaborators/$LABELLER/permission"' in first["run"]
    accepted = re.search(r"^\s*([\w|]+)\) echo", first["run"], re.M)
    assert accepted and set(accepted.group(1).split("|")) == {"admin", "maintain", "write"}
    assert re.search(r"\*\).*exit 1", first["run"])


def test_a_lesson_with_errors_gets_a_comment_and_no_pull_request() -> None:
    workflow = _load("issue-to-pr.yml")
    script = _script(workflow, "open-pull-request", "Write the lesson")
    failure = script[script.index('if [ "$status" != 0 ]') : script.index("fi\n")]
    assert "--reply" in script and "gh issue comment" in failure and failure.rstrip().endswith("exit 1")
    assert "git " not in failure and "gh pr" not in failure
    names = [step.get("name") for step in _steps(workflow, "open-pull-request")]
    assert names.index("Write the lesson") < names.index("Commit and open the pull request")
    # the pull request the built-in token opens triggers no workflow: this one runs its checks itself
    checks = workflow["jobs"]["checks"]
    assert checks["uses"].startswith("./.github/workflows/lessons-checks.yml") and checks["needs"] == "open-pull-request"


def test_fork_pull_requests_get_the_comment_through_workflow_run() -> None:
    workflow = _load("review-comment.yml")
    assert workflow[True]["workflow_run"]["workflows"] == ["Pull request", "Lesson from issue"]
    steps = _steps(workflow, "comment")
    assert not any("checkout" in step.get("uses", "") for step in steps)  # nothing from the run is checked out
    download = steps[0]
    assert download["uses"].startswith("actions/download-artifact@") and download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    script = steps[1]["run"]
    assert "*[!0-9]*" in script  # the pull-request number is digits or nothing
    assert '"$RUN_HEAD_SHA"' in script  # and names a pull request at the run's commit
    assert "head -c 60000" in script and "iconv" in script and "@\\xe2\\x80\\x8b" in script
    assert 'select(.user.login == \\"github-actions[bot]\\"' in script  # only its own comment is edited
    assert "--input" in script and "eval" not in script and "source " not in script
    # the checks upload the review for it, with the pull request's number; they no longer comment themselves
    checks = _load("lessons-checks.yml")
    assert "pull-requests" not in json.dumps(checks)
    review = _script(checks, "check", "Review the changed lessons against the base")
    assert "lessons review --base" in review and "pr-number" in review


def test_installs_are_pinned_and_light_where_they_can_be() -> None:
    constraints = (REPO / ".github" / "constraints.txt").read_text()
    pins = dict(line.split("==") for line in constraints.splitlines() if line and not line.startswith("#"))
    for name in ("click", "pydantic", "pyyaml", "markdown", "nh3", "numpy", "onnxruntime", "faiss-cpu", "mkdocs", "torch"):
        assert name in pins, name
    installs = 0
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):
                for line in step.get("run", "").splitlines():
                    if "pip install" in line and "torch==" not in line:
                        installs += 1
                        assert "-c .github/constraints.txt -r .github/requirements/" in line, (path, line)
    assert installs == 3
    light = _script(_load("issue-to-pr.yml"), "open-pull-request", "Install")
    assert "requirements/validate.txt" in light and "torch" not in light
    assert (REPO / ".github" / "requirements" / "validate.txt").read_text().splitlines()[-1] == "."
