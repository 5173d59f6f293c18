"""Day-by-day charts drawn by pygal as inline SVG: served with the page, nothing loaded from elsewhere."""

from __future__ import annotations

import math
import re
import sys
from functools import lru_cache

import pygal
from markupsafe import Markup
from pygal.style import Style

# pygal appends an old-style import hook for its map plugins (unused here), which makes Python warn on
# every later import that reaches it: take it out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, pygal.PluginImportFixer)]

STYLE = Style(background="white", plot_background="white", foreground="#18181b", foreground_strong="#18181b",
              foreground_subtle="#d4d4d8", colors=("#1f6feb", "#16a34a", "#b45309", "#7c3aed"),
              font_family="system-ui, Arial, sans-serif", label_font_size=13, major_label_font_size=13,
              legend_font_size=14, title_font_size=16)


def daily_chart(title: str, labels: list[str], series: list[tuple[str, list[float]]], bars: bool = False) -> Markup:
    """One chart of a few series over the period's days, drawn twice: wide for desktops, tall for phones
    (the page's CSS shows one); each SVG scales to its box."""
    labels, series = tuple(labels), tuple((name, tuple(values)) for name, values in series)
    return Markup(_svg(title, labels, series, bars, phone=False) + _svg(title, labels, series, bars, phone=True))


@lru_cache(maxsize=64)  # a pure function of its arguments: a page shown again with the same figures is not drawn again
def _svg(title: str, labels: tuple, series: tuple, bars: bool, phone: bool) -> str:
    top = max((max(values, default=0) for _, values in series), default=0)
    step = max(1, math.ceil(top / 5))
    chart = (pygal.Bar if bars else pygal.Line)(
        js=[], style=STYLE, title=title, width=400 if phone else 760, height=340 if phone else 300,
        show_legend=True, legend_at_bottom=True, legend_at_bottom_columns=1 if phone else len(series),
        truncate_legend=-1, truncate_label=-1, show_minor_x_labels=False,
        x_labels_major_every=max(1, len(labels) // (3 if phone else 6)), show_dots=len(labels) <= 31,
        disable_xml_declaration=True, print_values=False, include_x_axis=True, css=["file://style.css", "file://graph.css"],
        classes=["pygal-chart", "phone" if phone else "desk"])
    chart.x_labels = labels
    chart.y_labels = list(range(0, max(top, 1) + step, step))  # counts: whole numbers only
    for name, values in series:
        chart.add(name, values)
    # pygal escapes the titles, labels and series names it is given (ElementTree writes them as text). Its
    # comments and its script (the settings of tooltips that would need pygal's JavaScript) are dropped.
    return _SCRIPT.sub("", _COMMENT.sub("", chart.render(is_unicode=True)))


_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
