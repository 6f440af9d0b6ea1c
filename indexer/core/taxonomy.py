"""The knowledge base's own vocabulary, `lessons/taxonomy.yml`: sectors, technologies and business functions.

An entry is either `slug: "Name"` or a mapping `slug: {name: "Name", es: "Nombre", synonyms: [...]}`: `name` is
the default (English) label, any two-letter language key gives that language's label, and `synonyms` lists other
words people use for it, in any language (backup = copias de seguridad, PBX = centralita).

An optional `wording` section renames what the site, the issue form and `lessons new` call the contributors'
organisations, for a knowledge base outside small businesses: `company_size: {name: "Organisation size", es: ...}`.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TaxonomyError
from .vocabulary import RESERVED_SLUGS, is_slug, translate

SECTIONS = ("sectors", "technologies", "business_functions")
REQUIRED_SECTIONS = ("sectors", "technologies")  # a domain without business functions leaves that section out
_LANGUAGE_KEY = re.compile(r"^[a-z]{2}$")
# The words a knowledge base may rename in its `wording` section: key -> the project's English default.
WORDING: dict[str, str] = {
    "company": "company",  # "How many people work in your company?", "a fictional company"
    "company_size": "Company size",  # the card's field, the filter, the form's question
    "company_sizes": "Company sizes",  # the browse pages' heading
}


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
    # `wording` key -> language ("name" for the default) -> text, as the file gives them
    wording: dict[str, dict[str, str]] = field(default_factory=dict)

    def word(self, key: str, language: str | None = "en") -> str:
        """A word of `WORDING` as this knowledge base says it in `language`: the file's text for that language,
        its default text for English, else the project's own word translated."""
        lang = (language or "en").split("-")[0].lower()
        given = self.wording.get(key, {})
        text = given.get(lang) or (given.get("name") if lang == "en" else None)
        return text or translate(WORDING[key], lang)

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
        raise TaxonomyError(f"{path}: taxonomy file not found; every knowledge base needs one (`lessons init` writes a starter one)")
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
        if entries is None and section not in REQUIRED_SECTIONS:
            continue
        if not isinstance(entries, dict) or not entries:
            raise TaxonomyError(f"{path}: '{section}' must be a non-empty mapping of slug: name")
        names: dict[str, str] = {}
        for slug, value in entries.items():
            if not isinstance(slug, str) or not is_slug(slug):
                raise TaxonomyError(f"{path}: {section}: '{slug}' is not a kebab-case slug")
            if slug in RESERVED_SLUGS:
                raise TaxonomyError(f"{path}: {section}: '{slug}' is the name of a generated page; choose another slug")
            names[slug] = _read_entry(taxonomy, section, slug, value, path)
        setattr(taxonomy, section, names)
    taxonomy.wording = _read_wording(data.get("wording"), path)
    return taxonomy


def _read_wording(section: object, path: Path) -> dict[str, dict[str, str]]:
    """The optional `wording` section: key -> `"text"` or `{name: "text", es: "texto"}`."""
    if section is None:
        return {}
    example = 'wording:\n  company_size: {name: "Organisation size", es: "Tamaño de la organización"}'
    if not isinstance(section, dict):
        raise TaxonomyError(f"{path}: 'wording' must be a mapping such as\n{example}")
    wording: dict[str, dict[str, str]] = {}
    for key, value in section.items():
        if key not in WORDING:
            hint = difflib.get_close_matches(str(key), WORDING, n=1)
            maybe = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise TaxonomyError(f"{path}: wording: unknown word '{key}'{maybe}; the words you can rename: {', '.join(WORDING)}")
        texts = {"name": value} if isinstance(value, str) else value
        if not isinstance(texts, dict) or not all(
            isinstance(k, str) and (k == "name" or _LANGUAGE_KEY.match(k)) and isinstance(v, str) and v.strip() for k, v in texts.items()
        ):
            raise TaxonomyError(f"{path}: wording: {key}: give a text, or name and two-letter language keys with texts, as in\n{example}")
        wording[key] = {k: v.strip() for k, v in texts.items()}
    return wording


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
