"""The rules about a lesson's body: expected sections, length, personal data and unsafe HTML."""

from __future__ import annotations

import html
import re
from collections import Counter

from .prescan import scan_body
from .reader import RawLesson, Section, code_mask
from .rules import Collector
from .vocabulary import EXPECTED_SECTIONS, MIN_BODY_WORDS, headings_for

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_PHONE = re.compile(r"(?<![\w.,/-])(?:\+|00|\(0|0)\d[\d ().-]{6,18}\d(?![\w,/-]|\.\d)")
# National numbers without a trunk 0 (Spain and Portugal 6/7/8/9/2, Italian mobiles 3): nine or ten digits, either
# run together or in groups of two to four joined by single spaces or hyphens (612 345 678, 947 20 30 40).
_NATIONAL = re.compile(r"(?<![\w.,/+-])(?:[2-9]\d{1,3}(?:[ -]\d{2,4}){2,4}|[6-9]\d{8}|3\d{9})(?![\w,/-]|[.,]\d)")
# Words that make a number an amount, a quantity or a reference rather than a phone number.
_AMOUNT_AFTER = re.compile(r"\s?(?:€|\$|£|%|eur|euros?|usd|de euros|units|unidades|km|kg|m2|m²)\b|\s?[€$£%]", re.IGNORECASE)
_REFERENCE_BEFORE = re.compile(
    r"(?:order|pedido|factura|invoice|albarán|ref|reference|referencia|no|nº|n\.º|number|número|id|ticket|#|iso|cif|nif|vat)[.:]?\s*$",
    re.IGNORECASE,
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])([^>]{0,2000})>?|<!--")
_EVENT_ATTR = re.compile(r"[\s/\"']on[a-z]+\s*=", re.IGNORECASE)
_UNSAFE_TAGS = {"script", "iframe", "object", "embed", "frame", "frameset", "base", "meta"}
# Raw-text elements: everything after one, up to its closing tag, is not Markdown; unclosed, it hides the rest of
# the body (the sanitiser drops a <style> with its content).
_RAW_TEXT_TAGS = {"style", "textarea", "title", "xmp", "plaintext", "noscript", "noembed", "noframes", "template"}
_LINK_TARGETS = re.compile(
    r"\]\(\s*<?([^)\s>]*)"  # [text](target)
    r"|^\s{0,3}\[[^\]\n]{1,999}\]:\s*<?(\S+)"  # [ref]: target (a label on one line: no rescan to the end per '[')
    r"|=\s*[\"']?\s*([^\"'\s>]+)"  # attribute=target
    r"|<([A-Za-z][A-Za-z0-9+.-]*:[^\s>]*)>",  # <scheme:...> autolink
    re.MULTILINE,
)
_BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")


def check_body(raw: RawLesson, sections: list[Section], language: str, out: Collector) -> None:
    """Sections, length, privacy and HTML safety of one lesson's body."""
    body = raw.body
    headings = headings_for(language)
    seen = Counter(s.key for s in sections if s.key)
    for key in EXPECTED_SECTIONS:
        if not seen[key]:
            out.add("missing-section", f"expected section '## {headings[key]}' is missing", raw.body_line)
    first: set[str] = set()
    for section in sections:
        if section.key and section.key in first:
            out.add("duplicate-section", f"section '## {section.heading}' appears more than once", section.line)
        first.add(section.key or "")
    words = len(body.split())
    if words < MIN_BODY_WORDS:
        out.add("short-body", f"the body has {words} words; a useful lesson has at least {MIN_BODY_WORDS}", raw.body_line)
    limits = scan_body(body)
    for limit in limits:
        out.add(limit.rule, limit.message, raw.body_line + limit.line)
    if limits:
        return  # refused already; the pattern rules below are not worth running over hostile text
    _check_privacy(raw, out)
    _check_html(raw, _mask_code(body), out)


def _check_privacy(raw: RawLesson, out: Collector) -> None:
    # Messages never repeat the value found: the output may land in a public CI log.
    body = raw.body
    for match in _EMAIL.finditer(body) if "@" in body else ():
        out.add(
            "personal-email",
            "e-mail address in the body: remove contact details, the knowledge base is public",
            *raw.line_of_offset(match.start()),
        )
    for match in _IBAN.finditer(body):
        if _iban_valid(match.group()):
            out.add(
                "personal-iban",
                "bank account number (IBAN) in the body: remove it, the knowledge base is public",
                *raw.line_of_offset(match.start()),
            )
    for start in phone_numbers(body):
        out.add(
            "personal-phone",
            "phone number in the body: remove contact details, the knowledge base is public",
            *raw.line_of_offset(start),
        )


def phone_numbers(text: str) -> list[int]:
    """Where phone numbers start in `text`: international (+34, 0034), with a trunk 0 (French, German, Italian
    landlines) or national without one (Spanish, Portuguese, Italian mobiles), but not years, dates, amounts,
    postcodes or numbers that follow 'order', 'invoice', 'ref' and the like."""
    found: list[int] = []
    covered: set[int] = set()
    for match in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 9 <= len(digits) <= 15 and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", match.group()):
            found.append(match.start())
            covered.update(range(*match.span()))
    for match in _NATIONAL.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if not 9 <= len(digits) <= 10 or match.start() in covered:
            continue
        if _AMOUNT_AFTER.match(text, match.end()) or _REFERENCE_BEFORE.search(text[max(0, match.start() - 20) : match.start()]):
            continue
        found.append(match.start())
    return sorted(found)


def _iban_valid(text: str) -> bool:
    code = text.replace(" ", "")
    if not 15 <= len(code) <= 34:
        return False
    moved = code[4:] + code[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _mask_code(body: str) -> str:
    """The body with fenced code blocks and inline code blanked out (same length, same offsets)."""
    lines = body.split("\n")
    for i, in_code in enumerate(code_mask(body)):
        if in_code:
            lines[i] = " " * len(lines[i])
        elif "`" in lines[i]:
            lines[i] = _INLINE_CODE.sub(lambda m: " " * len(m.group()), lines[i])
    return "\n".join(lines)


def _check_html(raw: RawLesson, masked: str, out: Collector) -> None:
    raw_html_line = None
    for match in _TAG.finditer(masked) if "<" in masked else ():
        name = (match.group(2) or "").lower()
        where = raw.line_of_offset(match.start())
        if name in _UNSAFE_TAGS or name in _RAW_TEXT_TAGS:
            if match.group(1):  # the closing tag of an element already reported
                continue
            hides = " (the text after it would not be shown)" if name in _RAW_TEXT_TAGS else ""
            out.add("unsafe-html", f"<{name}> is not allowed in a lesson{hides}", *where)
        elif match.group(3) and _EVENT_ATTR.search(" " + match.group(3)):
            out.add("unsafe-html", f"event attribute (on...=) in <{name}> is not allowed in a lesson", *where)
        elif raw_html_line != where[0]:
            raw_html_line = where[0]
            out.add("raw-html", f"raw HTML <{name or '!--'}>: write Markdown instead", *where)
    lowered = masked.lower()
    if not any(marker in lowered for marker in ("script", "data", "&", "%")):
        return  # no scheme we refuse can be spelled without one of these
    for match in _LINK_TARGETS.finditer(masked):
        target = next(g for g in match.groups() if g is not None)
        cleaned = re.sub(r"[\s\x00-\x1f]", "", html.unescape(target)).lower()
        if cleaned.startswith(_BAD_SCHEMES):
            out.add("unsafe-link", f"{cleaned.split(':')[0]}: links are not allowed in a lesson", *raw.line_of_offset(match.start()))
