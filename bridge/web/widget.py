"""GET /widget.js: the copy-paste widget, minified, with an ETag, a short cache and gzip."""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

from calmjs.parse import es5
from calmjs.parse.unparsers.es5 import minify_print
from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

bp = Blueprint("widget", __name__)
# An installed package carries the script beside this module (setup.py copies it there); a checkout
# (and an editable install) serves js-widget/ itself, so an edited widget is served at once.
PACKAGED = Path(__file__).resolve().parent / "widget.js"
SOURCE = PACKAGED if PACKAGED.exists() else Path(__file__).resolve().parents[2] / "js-widget" / "widget.js"


@lru_cache(maxsize=1)
def _built(mtime: float) -> tuple[bytes, bytes, str]:
    """The script minified, its gzip and its ETag (recomputed when the file changes).

    calmjs.parse reads the script as ES5 and prints it back without comments and whitespace, its local
    names shortened (globals and properties keep theirs): issue 20 gives it 5 KB gzipped. A script it
    cannot parse fails here, on the first request, never half-served. Done once per version of the file.
    """
    body = minify_print(es5(SOURCE.read_text(encoding="utf-8")), obfuscate=True, obfuscate_globals=False).encode("utf-8")
    return body, gzip.compress(body, 9, mtime=0), '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def widget_bytes() -> tuple[bytes, bytes, str]:
    return _built(SOURCE.stat().st_mtime)


@bp.get("/widget.js")
def script() -> ResponseReturnValue:
    body, zipped, etag = widget_bytes()
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300, stale-while-revalidate=86400",
               "Vary": "Accept-Encoding", "Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = zipped
    return Response(body, mimetype="application/javascript", headers=headers)
