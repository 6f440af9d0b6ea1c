"""A plain-text scan of a lesson body for what would make Markdown rendering slow or deep.

Python-Markdown recurses once per list or quote level (500 levels on one line raise RecursionError). Its link
parser scans, for every `[`, forward to the matching `]` or to the end of the paragraph, one character at a
time; its HTML parser scans, for every `<tag` opening, forward to the next `>`, across the whole body. Both
are quadratic on hostile input (`"[\\n" * 20000` takes minutes). This scan counts those characters in one
linear pass (no Markdown library), and the bounds below keep rendering under a fraction of a second. It is
shared: `lessons check` reports what it finds as errors, and the site renders only bodies it passes.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .reader import code_mask
from .vocabulary import MAX_BODY_CHARS, MAX_BRACKET_SCAN, MAX_NESTING, MAX_TAG_SCAN

# a container marker at the start of what is left of a line: a quote '>' or a list bullet or number and a space
_MARKER = re.compile(r"([ \t]*)(?:>|[-*+](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$))")
_SPACE = re.compile(r"[ \t]*")
_OPENERS = frozenset(" \t>-*+0123456789")  # what a line opening a list or quote level starts with
MAX_EMPHASIS_RUN = 3 * MAX_NESTING  # '***' opens two levels of emphasis: a long run nests as deep as a list
_EMPHASIS_RUN = re.compile(rf"[*_]{{{MAX_EMPHASIS_RUN + 1},}}")
_BRACKET = re.compile(r"[\[\]]")
_TAG_OPEN = re.compile(r"<(?:(!--)|(!\[)|[A-Za-z!/?])")
_TAG_ENDS = (">", "-->", "]]>")  # what the HTML parser looks for after '<x', '<!--' and '<![' openings


@dataclass(frozen=True)
class BodyLimit:
    """A bound the body goes past: the rule id, a message saying how to fix it, and the 0-based line in the body."""

    rule: str
    message: str
    line: int


def scan_body(body: str) -> list[BodyLimit]:
    """Every bound the body goes past (one finding per rule at most); empty when it is safe to render."""
    if len(body) > MAX_BODY_CHARS:
        message = f"the body has {len(body):,} characters; the limit is {MAX_BODY_CHARS:,}: split it into several lessons"
        return [BodyLimit("body-too-large", message, 0)]
    lines = body.split("\n")
    mask = code_mask(body)
    found = [*(_nesting(lines, mask) or _emphasis(lines, mask)), *_brackets(lines, mask), *_tags(lines, mask)]
    return sorted(found, key=lambda f: f.line)


def nesting(line: str) -> int:
    """How many list or quote levels a line opens: its container markers plus its indentation in 4-column steps.
    Counting stops past the limit, so a line of 50,000 markers costs no more than one of 17."""
    if not line or line[0] not in _OPENERS:
        return 0
    depth = columns = pos = 0
    while depth <= MAX_NESTING and (match := _MARKER.match(line, pos)):
        gap = len(match.group(1).expandtabs(4))
        columns += gap - 1 if pos and gap else gap  # the one space after a marker belongs to the marker
        depth += 1
        pos = match.end()
    gap = len(_SPACE.match(line, pos).group().expandtabs(4))  # type: ignore[union-attr]  # '*' always matches
    columns += gap - 1 if pos and gap else gap
    return depth + columns // 4


def _nesting(lines: list[str], mask: list[bool]) -> list[BodyLimit]:
    depths = [0 if in_code else nesting(line) for line, in_code in zip(lines, mask)]
    if max(depths, default=0) <= MAX_NESTING:
        return []
    where = next(i for i, depth in enumerate(depths) if depth > MAX_NESTING)  # where the fix starts
    return [BodyLimit("nesting-too-deep", f"lists or quotes nested more than {MAX_NESTING} levels deep: flatten them", where)]


def _emphasis(lines: list[str], mask: list[bool]) -> list[BodyLimit]:
    for number, (line, in_code) in enumerate(zip(lines, mask)):
        run = _EMPHASIS_RUN.search(line) if not in_code and ("*" in line or "_" in line) else None
        if run and line.strip(" \t*_"):  # a line of only '*' or '_' is a rule, not emphasis
            message = (
                f"a run of {len(run.group())} '*' or '_' nests emphasis too deep to render; the limit is {MAX_EMPHASIS_RUN}: "
                "shorten it, or put it in a code span"
            )
            return [BodyLimit("nesting-too-deep", message, number)]
    return []


def _paragraphs(lines: list[str], mask: list[bool]) -> Iterator[tuple[int, str]]:
    """(first line, text) of each run of non-blank lines outside fenced code: what the link parser scans."""
    start, buf = 0, list[str]()
    for number, (line, in_code) in enumerate(zip(lines, mask)):
        if in_code or not line.strip():
            if buf:
                yield start, "\n".join(buf)
            buf = []
            continue
        if not buf:
            start = number
        buf.append(line)
    if buf:
        yield start, "\n".join(buf)


def bracket_scan(text: str) -> int:
    """Characters the link parser reads for the brackets of one paragraph: from each '[' to its ']' or the end."""
    cost, opened = 0, []
    for match in _BRACKET.finditer(text):
        if match.group() == "[":
            opened.append(match.start())
        elif opened:
            cost += match.start() - opened.pop()
    return cost + sum(len(text) - start for start in opened)


def _brackets(lines: list[str], mask: list[bool]) -> list[BodyLimit]:
    costs = [(bracket_scan(text), first) for first, text in _paragraphs(lines, mask) if "[" in text]
    total = sum(cost for cost, _ in costs)
    if total <= MAX_BRACKET_SCAN:
        return []
    worst = max(costs)[1]
    message = (
        f"'[' that never close, or close far away, would make the page take long to build (the link parser would read "
        f"{total:,} characters; the limit is {MAX_BRACKET_SCAN:,}): close each '[' with ']', or write it as '\\['"
    )
    return [BodyLimit("bracket-run", message, worst)]


def tag_scan(text: str) -> tuple[int, int]:
    """Characters the HTML parser reads for the tag openings of `text` (each to the end it looks for), and the
    offset of the opening that costs most."""
    if "<" not in text:
        return 0, 0
    ends = [[m.start() for m in re.finditer(re.escape(end), text)] for end in _TAG_ENDS]
    cost = worst = worst_at = 0
    for match in _TAG_OPEN.finditer(text):
        kind = 1 if match.group(1) else 2 if match.group(2) else 0
        after = ends[kind]
        index = bisect.bisect_left(after, match.end())
        one = (after[index] if index < len(after) else len(text)) - match.start()
        cost += one
        if one > worst:
            worst, worst_at = one, match.start()
    return cost, worst_at


def _tags(lines: list[str], mask: list[bool]) -> list[BodyLimit]:
    text = "\n".join("" if in_code else line for line, in_code in zip(lines, mask))
    total, worst_at = tag_scan(text)
    if total <= MAX_TAG_SCAN:
        return []
    message = (
        f"HTML tags that are never closed with '>' would make the page take long to build (the HTML parser would read "
        f"{total:,} characters; the limit is {MAX_TAG_SCAN:,}): write Markdown, or write '<' as '&lt;'"
    )
    return [BodyLimit("tag-run", message, text.count("\n", 0, worst_at))]
