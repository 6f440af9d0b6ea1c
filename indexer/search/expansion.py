"""Spanish and English together: a question is expanded with the taxonomy's words, in both languages, for the
technologies it names ("copias de seguridad" also asks for "backup", "backups", "respaldo").

The bundled model is English-only, so a Spanish question and an English lesson on the same topic score low by
meaning; the taxonomy's labels and synonyms bridge them for keyword matching, and the English label is
embedded with the question so that meaning gets the bridge too (docs/how-search-works.md has the figures).
What a question is matched against is a `Vocabulary`: the taxonomy's entries as plain JSON-ready data, which a
search reads from a small cache instead of parsing the taxonomy file, and the website's page gets as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..core.taxonomy import Taxonomy, normalise_term
from .bm25 import tokenize

_PUNCTUATION = re.compile(r"[^\w\s-]")
SECTIONS = ("technologies",)  # sectors were measured too: their synonyms (bar, campo, tienda) added noise
_KEYS = {"section": str, "slug": str, "phrases": list, "words": list, "label": str}


@dataclass(frozen=True)
class Vocabulary:
    """Per taxonomy entry that a question can name, in taxonomy order: its section and slug, its phrases
    (normalised: `normalise_term`), its keyword words (`bm25.tokenize` of every term) and its default label."""

    entries: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, taxonomy: Taxonomy) -> Vocabulary:
        """The entries of `taxonomy` (the entry `other` names no topic)."""
        entries = []
        for section in SECTIONS:
            for slug, label in getattr(taxonomy, section).items():
                if slug == "other":
                    continue
                terms = taxonomy.terms(section, slug)
                phrases = list(dict.fromkeys(p for p in (normalise_term(t) for t in terms) if p))
                words = [word for term in terms for word in tokenize(term)]
                entries.append({"section": section, "slug": slug, "phrases": phrases, "words": words, "label": label})
        return cls(tuple(entries))

    @classmethod
    def from_json(cls, entries: Any) -> Vocabulary | None:
        """The vocabulary stored as `entries` (JSON data), or None when it does not have that shape."""
        if not isinstance(entries, list):
            return None
        for entry in entries:
            if not (isinstance(entry, dict) and all(isinstance(entry.get(k), t) for k, t in _KEYS.items())):
                return None
            if not all(isinstance(x, str) for x in [*entry["phrases"], *entry["words"]]):
                return None
        return cls(tuple(entries))


@dataclass(frozen=True)
class Expansion:
    """What the taxonomy adds to a question: the entries it names, their keyword terms, and their English labels."""

    entries: tuple[tuple[str, str], ...]  # (section, slug)
    terms: tuple[str, ...]  # keyword tokens of every word the taxonomy gives for those entries, not in the question
    labels: tuple[str, ...]  # the entries' default (English) names, for the model

    def dense_text(self, query: str) -> str:
        """The text embedded for the question: the question, then the English names of what it names."""
        return f"{query} ({', '.join(self.labels)})" if self.labels else query


NO_EXPANSION = Expansion((), (), ())


def expand(query: str, vocabulary: Vocabulary | Taxonomy | None) -> Expansion:
    """The taxonomy entries whose name, label or synonym occurs in `query` as whole words (case and accents ignored)."""
    if vocabulary is None:
        return NO_EXPANSION
    if isinstance(vocabulary, Taxonomy):
        vocabulary = _of(vocabulary)
    text = " " + normalise_term(_PUNCTUATION.sub(" ", query)) + " "
    named = [e for e in vocabulary.entries if any(f" {phrase} " in text for phrase in e["phrases"])]
    if not named:
        return NO_EXPANSION
    asked = set(tokenize(query))
    words = (word for e in named for word in e["words"] if word not in asked)
    labels = dict.fromkeys(e["label"] for e in named)
    return Expansion(tuple((e["section"], e["slug"]) for e in named), tuple(dict.fromkeys(words)), tuple(labels))


_CACHE: dict[int, tuple[Taxonomy, Vocabulary]] = {}  # id -> (the taxonomy, kept alive; its vocabulary)


def _of(taxonomy: Taxonomy) -> Vocabulary:
    cached = _CACHE.get(id(taxonomy))
    if cached is None or cached[0] is not taxonomy:
        _CACHE.clear()  # one taxonomy per process in practice
        cached = _CACHE[id(taxonomy)] = (taxonomy, Vocabulary.of(taxonomy))
    return cached[1]
