"""Reading a value someone typed for a fixed choice (a filter, an answer of `lessons new`): the exact value is
taken, anything else is refused with the value they probably meant, found through names, labels and synonyms in
every language (`--sector retail`: did you mean 'retail-wholesale'?) or by spelling (`--outcome failed`)."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable

from ..errors import UsageError
from .countries import country_code
from .taxonomy import Taxonomy, normalise_term
from .vocabulary import COUNTRIES, OUTCOME_LABELS, OUTCOMES, SIZE_STAFF, SIZES, is_slug


def closest(word: str, names: dict[str, str]) -> str | None:
    """The value whose spelling (normalised name -> value) is nearest `word`: a shared start, else difflib."""
    wanted = normalise_term(word)
    if wanted in names:
        return names[wanted]
    starts = [
        value for name, value in names.items() if min(len(name), len(wanted)) >= 3 and (name.startswith(wanted) or wanted.startswith(name))
    ]
    match = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.75)
    return starts[0] if starts else names[match[0]] if match else None


def _refuse(kind: str, value: str, suggestion: str | None, valid: Iterable[str] | str) -> UsageError:
    listed = valid if isinstance(valid, str) else f"valid values: {', '.join(sorted(valid))}"
    hint = f"did you mean '{suggestion}'?" if suggestion else listed
    return UsageError(f"unknown {kind} '{value}'; {hint}")


def _taxonomy_names(taxonomy: Taxonomy, section: str) -> dict[str, str]:
    return {normalise_term(term): slug for slug in getattr(taxonomy, section) for term in taxonomy.terms(section, slug)}


def suggest(section: str, word: str, taxonomy: Taxonomy) -> str | None:
    """The taxonomy entry `word` probably means ('tpv' -> 'point-of-sale', 'cloud-erpp' -> 'cloud-erp'), or None."""
    return taxonomy.lookup(section, word) or closest(word, _taxonomy_names(taxonomy, section))


def size_for_staff(staff: int) -> str | None:
    """The company size of a head count: 12 -> 'small'; None above the largest size."""
    return next((size for size, (low, high) in SIZE_STAFF.items() if low <= staff <= high), None)


def resolve(kind: str, value: str, taxonomy: Taxonomy) -> str:
    """The stored value for `value` typed as a sector, technology, outcome, size or country; UsageError with a
    suggestion otherwise. A technology slug the taxonomy does not know is kept (lessons may use new ones) unless
    it is close to a known one."""
    text = value.strip()
    if kind == "sector":
        if text in taxonomy.sectors:
            return text
        raise _refuse(kind, value, closest(text, _taxonomy_names(taxonomy, "sectors")), taxonomy.sectors)
    if kind == "technology":
        if text in taxonomy.technologies:
            return text
        suggestion = closest(text, _taxonomy_names(taxonomy, "technologies"))
        if suggestion is None and is_slug(text):
            return text
        raise _refuse(kind, value, suggestion, taxonomy.technologies)
    if kind == "outcome":
        if text in OUTCOMES:
            return text
        names = {normalise_term(label): outcome for outcome, label in OUTCOME_LABELS.items()} | {o: o for o in OUTCOMES}
        raise _refuse(kind, value, closest(text, names), OUTCOMES)
    if kind == "size":
        if text in SIZES:
            return text
        suggestion = size_for_staff(int(text)) if text.isdigit() else closest(text, {s: s for s in SIZES})
        raise _refuse("company size", value, suggestion, SIZES)
    if kind == "country":
        if text.upper() in COUNTRIES:
            return text.upper()
        from .countries import country_choices

        raise _refuse(
            kind, value, country_code(text) or closest(text, country_choices()), "write a two-letter ISO code such as ES, DE or IE"
        )
    raise KeyError(kind)


def parse_since(text: str) -> dt.date:
    """The first day of a year (2025), a month (2025-03) or a date (2025-03-14)."""
    for pattern, fill in ((r"\d{4}", "-01-01"), (r"\d{4}-\d{2}", "-01"), (r"\d{4}-\d{2}-\d{2}", "")):
        if re.fullmatch(pattern, text.strip()):
            try:
                return dt.date.fromisoformat(text.strip() + fill)
            except ValueError:
                break
    raise UsageError(f"'{text}' is not a year, a month or a date: write 2025, 2025-03 or 2025-03-14")
