"""Reading a contributor's free-text answers safely: numbers written the way their language writes them, bytes
that must be UTF-8, and answers quoted back in a message that may be posted as a GitHub comment."""

from __future__ import annotations

import re
import unicodedata

from ..errors import UsageError

MAX_DIGITS = 12  # a cost of a trillion euros is already absurd; 5,000 digits is an attack, not an answer
# How each language separates thousands and decimals. English writes 2,400.50; Spanish (and most of Europe) 2.400,50.
SEPARATORS: dict[str, tuple[str, str]] = {"en": (",", "."), "es": (".", ",")}  # language -> (thousands, decimal)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")  # ordinary, no-break and thin spaces all group thousands ("2 400")
_UNITS = re.compile(r"(€|eur(?:os?)?|months?|mes(?:es)?)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTABLE = re.compile(r"[^\w\s,.'€%-]|_", re.UNICODE)
_WWW = re.compile(r"(?i)\bwww\.")  # GitHub makes 'www.x' a link even without a scheme


def parse_number(answer: str, language: str, label: str) -> int | float:
    """The number in an answer such as '2.400 €', '2,400 EUR', '2 400' or '1.234,56', read with the separators of
    `language`. Refuses (UsageError) an answer that is not one number, or that two languages would read differently
    ('2,400' in a Spanish lesson: 2400 or 2.4?), instead of guessing."""
    text = _UNITS.sub(" ", answer).strip()
    if text.startswith("-"):
        raise UsageError(f"'{label}' must not be negative: {quote_answer(answer)}")
    text = _SPACES.sub(" ", text)
    if re.fullmatch(r"\d{1,3}( \d{3})+([.,]\d+)?", text):  # "2 400" or "12 000,50": spaces group thousands
        text = text.replace(" ", "")
    if not _NUMBER.fullmatch(text):
        raise UsageError(f"'{label}' is not a number: {quote_answer(answer)}. Write digits only, for example 14000.")
    if sum(ch.isdigit() for ch in text) > MAX_DIGITS:
        raise UsageError(f"'{label}' has more than {MAX_DIGITS} digits: write the amount in euros, for example 14000.")
    value = float(_normalise(text, language, label, answer))
    return int(value) if value.is_integer() else value


def _normalise(text: str, language: str, label: str, answer: str) -> str:
    """Digits with at most one '.' as decimal point."""
    thousands, decimal = SEPARATORS.get(language.split("-")[0].lower(), SEPARATORS["en"])
    separators = [ch for ch in text if ch in ".,"]
    if not separators:
        return text
    if len(set(separators)) == 2:  # '1.234,56' and '1,234.56' say which is which: the last one is the decimal mark
        decimal, thousands = separators[-1], next(ch for ch in separators if ch != separators[-1])
        if separators.count(decimal) > 1 or text.rfind(thousands) > text.rfind(decimal):
            raise UsageError(f"'{label}' mixes separators in a way no language writes: {quote_answer(answer)}")
        return _grouped(text[: text.rfind(decimal)], thousands, label, answer) + "." + text[text.rfind(decimal) + 1 :]
    mark = separators[0]
    tail = text.rsplit(mark, 1)[1]
    if len(separators) > 1 or (mark == thousands and len(tail) == 3):  # '1.234.567', or '2.400' in Spanish
        return _grouped(text, mark, label, answer)
    if len(tail) == 3:  # '2,400' in a Spanish lesson: 2400 for an English writer, 2.4 for a Spanish one
        whole, fraction = text.replace(mark, ""), f"{float(text.replace(mark, '.')):g}"
        raise UsageError(
            f"'{label}' is ambiguous: {quote_answer(answer)} could be {whole} or {fraction}. "
            f"Write digits only ({whole}), or a decimal with one or two digits after the mark."
        )
    return text.replace(mark, ".")  # '2,5' or '2.5': one or two decimals, whatever the language


def _grouped(text: str, mark: str, label: str, answer: str) -> str:
    """Digits grouped by thousands ('1.234.567'), checked: every group after the first has three digits."""
    groups = text.split(mark)
    if not 1 <= len(groups[0]) <= 3 or any(len(group) != 3 for group in groups[1:]):
        raise UsageError(f"'{label}' is not a number written with thousands separators: {quote_answer(answer)}")
    return "".join(groups)


def quote_answer(answer: str, limit: int = 60) -> str:
    """A contributor's answer quoted in a message that may be posted on the issue: only letters, digits, spaces and
    plain punctuation survive (others become '·', as does the dot of 'www.'), so no @mention, link, Markdown or
    control character comes back."""
    flat = " ".join(unicodedata.normalize("NFC", answer).split())
    safe = _WWW.sub("www·", _QUOTABLE.sub("·", flat[:limit]))
    return f"'{safe}...'" if len(flat) > limit else f"'{safe}'"


def decode_answer_bytes(raw: bytes, name: str) -> str:
    """The text of an issue body; bytes that are not UTF-8 are a clean error naming where they start."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UsageError(
            f"{name}:{line}: the issue body is not UTF-8 text (byte 0x{raw[exc.start]:02X}); save it as UTF-8 "
            "(GitHub always sends UTF-8: `gh issue view N --json body -q .body` gives it)"
        ) from None


def yaml_string(text: str) -> str:
    """`text` as one double-quoted YAML scalar, written by the YAML emitter: any character (U+007F, U+009B, a
    colon, a quote) comes out escaped and reads back as the same string, which a hand-made quote cannot promise."""
    import yaml

    return yaml.safe_dump(text, allow_unicode=True, default_style='"', width=1_000_000).rstrip("\n")
