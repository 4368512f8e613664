"""The exception classes of the SDK.

They are plain Python classes because an abi3 extension cannot subclass ``Exception`` from
Rust. They are raised from Rust (``src/errors.rs``), which picks the class from the core's
stable error kind; nothing here decides anything, it only holds the values.

Every exception is a :class:`VectorcacheError`, and ``status_code``, ``message`` and
``retry_after`` can be read on any of them (``None`` where they do not apply)::

    try:
        client.query(prompt="What is ML?", model="gpt-4o")
    except VectorcacheError as e:
        print(e.status_code, e.message, e.retry_after)

``str(e)`` is the core's message, which never contains the API key. All keyword arguments
default, so the exceptions pickle and unpickle with their attributes.
"""

from __future__ import annotations

from typing import Mapping, Optional

__all__ = [
    "VectorcacheError",
    "APIError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "BadGatewayError",
    "ServiceUnavailableError",
    "APIResponseValidationError",
    "APIConnectionError",
    "APITimeoutError",
    "InvalidRequestError",
    "ConfigurationError",
]


class VectorcacheError(Exception):
    """Base class of every error the SDK raises."""

    #: The human-readable message (for API errors: the server's ``detail``).
    message: str
    #: The core's stable error kind, e.g. ``"authentication"``, ``"timeout"``; ``None`` if unknown.
    kind: Optional[str]
    #: The HTTP status, for errors that came with an HTTP answer.
    status_code: Optional[int] = None
    #: Seconds the server asked to wait before retrying, if it said.
    retry_after: Optional[float] = None
    #: The server's request id, if it sent one.
    request_id: Optional[str] = None

    def __init__(self, message: str = "", *, kind: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


class APIError(VectorcacheError):
    """The service (or a proxy in front of it) answered with an error status."""

    status_code: Optional[int]
    #: The server's ``detail``, decoded (FastAPI lists read ``"body.prompt: Field required"``).
    detail: Optional[str]
    #: The response headers, names in lower case.
    headers: Mapping[str, str]
    #: The response body as text (bounded).
    body: str

    def __init__(
        self,
        message: str = "",
        *,
        kind: Optional[str] = None,
        status_code: Optional[int] = None,
        detail: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        body: str = "",
        retry_after: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(message, kind=kind)
        # As the documented clients have it: `e.message` is what the server said.
        self.message = detail if detail is not None else message
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers or {})
        self.body = body
        self.retry_after = retry_after
        self.request_id = request_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, message={self.message!r})"


class BadRequestError(APIError):
    """400: the server rejected the request."""


class AuthenticationError(APIError):
    """401: missing, invalid, unknown or revoked API key."""


class PermissionDeniedError(APIError):
    """403: the key may not access this project."""


class NotFoundError(APIError):
    """404."""


class UnprocessableEntityError(APIError):
    """422: content not cacheable, or a validation error."""


class RateLimitError(APIError):
    """429: rate limited; ``retry_after`` says how long the server asked to wait."""


class InternalServerError(APIError):
    """Any 5xx answer."""


class BadGatewayError(InternalServerError):
    """502: the LLM provider (or a proxy) failed."""


class ServiceUnavailableError(InternalServerError):
    """503: temporarily unavailable."""


class APIResponseValidationError(APIError):
    """A success status whose body is not the documented JSON."""


class APIConnectionError(VectorcacheError):
    """The connection could not be made or broke (refused, reset, DNS, TLS)."""


class APITimeoutError(APIConnectionError):
    """A request did not complete within the configured timeout."""


class InvalidRequestError(VectorcacheError, ValueError):
    """A bad argument (blank prompt, threshold outside 0..1, malformed key); nothing was sent."""


class ConfigurationError(VectorcacheError):
    """No API key (set ``VECTORCACHE_API_KEY``), an insecure base URL, or a bad setting."""
