"""Read a YAML file into plain data, remembering the line of every key and list item."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

Path = tuple  # of str keys and int indexes

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class Source:
    """Plain data from one YAML file, with the line of each path and the problems met reading it."""

    filename: str
    data: object = None
    lines: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)  # (line, path, message)

    def line_of(self, path: Path) -> int:
        """Return the line of `path`, or of its nearest ancestor present in the file."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def read_source(filename: str, text: str, environ=os.environ) -> Source:
    """Parse YAML text, interpolate ${VARS} from the environment and record every line."""
    source = Source(filename)
    try:
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        source.problems.append((line, (), f"YAML syntax error: {exc.problem or exc.context}"))
        return source
    source.lines[()] = 1
    source.data = _plain(document, (), source, environ)
    return source


def _plain(node, path: Path, source: Source, environ):
    """Convert ruamel's nodes to dicts, lists and scalars, recording lines and expanding env vars."""
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            source.lines[path + (key,)] = node.lc.key(key)[0] + 1
            out[str(key) if not isinstance(key, (str, int)) else key] = _plain(value, path + (key,), source, environ)
        return out
    if isinstance(node, CommentedSeq):
        out = []
        for i, value in enumerate(node):
            source.lines[path + (i,)] = node.lc.item(i)[0] + 1
            out.append(_plain(value, path + (i,), source, environ))
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

    return _ENV.sub(value, text)
