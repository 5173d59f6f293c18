"""Read a YAML file into plain data, remembering the line of every key and list item."""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError

Path = tuple  # of str keys and int indexes

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_BARE_ENV = re.compile(r"\$[A-Z_][A-Z0-9_]*")  # a whole value like $WC_SECRET: ${WC_SECRET} was meant
MAX_VALUES = 20_000  # keys, items and scalars after aliases are expanded (a real configuration has hundreds)
MAX_DEPTH = 24


class _Constructor(RoundTripConstructor):
    """ruamel's constructor, except that an impossible date (2026-02-30) stays the text that was written,
    for the schema to refuse with its line, instead of a ValueError from deep inside the parser."""

    def construct_yaml_timestamp(self, node: object, values: bool=None) -> object:
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return str(node.value)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


class _TooMuch(Exception):
    """The document expands beyond what a configuration can be (nesting, or aliases multiplying values)."""


@dataclass
class Source:
    """Plain data from one YAML file, with the line of each path and the problems met reading it."""

    filename: str
    data: object = None
    lines: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)  # (line, path, message)
    text_lines: list = field(default_factory=list)  # the file as written, for hints about a line

    def line_of(self, path: Path) -> int:
        """Return the line of `path`, or of its nearest ancestor present in the file."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def read_source(filename: str, text: str, environ: Mapping[str, str] | None=os.environ) -> Source:
    """Parse YAML text, interpolate ${VARS} from the environment and record every line."""
    source = Source(filename, text_lines=text.splitlines())
    for number, raw in enumerate(text.splitlines(), start=1):
        if "\t" in raw[:len(raw) - len(raw.lstrip())]:
            source.problems.append((number, _path_at(text, number), "a tab in the indentation: YAML is indented "
                                    "with spaces only"))
            return source
    deep = _too_deep(text)
    if deep:  # before the parser, which recurses once per level (seconds for a few thousand)
        source.problems.append((deep, _path_at(text, deep), f"nested deeper than any configuration (at most "
                                                           f"{MAX_DEPTH} levels)"))
        return source
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    try:
        with warnings.catch_warnings():  # an anchor defined twice is legal YAML (the later one counts)
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            document = yaml.load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        key = (exc.problem or "").split('"')[1] if '"' in (exc.problem or "") else "a key"
        first = exc.context_mark.line + 1 if exc.context_mark else None
        line = mark.line + 1 if mark else 1
        nested = len(_path_at(text, line)) > 1
        source.problems.append((line, _path_at(text, line)[:-1], f"YAML syntax error: duplicate key {key!r}"
                                + (f" (first at line {first})" if first else "") + ": keep one"
                                + (", or start a new list item with '- '" if nested else "")))
        return source
    except MarkedYAMLError as exc:
        # "could not find expected ':'" is noticed on the line after the one that lacks it
        late = "could not find expected ':'" in (exc.problem or "") and exc.context_mark is not None
        mark = exc.context_mark if late else (exc.problem_mark or exc.context_mark)
        line = mark.line + 1 if mark else 1
        source.problems.append((line, _path_at(text, line), syntax_message(exc, text, line)))
        return source
    except RecursionError:
        source.problems.append((1, (), f"the file nests deeper than any configuration (at most {MAX_DEPTH} levels)"))
        return source
    except (YAMLError, ValueError) as exc:
        source.problems.append((1, (), f"not readable as YAML: {exc}"))
        return source
    source.lines[()] = 1
    try:
        source.data = _plain(document, (), source, environ, [0])
    except _TooMuch as exc:
        source.problems.append((source.line_of(exc.args[1]), exc.args[1], exc.args[0]))
        source.data = None
    return source


def _too_deep(text: str) -> int | None:
    """The line where [ and { nest deeper than MAX_DEPTH (quotes and comments aside), or where the
    indentation does; None when the file stays within."""
    depth, quote = 0, None
    for number, raw in enumerate(text.splitlines(), start=1):
        if (len(raw) - len(raw.lstrip(" "))) // 2 > MAX_DEPTH:
            return number
        previous = " "
        for char in raw:
            if quote:
                if char == quote:
                    quote = None
            elif char in "'\"":
                quote = char
            elif char == "#" and previous in " \t":
                break
            elif char in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return number
            elif char in "]}":
                depth = max(depth - 1, 0)
            previous = char
        quote = None if quote == "'" else quote  # a single-quoted scalar ends with its line here
    return None


def syntax_message(exc: MarkedYAMLError, text: str, line: int) -> str:
    """ruamel's complaint, in words an admin reads, with what usually causes it."""
    problem = (exc.problem or exc.context or "").strip()
    here = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
    if "mapping values are not allowed" in problem:
        return ("a key and value where none can be: a missing '- ' before a list item, a value on the line "
                "before, or a ':' in an unquoted value (quote it)")
    if "could not find expected ':'" in problem:
        return "a line without 'key: value' (text pasted here, or a missing ':')"
    if "expected <block end>" in problem or "did not find expected key" in problem:
        return "the indentation does not line up with the lines above (a block indented too far or too little)"
    if "found character" in problem and "\t" in here:
        return "a tab: YAML is indented with spaces only"
    return f"YAML syntax error: {problem}"


def _path_at(text: str, line: int) -> Path:
    """The keys enclosing `line`, from indentation alone (a syntax error leaves no parsed document)."""
    stack: list[tuple[int, str]] = []
    for raw in text.splitlines()[:line]:
        body = raw.lstrip(" ")
        if not body.strip() or body.startswith("#"):
            continue
        indent = len(raw) - len(body)
        while body.startswith("- "):  # a list item's key sits after its dash
            body, indent = body[2:], indent + 2
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if ":" in body and not body.startswith(("'", '"')):
            stack.append((indent, body.split(":", 1)[0].strip()))
    return tuple(k for _, k in stack)


def _plain(node, path: Path, source: Source, environ, count: list):
    """Convert ruamel's nodes to dicts, lists and scalars, recording lines and expanding env vars.

    `count` is the number of values made so far: aliases (&a / *a) share nodes, so a small file can
    stand for billions of values; the walk stops at MAX_VALUES and MAX_DEPTH instead.
    """
    count[0] += 1
    if count[0] > MAX_VALUES:
        raise _TooMuch(f"more than {MAX_VALUES} values once YAML aliases (&name, *name) are expanded", path)
    if len(path) > MAX_DEPTH:
        raise _TooMuch(f"nested deeper than any configuration (at most {MAX_DEPTH} levels)", path)
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            source.lines[path + (key,)] = node.lc.key(key)[0] + 1
            out[str(key) if not isinstance(key, (str, int)) else key] = _plain(value, path + (key,), source, environ,
                                                                               count)
        return out
    if isinstance(node, CommentedSeq):
        out = []
        for i, value in enumerate(node):
            source.lines[path + (i,)] = node.lc.item(i)[0] + 1
            out.append(_plain(value, path + (i,), source, environ, count))
        return out
    if isinstance(node, str):
        return _interpolate(str(node), path, source, environ)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, date):
        return date(node.year, node.month, node.day) if type(node) is not date else node
    return node


def _interpolate(text: str, path: Path, source: Source, environ) -> str:
    """Replace ${NAME} and ${NAME:-default}; an unset variable without a default is a problem."""

    def value(match):
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        source.problems.append((source.line_of(path), path, f"environment variable {name} is not set"))
        return match.group(0)

    if _BARE_ENV.fullmatch(text.strip()):
        source.problems.append((source.line_of(path), path, f"write ${{{text.strip()[1:]}}} with braces to read the "
                                "environment variable (as it is, the text itself would be the value)"))
    if "${" in _ENV.sub("", text):
        source.problems.append((source.line_of(path), path, "'${' without its closing '}': write ${NAME}"))
    return _ENV.sub(value, text)
