"""`lessons init`: a new knowledge base that passes `lessons check --strict` and `lessons site --strict` as it
stands: taxonomy, settings, site configuration and pages, GitHub workflows and issue form, starter lessons.

The files are package data (indexer/starter/files/); most are this repository's own, kept equal by a test."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from .. import __version__
from ..core.files import create_exclusive
from ..core.kb import LESSONS_DIR, TAXONOMY_FILE
from ..errors import UsageError

ISSUE_FORM = ".github/ISSUE_TEMPLATE/lesson.yml"
# Starter files written for a knowledge base only; every other starter file is a copy of this repository's own.
STARTER_ONLY = frozenset(
    {
        ".gitignore",
        ".pre-commit-config.yaml",
        ".github/requirements/validate.txt",
        ".github/requirements/search.txt",
        "lessons.toml",
        "mkdocs.yml",
    }
)


@dataclass(frozen=True)
class Domain:
    """The wording of a knowledge base: who shares the lessons, whether lessons name business functions, and the
    taxonomy's `wording` section (empty: the project's own words, "company" and "Company size")."""

    description: str
    business_functions: bool
    wording: str = ""


GENERIC_WORDING = """
# How the site, the issue form and `lessons new` name the contributors' organisations.
wording:
  company: {name: "organisation", es: "organización"}
  company_size: {name: "Organisation size", es: "Tamaño de la organización"}
  company_sizes: {name: "Organisation sizes", es: "Tamaños de organización"}
"""
DOMAINS = {
    "sme": Domain("Lessons learned by small and medium businesses when they adopt technology", business_functions=True),
    "generic": Domain("Lessons learned by organisations when they adopt technology", business_functions=False, wording=GENERIC_WORDING),
}


def starter_root() -> Traversable:
    return resources.files("indexer.starter") / "files"


def starter_files() -> dict[str, str]:
    """Every starter file as stored: path in a knowledge base (hidden names restored) -> text."""
    found: dict[str, str] = {}
    stack: list[tuple[Traversable, str]] = [(starter_root(), "")]
    while stack:
        folder, prefix = stack.pop()
        for entry in folder.iterdir():
            name = "." + entry.name[4:] if entry.name.startswith("dot-") else entry.name
            if entry.is_dir():
                stack.append((entry, f"{prefix}{name}/"))
            elif not entry.name.endswith((".pyc", ".py")):
                found[prefix + name] = entry.read_text(encoding="utf-8")
    return found


def _is_sample(rel: str) -> bool:
    return rel.startswith(f"{LESSONS_DIR}/") and rel.endswith(".md")


def _adapt_sample(text: str, domain: Domain) -> str:
    """A starter lesson without links to lessons the new knowledge base lacks, nor facets its domain lacks."""
    text = re.sub(r"(?m)^related:.*\n", "", text)
    return text if domain.business_functions else re.sub(r"(?m)^business_function:.*\n", "", text)


def _adapt_taxonomy(text: str, domain: Domain) -> str:
    """The taxonomy, without its business functions where the domain has none (the section is optional), and
    with the domain's wording."""
    if not domain.business_functions:
        text = re.sub(r"(?ms)^business_functions:\n.*?(?=^\S|\Z)", "", text).rstrip("\n") + "\n"
    return text + domain.wording


def planned_files(name: str, domain_name: str = "sme", samples: bool = True) -> dict[str, str]:
    """What `lessons init` writes, by path relative to the new knowledge base (the issue form comes later)."""
    domain = DOMAINS[domain_name]
    planned: dict[str, str] = {}
    for rel, text in starter_files().items():
        if _is_sample(rel):
            if samples:
                planned[rel] = _adapt_sample(text, domain)
            continue
        if rel == f"{LESSONS_DIR}/{TAXONOMY_FILE}":
            text = _adapt_taxonomy(text, domain)
        text = text.replace("@@VERSION@@", __version__).replace("@@DESCRIPTION@@", domain.description).replace("@@NAME@@", name)
        planned[rel] = text
    planned["docs/generated/.gitkeep"] = ""
    return dict(sorted(planned.items()))


def init_knowledge_base(target: Path, domain_name: str = "sme", samples: bool = True) -> list[str]:
    """Write a new knowledge base into `target` (created if needed); returns the paths written, relative to it.

    Refuses, before writing anything, if any of the files already exists."""
    from ..core.taxonomy import load_taxonomy
    from .issue_form import render_issue_form

    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a folder: choose a folder name for the new knowledge base")
    planned = planned_files(target.resolve().name, domain_name, samples)
    existing = [rel for rel in [*planned, ISSUE_FORM] if (target / rel).exists() or (target / rel).is_symlink()]
    if existing:
        shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
        raise UsageError(f"{target}: would overwrite {shown}; lessons init never overwrites files: choose an empty folder")
    for rel, text in planned.items():
        create_exclusive(target / rel, text)
    taxonomy = load_taxonomy(target / LESSONS_DIR / TAXONOMY_FILE)
    create_exclusive(target / ISSUE_FORM, render_issue_form(taxonomy))
    return [*planned, ISSUE_FORM]


def shared_files(repo: Path) -> list[tuple[Path, Path]]:
    """(stored starter file, this repository's own file) for every starter file that is a copy of one of ours.

    Only meaningful in a source checkout (`repo` is its root); scripts/sync-starter and a test use it."""
    stored_root = Path(str(starter_root()))
    pairs = []
    for stored in sorted(p for p in stored_root.rglob("*") if p.is_file()):
        rel = "/".join("." + part[4:] if part.startswith("dot-") else part for part in stored.relative_to(stored_root).parts)
        if rel not in STARTER_ONLY:
            pairs.append((stored, repo / rel))
    return pairs
