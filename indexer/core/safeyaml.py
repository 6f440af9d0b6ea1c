"""Safe, strict YAML loading for front matter.

Only plain data is built (PyYAML's safe constructor); aliases are refused, so an anchor bomb or a
shared object cannot sneak in; booleans follow YAML 1.2 (`yes`, `no`, `on`, `off` stay strings, so
`country: NO` is Norway, not false). Strict beyond that: a key given twice (the last would silently win),
any tag outside YAML's core schema (`!!set`, `!!binary`, `!!timestamp`...) and non-finite numbers (`.inf`,
`.nan`, `1.0e999`) are refused with their line. Dates stay text, so the schema reports an impossible date
such as 2026-02-30 on its own line. Every value's position is kept for error messages.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    _Base = yaml.SafeLoader
else:  # the C loader when PyYAML was built with libyaml: the same rules, faster
    _Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_FLOAT = "tag:yaml.org,2002:float"
CORE_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map"))


class StrictLoader(_Base):
    """SafeLoader with YAML 1.2 booleans."""


StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


class YamlProblem(Exception):
    """A YAML document that cannot be used, with the 0-based position and a rule id."""

    def __init__(self, rule: str, message: str, line: int, col: int) -> None:
        super().__init__(message)
        self.rule, self.message, self.line, self.col = rule, message, line, col


@dataclass
class LoadedYaml:
    """The data of a YAML document and where each value sits: key path -> (line, col), 0-based."""

    data: Any
    positions: dict[tuple[Any, ...], tuple[int, int]] = field(default_factory=dict)


def load(text: str, first_line: int = 1) -> LoadedYaml:
    """Parse one YAML document safely, or raise YamlProblem. `first_line` is the file line of the text's first line,
    for messages that name another line."""
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return LoadedYaml(None)
        positions: dict[tuple[Any, ...], tuple[int, int]] = {}
        _walk(node, (), positions, set(), first_line)
        _refuse_non_finite(loader, node)
        data = loader.construct_document(node)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlProblem("yaml-unsafe", f"YAML tag refused ({_short(exc.problem)}): only plain data is allowed", *_pos(mark)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlProblem("yaml-syntax", f"invalid YAML: {_short(exc.problem or exc.context)}{_hint(exc)}", *_pos(mark)) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow anywhere, such as ESC or DELETE
        from .characters import name_of

        where = text[: exc.position]
        line, col = where.count("\n"), exc.position - (where.rfind("\n") + 1)
        message = f"the front matter holds {name_of(chr(exc.character))}, which YAML does not allow: delete it"
        raise YamlProblem("control-character", message, line, col) from None
    except yaml.YAMLError as exc:
        raise YamlProblem("yaml-syntax", f"invalid YAML: {_short(str(exc))}", 0, 0) from None
    except RecursionError:
        raise YamlProblem("yaml-syntax", "YAML nested too deeply", 0, 0) from None
    except (ValueError, OverflowError, TypeError) as exc:  # e.g. a date like 2025-13-45
        raise YamlProblem("yaml-syntax", f"invalid YAML value: {_short(str(exc))}", 0, 0) from None
    finally:
        loader.dispose()
    return LoadedYaml(data, positions)


def _walk(node: yaml.Node, path: tuple[Any, ...], positions: dict, seen: set[int], first_line: int) -> None:
    if id(node) in seen:  # the same node twice means an alias
        raise YamlProblem("yaml-alias", "YAML aliases (*name) are not allowed in front matter", *_pos(node.start_mark))
    seen.add(id(node))
    if node.tag not in CORE_TAGS:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise YamlProblem(
            "yaml-unsafe", f"YAML tag {tag[:40]} refused: only text, numbers, true/false, lists and mappings", *_pos(node.start_mark)
        )
    positions.setdefault(path, _pos(node.start_mark))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if id(key_node) in seen or not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem("yaml-syntax", "front matter keys must be plain words", *_pos(key_node.start_mark))
            seen.add(id(key_node))
            key = key_node.value
            if (*path, key) in positions:
                first = positions[(*path, key)][0] + first_line
                raise YamlProblem(
                    "yaml-duplicate-key",
                    f"key '{key[:40]}' is given twice (first on line {first}): the second would silently replace the first; keep one",
                    *_pos(key_node.start_mark),
                )
            positions.setdefault((*path, key), _pos(key_node.start_mark))
            if id(value_node) in seen:
                raise YamlProblem("yaml-alias", "YAML aliases (*name) are not allowed in front matter", *_pos(key_node.start_mark))
            _walk(value_node, (*path, key, "<value>"), positions, seen, first_line)
            positions.setdefault((*path, key, "<value>"), _pos(value_node.start_mark))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), positions, seen, first_line)


def _refuse_non_finite(loader: yaml.SafeLoader, node: yaml.Node) -> None:
    """Infinity and NaN are not numbers a lesson can mean (`cost_eur: .inf` showed as '€inf')."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            stack += [value for _, value in current.value]
        elif isinstance(current, yaml.SequenceNode):
            stack += current.value
        elif isinstance(current, yaml.ScalarNode) and current.tag == _FLOAT and not math.isfinite(loader.construct_yaml_float(current)):
            raise YamlProblem(
                "yaml-non-finite", f"'{current.value[:40]}' is not a finite number: write a plain number", *_pos(current.start_mark)
            )


def position(loaded: LoadedYaml, loc: tuple[Any, ...]) -> tuple[int, int] | None:
    """Best position for a pydantic-style location such as ('technologies', 2)."""
    keys: list[Any] = []
    for part in loc:
        if isinstance(part, int) and keys:
            keys.append("<value>")
        keys.append(part)
    while keys:
        for candidate in ((*keys, "<value>"), (*keys,)):
            if candidate in loaded.positions:
                return loaded.positions[candidate]
        keys.pop()
    return None


def _hint(exc: yaml.MarkedYAMLError) -> str:
    """Plain words for the YAML mistakes people make most."""
    if "mapping values are not allowed" in str(exc.problem):
        return (
            ": a value holds ': ' (a colon and a space), which YAML reads as a new key; put the value in quotes, "
            'for example title: "Cloud ERP: what went wrong"'
        )
    return ""


def _pos(mark: Any) -> tuple[int, int]:
    return (mark.line, mark.column) if mark is not None else (0, 0)


def _short(text: str | None) -> str:
    return (text or "unknown problem").strip().splitlines()[0][:120]
