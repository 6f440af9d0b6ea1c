"""The knowledge base's own vocabulary, `lessons/taxonomy.yml`: sectors, technologies and business functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TaxonomyError
from .vocabulary import RESERVED_SLUGS, is_slug

SECTIONS = ("sectors", "technologies", "business_functions")


@dataclass
class Taxonomy:
    """Slug -> display name for each section of the taxonomy file."""

    sectors: dict[str, str] = field(default_factory=dict)
    technologies: dict[str, str] = field(default_factory=dict)
    business_functions: dict[str, str] = field(default_factory=dict)
    path: Path | None = None


def load_taxonomy(path: Path) -> Taxonomy:
    """Load `lessons/taxonomy.yml`; raise TaxonomyError naming the file and problem."""
    from . import safeyaml

    if not path.is_file():
        raise TaxonomyError(f"{path}: taxonomy file not found; every knowledge base needs one (see docs/contributing.md)")
    try:
        data = safeyaml.load(path.read_text(encoding="utf-8")).data
    except safeyaml.YamlProblem as exc:
        raise TaxonomyError(f"{path}:{exc.line + 1}: cannot read taxonomy: {exc}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise TaxonomyError(f"{path}:1: cannot read taxonomy: {exc}") from None
    if not isinstance(data, dict):
        raise TaxonomyError(f"{path}: taxonomy must be a mapping with {', '.join(SECTIONS)}")
    taxonomy = Taxonomy(path=path)
    for section in SECTIONS:
        entries = data.get(section)
        if not isinstance(entries, dict) or not entries:
            raise TaxonomyError(f"{path}: '{section}' must be a non-empty mapping of slug: name")
        names: dict[str, str] = {}
        for slug, value in entries.items():
            if not isinstance(slug, str) or not is_slug(slug):
                raise TaxonomyError(f"{path}: {section}: '{slug}' is not a kebab-case slug")
            if slug in RESERVED_SLUGS:
                raise TaxonomyError(f"{path}: {section}: '{slug}' is the name of a generated page; choose another slug")
            name = value.get("name") if isinstance(value, dict) else value
            names[slug] = str(name) if name else slug
        setattr(taxonomy, section, names)
    return taxonomy
