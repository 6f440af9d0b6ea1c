"""The knowledge base's own vocabulary, `lessons/taxonomy.yml`: sectors, technologies and business functions.

An entry is either `slug: "Name"` or a mapping `slug: {name: "Name", es: "Nombre", synonyms: [...]}`: `name` is
the default (English) label, any two-letter language key gives that language's label, and `synonyms` lists other
words people use for it, in any language (backup = copias de seguridad, PBX = centralita).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TaxonomyError
from .vocabulary import is_slug

SECTIONS = ("sectors", "technologies", "business_functions")
_LANGUAGE_KEY = re.compile(r"^[a-z]{2}$")


def normalise_term(text: str) -> str:
    """Lower case, accents removed, hyphens and runs of spaces made one space: 'Copias-de Seguridad' -> 'copias de seguridad'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[-_/]+", " ", plain).split())


@dataclass
class Taxonomy:
    """Slug -> display name for each section of the taxonomy file, plus labels by language and synonyms."""

    sectors: dict[str, str] = field(default_factory=dict)
    technologies: dict[str, str] = field(default_factory=dict)
    business_functions: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    # section -> slug -> language -> label (only the languages the file gives besides `name`)
    labels: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    # section -> slug -> synonyms as written in the file
    synonyms: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def label(self, section: str, slug: str, language: str = "en") -> str:
        """The entry's name in `language` when the file gives one, else its default name (or the slug itself)."""
        names: dict[str, str] = getattr(self, section)
        return self.labels.get(section, {}).get(slug, {}).get(language) or names.get(slug, slug)

    def terms(self, section: str, slug: str) -> tuple[str, ...]:
        """Every word the file gives for an entry: default name, labels in each language, synonyms and the slug."""
        names: dict[str, str] = getattr(self, section)
        found = [names.get(slug, slug), *self.labels.get(section, {}).get(slug, {}).values()]
        found += [*self.synonyms.get(section, {}).get(slug, ()), slug.replace("-", " ")]
        return tuple(dict.fromkeys(found))

    def lookup(self, section: str, text: str) -> str | None:
        """The slug whose name, label, synonym or slug equals `text`, ignoring case, accents and hyphens."""
        wanted = normalise_term(text)
        for slug in getattr(self, section):
            if any(normalise_term(term) == wanted for term in self.terms(section, slug)):
                return slug
        return None


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
            names[slug] = _read_entry(taxonomy, section, slug, value, path)
        setattr(taxonomy, section, names)
    return taxonomy


def _read_entry(taxonomy: Taxonomy, section: str, slug: str, value: object, path: Path) -> str:
    """Record an entry's labels and synonyms; return its default name."""
    if not isinstance(value, dict):
        return str(value) if value else slug
    labels = {key: str(text) for key, text in value.items() if isinstance(key, str) and _LANGUAGE_KEY.match(key) and text}
    if labels:
        taxonomy.labels.setdefault(section, {})[slug] = labels
    synonyms = value.get("synonyms", [])
    if not isinstance(synonyms, list) or not all(isinstance(s, str) and s.strip() for s in synonyms):
        raise TaxonomyError(f"{path}: {section}: {slug}: 'synonyms' must be a list of words, such as [copias de seguridad, backup]")
    if synonyms:
        taxonomy.synonyms.setdefault(section, {})[slug] = tuple(s.strip() for s in synonyms)
    name = value.get("name")
    return str(name) if name else slug
