"""Load the YAML configuration into frozen objects, reporting every mistake with file, line and key.

    config = load_config("config.yaml")     # -> Config, or raises ConfigError
    error.problems                           # [Problem(file, line, path, message), ...] sorted by line

Imports: basics only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping

from marshmallow import ValidationError

from bridge.config.model import (
    Cashback,
    Config,
    ReferralCampaign,
    RewardSpec,
    ServerSettings,
    Shop,
    SocialBuyingCampaign,
    Tier,
)
from bridge.config.schema import ConfigSchema
from bridge.config.source import Source, read_source

__all__ = ["Cashback", "Config", "ConfigError", "Problem", "ReferralCampaign", "RewardSpec", "ServerSettings",
           "Shop", "SocialBuyingCampaign", "Tier", "load_config", "load_config_text"]

# marshmallow's own wording, said the way an admin reads it
_PLAIN = {
    "Missing data for required field.": "is required",
    "Field may not be null.": "must have a value",
    "Not a valid list.": "expected a list",
    "Invalid input type.": "expected a mapping of keys and values",
    "Not a valid mapping type.": "expected a mapping of keys and values",
}


@dataclass(frozen=True)
class Problem:
    """One mistake in a configuration file."""

    filename: str
    line: int
    path: tuple
    message: str

    def __str__(self) -> str:
        where = f" {format_path(self.path)}:" if self.path else ""
        return f"{self.filename}:{self.line}:{where} {self.message}"


class ConfigError(Exception):
    """The configuration has one or more problems; `problems` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line, format_path(p.path)))
        super().__init__("\n".join(str(p) for p in self.problems))


def format_path(path: tuple) -> str:
    """Write a key path the way the error messages show it: campaigns[0].tiers[1].cashback."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


MAX_BYTES = 1_000_000  # a configuration is a few kilobytes; far more is a mistake, refused before parsing


def load_config(path: str, environ: Mapping[str, str] | None=None) -> Config:
    """Read, validate and freeze the configuration file at `path`."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError([Problem(path, 0, (), f"cannot read the configuration: {exc.strerror}")]) from None
    if len(data) > MAX_BYTES:
        raise ConfigError([Problem(path, 1, (), f"the file is larger than {MAX_BYTES // 1000} KB: is it the "
                                                "configuration?")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError([Problem(path, line, (), "the file is not UTF-8 text (save it as UTF-8): byte "
                                                   f"0x{data[exc.start]:02x} cannot be read")]) from None
    return load_config_text(text.removeprefix("\ufeff"), filename=path, environ=environ)


def load_config_text(text: str, filename: str = "config.yaml", environ: Mapping[str, str] | None=None) -> Config:
    """Validate configuration text; `filename` is only used in messages."""
    source = read_source(os.path.basename(filename), text, os.environ if environ is None else environ)
    problems = [Problem(source.filename, line, path, message) for line, path, message in source.problems]
    if source.data is None and not problems:
        problems.append(Problem(source.filename, 1, (), "the file is empty; see config.example.yaml"))
    if problems and source.data is None:
        raise ConfigError(problems)
    try:
        built = ConfigSchema().load(source.data if isinstance(source.data, dict) else {"": source.data})
    except ValidationError as exc:
        problems += list(_problems(exc.messages, (), source))
        raise ConfigError(_unique(problems)) from None
    if problems:
        raise ConfigError(problems)
    return Config(path=filename, **built)


def _problems(messages, path: tuple, source: Source):
    """Flatten marshmallow's nested error messages into Problems with lines."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _problems(value, path if key == "_schema" else path + (key,), source)
    elif isinstance(messages, list):
        for message in messages:
            if isinstance(message, (dict, list)):
                yield from _problems(message, path, source)
            else:
                line = source.line_of(path)
                yield Problem(source.filename, line, path, _hinted(_PLAIN.get(message, message), source, line))
    else:
        yield Problem(source.filename, source.line_of(path), path, _PLAIN.get(messages, str(messages)))


def _hinted(message: str, source: Source, line: int) -> str:
    """Add what usually causes a message on this line: an unquoted '#' starts a comment."""
    written = source.text_lines[line - 1] if 0 < line <= len(source.text_lines) else ""
    if message == "must have a value" and re.search(r":\s+#", written):
        value = written.split("#", 1)[1].split()[0] if written.split("#", 1)[1].split() else ""
        return f"must have a value (an unquoted # starts a comment: write \"#{value}\")"
    return message


def _unique(problems: list[Problem]) -> list[Problem]:
    """Drop repeats (an unset variable can also make a value invalid: keep the cause only)."""
    seen, out = set(), []
    causes = {p.path for p in problems if p.message.startswith("environment variable")}
    for p in problems:
        if p.path in causes and not p.message.startswith("environment variable"):
            continue
        if (p.line, p.path, p.message) not in seen:
            seen.add((p.line, p.path, p.message))
            out.append(p)
    return out
