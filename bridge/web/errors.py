"""JSON errors for every route: no HTML tracebacks, and a 4xx (never a 500) for bad input."""

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger("bridge.web")


def error_response(status: int, code: str, message: str) -> Response:
    """Build the one error shape every endpoint uses: {"error": {"code", "message"}}."""
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Turn every HTTP error and every unexpected exception into a JSON response."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(exc.code or 500, code, exc.description or exc.name)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if exc.get_response().headers.get(header):
                response.headers[header] = exc.get_response().headers[header]
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error")
        return error_response(500, "internal_error", "something went wrong on our side; it has been logged")
