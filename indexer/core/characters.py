"""Invisible characters that can hide or forge text: C0 and C1 controls, bidirectional overrides, zero-width
characters. `lessons check` names them in front matter, and every output of lesson text (terminal, feed, page
front matter) escapes or drops them through the functions here."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

# Unicode gives control characters no name; these are their names in ISO 6429 (the ones an attacker uses).
_C0_NAMES = (
    "NULL START-OF-HEADING START-OF-TEXT END-OF-TEXT END-OF-TRANSMISSION ENQUIRY ACKNOWLEDGE BELL BACKSPACE "
    "CHARACTER-TABULATION LINE-FEED LINE-TABULATION FORM-FEED CARRIAGE-RETURN SHIFT-OUT SHIFT-IN "
    "DATA-LINK-ESCAPE DEVICE-CONTROL-ONE DEVICE-CONTROL-TWO DEVICE-CONTROL-THREE DEVICE-CONTROL-FOUR "
    "NEGATIVE-ACKNOWLEDGE SYNCHRONOUS-IDLE END-OF-TRANSMISSION-BLOCK CANCEL END-OF-MEDIUM SUBSTITUTE ESCAPE "
    "FILE-SEPARATOR GROUP-SEPARATOR RECORD-SEPARATOR UNIT-SEPARATOR"
).split()
_NAMED = {
    **{chr(i): name.replace("-", " ") for i, name in enumerate(_C0_NAMES)},
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
    "\x9b": "CONTROL SEQUENCE INTRODUCER",
    "\x9d": "OPERATING SYSTEM COMMAND",
}
CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 but tab and line ends, DELETE, C1
BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # marks, embeddings, overrides, isolates
ZERO_WIDTH = "\u200b-\u200d\u2060\ufeff"  # space, non-joiner, joiner, word joiner, no-break space
_CONTROL = re.compile(f"[{CONTROLS}]")
_BIDI = re.compile(f"[{BIDI}]")
_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH}]")
_TERMINAL_UNSAFE = re.compile(f"[{CONTROLS}{BIDI}\\r]")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def name_of(char: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE': a character as a message names it."""
    return f"U+{ord(char):04X} {_NAMED.get(char) or unicodedata.name(char, 'CONTROL')}"


def invisible(text: str) -> Iterator[tuple[int, str, str]]:
    """(offset, kind, character) of every control ('control'), bidi ('bidi') or zero-width ('zero-width') character."""
    for kind, pattern in (("control", _CONTROL), ("bidi", _BIDI), ("zero-width", _ZERO_WIDTH)):
        for match in pattern.finditer(text):
            yield match.start(), kind, match.group()


def for_terminal(text: str, json_string: bool = False) -> str:
    """Text safe to print: controls, carriage returns and bidi characters shown as escapes (`\\x1b`, `\\u202e`; in
    JSON text, where they can only sit inside strings, as valid `\\u001b` escapes), so a title cannot move the
    cursor, set the window title or reorder what follows. Line feeds and tabs are kept."""
    if not _TERMINAL_UNSAFE.search(text):
        return text
    if json_string:
        return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return _TERMINAL_UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def for_xml(text: str) -> str:
    """Text without the characters XML 1.0 forbids (an ill-formed feed is refused whole by readers)."""
    return _XML_ILLEGAL.sub("", text)


def printable(text: str) -> str:
    """Text without controls, bidi and zero-width characters, for places that show it once (page titles)."""
    return _ZERO_WIDTH.sub("", _BIDI.sub("", _CONTROL.sub("", text)))
