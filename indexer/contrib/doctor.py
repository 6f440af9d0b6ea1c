"""`lessons doctor`: what a maintainer has not set up yet in a knowledge base, found from its files.

Each item of docs/maintaining.md's checklist that a file can show is checked here; the ones only GitHub's
settings can show (Pages turned on, the labels created, Actions allowed to open pull requests) are listed as
reminders."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..core.kb import KnowledgeBase
from ..core.settings import SETTINGS_FILE, Settings
from .init import ISSUE_FORM
from .issue_reply import ACCEPT_LABEL, SUBMITTED_LABEL

WORKFLOWS = ("deploy.yml", "issue-to-pr.yml", "lessons-checks.yml", "pull-request.yml", "review-comment.yml")
PLACEHOLDER = re.compile(r"OWNER|REPOSITORY|example\.(com|org)", re.IGNORECASE)
LABEL_GATE = re.compile(r"github\.event\.label\.name\s*==\s*'([^']*)'")
REMINDERS = (
    "GitHub Pages: Settings > Pages > Source: GitHub Actions",
    f"labels '{SUBMITTED_LABEL}' and '{ACCEPT_LABEL}' exist: Issues > Labels > New label",
    "Actions may open pull requests: Settings > Actions > General > Workflow permissions",
)


@dataclass(frozen=True)
class Item:
    """One thing to set up: its id, whether it is done, what is wrong and how to fix it."""

    id: str
    ok: bool
    message: str
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def diagnose(kb: KnowledgeBase, settings: Settings, sample_ids: list[str]) -> list[Item]:
    """Every file-visible item of the maintainer's checklist; `sample_ids` are the lessons marked `sample: true`."""
    return [
        _repo_url(settings),
        _site_url(settings),
        _samples(sample_ids),
        _workflows(kb.root),
        *_labels(kb),
    ]


def _repo_url(settings: Settings) -> Item:
    if not settings.repo_url or PLACEHOLDER.search(settings.repo_url):
        shown = settings.repo_url or "empty"
        return Item("repo-url", False, f"[site] repo_url is {shown}", f"set repo_url in {SETTINGS_FILE} to your repository's address")
    return Item("repo-url", True, f"[site] repo_url is {settings.repo_url}")


def _site_url(settings: Settings) -> Item:
    if not settings.site_url or PLACEHOLDER.search(settings.site_url):
        return Item(
            "site-url",
            False,
            "[site] url is not set",
            f"set url in {SETTINGS_FILE} to the published address, e.g. https://OWNER.github.io/REPO/",
        )
    return Item("site-url", True, f"[site] url is {settings.site_url}")


def _samples(sample_ids: list[str]) -> Item:
    if sample_ids:
        return Item(
            "samples",
            False,
            f"{len(sample_ids)} fictional sample lesson(s) still published and counted: {', '.join(sample_ids[:3])}"
            + (" ..." if len(sample_ids) > 3 else ""),
            "remove them with `lessons samples --remove` once real lessons arrive (or keep them on purpose)",
        )
    return Item("samples", True, "no sample lessons")


def _workflows(root: Path) -> Item:
    missing = [name for name in WORKFLOWS if not (root / ".github" / "workflows" / name).is_file()]
    if missing:
        return Item("workflows", False, f"missing .github/workflows/{', '.join(missing)}", "copy them from a new `lessons init` folder")
    return Item("workflows", True, "every workflow is present")


def _labels(kb: KnowledgeBase) -> list[Item]:
    """The form must apply only the `submitted` label, and the issue workflow must wait for the maintainers' one."""
    import yaml

    items = []
    form = kb.root / ISSUE_FORM
    try:
        labels = (yaml.safe_load(form.read_text(encoding="utf-8")) or {}).get("labels") or []
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError) as exc:
        items.append(
            Item(
                "issue-form", False, f"{ISSUE_FORM} cannot be read ({exc})", "regenerate it with `lessons issue-form -o " + ISSUE_FORM + "`"
            )
        )
        labels = None
    if labels is not None:
        from .issue_form import render_issue_form

        current = form.read_text(encoding="utf-8") == render_issue_form(kb.taxonomy)
        items.append(
            Item(
                "issue-form",
                current,
                f"{ISSUE_FORM} {'offers' if current else 'does not offer'} the taxonomy's current choices",
                "" if current else f"regenerate it with `lessons issue-form -o {ISSUE_FORM}`",
            )
        )
        ok = SUBMITTED_LABEL in labels and ACCEPT_LABEL not in labels
        items.append(
            Item(
                "form-label",
                ok,
                f"the issue form applies the labels {labels}",
                "" if ok else f"the form must apply '{SUBMITTED_LABEL}' only: regenerate it with `lessons issue-form -o {ISSUE_FORM}`",
            )
        )
    workflow = kb.root / ".github" / "workflows" / "issue-to-pr.yml"
    gates = LABEL_GATE.findall(workflow.read_text(encoding="utf-8")) if workflow.is_file() else []
    ok = gates == [ACCEPT_LABEL]
    found = ", ".join(f"'{g}'" for g in gates) or "none"
    items.append(
        Item(
            "workflow-label",
            ok,
            f"issue-to-pr.yml opens a pull request on the label(s) {found}",
            "" if ok else f"issue-to-pr.yml must wait for the maintainers' label '{ACCEPT_LABEL}' (copy it from `lessons init`)",
        )
    )
    return items
