"""An installed bridge carries what it serves: the widget's script, the web and mail templates."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_carries_the_widget_and_the_templates(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("bridge-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "bridge/web/widget.js" in names
    assert zipfile.ZipFile(wheel).read("bridge/web/widget.js") == (ROOT / "js-widget" / "widget.js").read_bytes()
    assert any(n.startswith("bridge/web/templates/") for n in names)
    assert any(n.startswith("bridge/delivery/mail/templates/") for n in names)
