"""Configs mutated in many ways either load or fail with `file:line: key.path: message`, never a traceback.

The mutations are what people do to YAML by hand: delete or duplicate a line, indent it wrongly (or
with a tab), put a value of another type, an unquoted '#', a look-alike letter in a key, nesting,
aliases (and an alias bomb), another encoding, text pasted at the end.
"""

from __future__ import annotations

import re
import textwrap
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.config import ConfigError, load_config
from tests.conftest import BASE_CONFIG

ROOT = Path(__file__).resolve().parents[1]
ENV = {"BRIDGE_SECRET_KEY": "s" * 32, "WC_CONSUMER_KEY": "ck_x", "WC_CONSUMER_SECRET": "cs_x",
       "PS_WEBSERVICE_KEY": "K" * 32, "SHOP_IBAN": "FR7630006000011234567890189", "SMTP_PASSWORD": "p",
       "BRIDGE_ADMIN_PASSWORD": "admin-password-0123456789", "PS_HINT_SECRET": "h" * 40}
BASES = [(ROOT / "config.example.yaml").read_text(),
         textwrap.dedent(BASE_CONFIG).format(database_url="sqlite:///fuzz.db")]
ONE_LINE = re.compile(r"^fuzz\.yaml:\d+: \S.*$")
VALUES = ["12", "-1", "3.5", "true", "null", "[]", "{}", "[a, b]", "{x: 1}", '""', "#c2410c", "*nowhere", "&a x",
          "2026-02-30", "2026-13-01", "${UNSET", "$WC_CONSUMER_KEY", "'unterminated", "https://x.example:99999",
          "é" * 3, "\u00a0", "99999999999999999999999999999999", "1e400", "0x1F"]
LOOKALIKES = {"a": "а", "e": "е", "o": "о", "i": "і", "s": "ѕ"}


@st.composite
def mutated(draw):
    """A configuration text (or bytes) with one to three of the mistakes people make."""
    lines = draw(st.sampled_from(BASES)).splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "tab", "value", "lookalike",
                                     "space_in_key", "nest", "alias", "paste", "dash"]))
        line = lines[i]
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, line)
        elif kind == "indent":
            lines[i] = "  " + line
        elif kind == "dedent":
            lines[i] = line[2:] if line.startswith("  ") else line
        elif kind == "tab":
            lines[i] = "\t" + line.lstrip()
        elif kind == "value" and ":" in line:
            lines[i] = line.split(":", 1)[0] + ": " + draw(st.sampled_from(VALUES))
        elif kind == "lookalike" and ":" in line:
            key, rest = line.split(":", 1)
            lines[i] = "".join(LOOKALIKES.get(c, c) if draw(st.booleans()) else c for c in key) + ":" + rest
        elif kind == "space_in_key" and ":" in line and not line.strip().startswith("#"):
            key, rest = line.split(":", 1)
            lines[i] = f'{key[:len(key) - len(key.lstrip())]}"{key.strip()} ":{rest}'
        elif kind == "nest":
            depth = draw(st.integers(1, 3000))
            lines.insert(i, "deep: " + "[" * depth + "]" * depth)
        elif kind == "alias":
            bomb = ["lol0: &l0 [x, x, x, x, x, x, x, x, x, x]"] + [
                f"lol{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 9)]
            lines[i:i] = bomb
        elif kind == "paste":
            lines.append(draw(st.sampled_from(["some text pasted here", "- lost item", "]", "key value", "%%%"])))
        elif kind == "dash" and line.lstrip().startswith("- "):
            lines[i] = line.replace("- ", "  ", 1)
    text = "\n".join(lines) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "latin-1", "utf-16", "utf-8-sig"]))
    return text.encode(encoding, errors="replace")


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutated())
def test_every_mutated_config_loads_or_says_where_and_what_in_one_line(tmp_path, data):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        load_config(str(path), environ=ENV)
    except ConfigError as exc:
        assert exc.problems, "a ConfigError names at least one problem"
        for problem in exc.problems:
            text = str(problem).replace(str(tmp_path) + "/", "")
            assert ONE_LINE.match(text) and "\n" not in text and "Traceback" not in text, text
            assert len(text) < 600, text  # one line an admin reads, never a dump of values
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024, f"{peak} bytes"  # bounded memory, aliases or not


def test_a_huge_file_is_refused_at_once(tmp_path):
    path = tmp_path / "fuzz.yaml"
    path.write_text(BASES[1].format() + "#" * 79 + "\n" * 1 + ("# comment\n" * 900_000))
    try:
        load_config(str(path), environ=ENV)
    except ConfigError as exc:
        assert [p.message for p in exc.problems] == ["the file is larger than 1000 KB: is it the configuration?"]
    else:
        raise AssertionError("a 9 MB file was read")
