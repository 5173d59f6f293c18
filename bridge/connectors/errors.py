"""Connector errors, one tree for every platform. Third-party exceptions are translated once, here.

    ConnectorError                 something went wrong talking to a shop (carries shop, status, order)
    ├── RetriableError             try again later, with backoff: timeouts, connection errors, 429, 5xx
    ├── FatalError                 retrying will not help: 400, 401, 403, 404
    │   ├── NotFound               the order or coupon does not exist (404)
    │   └── RefundRefused          the shop or its payment gateway refused a refund (its message kept)
    └── WebhookError               a delivery we refuse; `status` is what the sender gets
        ├── BadSignature           401: missing or wrong signature
        └── MalformedPayload       400: not the JSON (or form) the platform sends
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every connector error; says which shop, HTTP status and order it concerns."""

    def __init__(self, message: str, shop: str | None = None, status: int | None = None, order: str | None = None) -> None:
        self.shop, self.status, self.order = shop, status, order
        context = ", ".join(f"{k} {v}" for k, v in (("shop", shop), ("HTTP", status), ("order", order)) if v)
        super().__init__(f"{message} ({context})" if context else message)


class RetriableError(ConnectorError):
    """A passing failure: the same call may succeed later (`retry_after` seconds, when the shop says)."""

    def __init__(self, message: str, shop: str | None = None, status: int | None = None, order: str | None = None,
                 retry_after: float | None = None, timed_out: bool = False) -> None:
        super().__init__(message, shop, status, order)
        self.retry_after, self.timed_out = retry_after, timed_out


class FatalError(ConnectorError):
    """A failure that retrying will not fix."""


class NotFound(FatalError):
    """The thing asked for does not exist in the shop."""


class RefundRefused(FatalError):
    """The shop refused the refund (the gateway cannot refund, or the amount is more than what is left)."""


class WebhookError(ConnectorError):
    """A webhook delivery that is refused with `status`."""

    status_code = 400


class BadSignature(WebhookError):
    status_code = 401


class MalformedPayload(WebhookError):
    status_code = 400


def error_for_status(status: int, message: str, shop: str | None = None, order: str | None = None,
                     retry_after: float | None = None) -> ConnectorError:
    """Map an HTTP status to the right error class."""
    if status == 404:
        return NotFound(message, shop, status, order)
    if status == 429 or status >= 500:
        return RetriableError(message, shop, status, order, retry_after=retry_after)
    return FatalError(message, shop, status, order)
