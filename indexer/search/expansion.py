"""Spanish and English together: a question is expanded with the taxonomy's words, in both languages, for the
technologies and sectors it names ("copias de seguridad" also asks for "backup", "backups", "respaldo").

The bundled model is English-only, so a Spanish question and an English lesson on the same topic score low by
meaning; the taxonomy's labels and synonyms bridge them for keyword matching, and the English label is
embedded with the question so that meaning gets the bridge too (docs/how-search-works.md has the figures).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.taxonomy import Taxonomy, normalise_term
from .bm25 import tokenize

_PUNCTUATION = re.compile(r"[^\w\s-]")
SECTIONS = ("technologies",)  # sectors were measured too: their synonyms (bar, campo, tienda) added noise


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


def expand(query: str, taxonomy: Taxonomy | None) -> Expansion:
    """The taxonomy entries whose name, label or synonym occurs in `query` as whole words (case and accents ignored)."""
    if taxonomy is None:
        return NO_EXPANSION
    text = " " + normalise_term(_PUNCTUATION.sub(" ", query)) + " "
    entries = [(section, slug) for phrase, section, slug in _phrases(taxonomy) if f" {phrase} " in text]
    entries = list(dict.fromkeys(entries))
    if not entries:
        return NO_EXPANSION
    asked = set(tokenize(query))
    words = [word for section, slug in entries for term in taxonomy.terms(section, slug) for word in tokenize(term)]
    labels = [getattr(taxonomy, section).get(slug, slug) for section, slug in entries]
    return Expansion(tuple(entries), tuple(dict.fromkeys(w for w in words if w not in asked)), tuple(dict.fromkeys(labels)))


_CACHE: dict[int, tuple[Taxonomy, list[tuple[str, str, str]]]] = {}  # id -> (the taxonomy, kept alive; its phrases)


def _phrases(taxonomy: Taxonomy) -> list[tuple[str, str, str]]:
    cached = _CACHE.get(id(taxonomy))
    if cached is None or cached[0] is not taxonomy:
        _CACHE.clear()  # one taxonomy per process in practice
        cached = _CACHE[id(taxonomy)] = (taxonomy, _normalised_phrases(taxonomy))
    return cached[1]


def _normalised_phrases(taxonomy: Taxonomy) -> list[tuple[str, str, str]]:
    found = []
    for section in SECTIONS:
        for slug in getattr(taxonomy, section):
            if slug == "other":  # "other" names no topic
                continue
            for term in taxonomy.terms(section, slug):
                phrase = normalise_term(term)
                if phrase:
                    found.append((phrase, section, slug))
    return found
