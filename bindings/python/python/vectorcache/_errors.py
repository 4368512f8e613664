"""The exception classes of the SDK.

They are plain Python classes because an abi3 extension cannot subclass ``Exception`` from
Rust. They are raised from Rust (``src/errors.rs``), which picks the class by an exhaustive
match on the core's error kind; nothing here decides anything, it only holds the values.

The hierarchy follows openai-python's::

    VectorcacheError
    ├── APIError                        the service or the network was involved
    │   ├── APIStatusError              an error status (any other status: this class)
    │   │   ├── BadRequestError             400
    │   │   ├── AuthenticationError         401
    │   │   ├── PermissionDeniedError       403
    │   │   ├── NotFoundError               404
    │   │   ├── UnprocessableEntityError    422
    │   │   ├── RateLimitError              429
    │   │   └── InternalServerError         any 5xx
    │   │       ├── BadGatewayError             502
    │   │       └── ServiceUnavailableError     503
    │   ├── APIConnectionError          refused, reset, DNS, TLS
    │   │   ├── APITimeoutError
    │   │   └── APICertificateError     the server's certificate is not trusted
    │   └── APIResponseValidationError  a 2xx body that is not the documented JSON
    ├── InvalidRequestError (also a ValueError)  a bad argument; nothing was sent
    └── ConfigurationError              no key, malformed key, bad base URL or option

Every exception carries the same attributes (``None`` where they do not apply), so code
written against the docs works on any of them::

    try:
        client.query(prompt="What is ML?", model="gpt-4o")
    except VectorcacheError as e:
        print(e.status_code, e.message, e.retry_after)

``str(e)`` is the core's message, which never contains the API key. All keyword arguments
default, so the exceptions pickle and unpickle with their attributes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Mapping, Optional

if TYPE_CHECKING:
    from ._native import RateLimit

__all__ = [
    "ErrorKind",
    "VectorcacheError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "BadGatewayError",
    "ServiceUnavailableError",
    "APIConnectionError",
    "APITimeoutError",
    "APICertificateError",
    "APIResponseValidationError",
    "InvalidRequestError",
    "ConfigurationError",
]

#: The core's stable error kind names.
ErrorKind = Literal[
    "bad_request",
    "authentication",
    "permission_denied",
    "not_found",
    "unprocessable_entity",
    "rate_limited",
    "internal_server",
    "bad_gateway",
    "service_unavailable",
    "status",
    "timeout",
    "connection",
    "certificate",
    "decode",
    "missing_api_key",
    "invalid_api_key",
    "invalid_request",
    "invalid_config",
]


class VectorcacheError(Exception):
    """Base class of every error the SDK raises."""

    #: The human-readable message: the server's ``detail`` for error statuses, else ``str(e)``.
    message: str
    #: The core's stable error kind, e.g. ``"authentication"``; ``None`` for a closed client.
    kind: Optional[ErrorKind]
    #: The HTTP status, for errors that came with an HTTP answer.
    status_code: Optional[int]
    #: The server's ``detail``, decoded (FastAPI lists read ``"body.prompt: Field required"``).
    detail: Optional[str]
    #: The response headers, names in lower case; empty without an answer.
    headers: Mapping[str, str]
    #: The response body as text (bounded); ``None`` without an answer.
    body: Optional[str]
    #: Seconds the server asked to wait before retrying, if it said.
    retry_after: Optional[float]
    #: The server's request id, if it sent one.
    request_id: Optional[str]
    #: Attempts the call made (retries included); ``None`` for local errors (nothing was sent).
    attempts: Optional[int]
    #: The ``X-RateLimit-*`` state of the answer, if the server sent it.
    rate_limit: Optional[RateLimit]

    def __init__(
        self,
        message: str = "",
        *,
        kind: Optional[ErrorKind] = None,
        status_code: Optional[int] = None,
        detail: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        body: Optional[str] = None,
        retry_after: Optional[float] = None,
        request_id: Optional[str] = None,
        attempts: Optional[int] = None,
        rate_limit: Optional[RateLimit] = None,
    ) -> None:
        super().__init__(message)
        # As the documented clients have it: `e.message` is what the server said.
        self.message = detail if detail is not None else message
        self.kind = kind
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers or {})
        self.body = body
        self.retry_after = retry_after
        self.request_id = request_id
        self.attempts = attempts
        self.rate_limit = rate_limit

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, message={self.message!r})"


class APIError(VectorcacheError):
    """The service (or a proxy in front of it) or the network was involved."""


class APIStatusError(APIError):
    """The service answered with an error status; the subclasses name the documented ones."""

    status_code: int


class BadRequestError(APIStatusError):
    """400: the server rejected the request."""


class AuthenticationError(APIStatusError):
    """401: missing, invalid, unknown or revoked API key."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not access this project."""


class NotFoundError(APIStatusError):
    """404."""


class UnprocessableEntityError(APIStatusError):
    """422: content not cacheable, or a validation error."""


class RateLimitError(APIStatusError):
    """429: rate limited; ``retry_after`` says how long the server asked to wait."""


class InternalServerError(APIStatusError):
    """Any 5xx answer."""


class BadGatewayError(InternalServerError):
    """502: the LLM provider (or a proxy) failed."""


class ServiceUnavailableError(InternalServerError):
    """503: temporarily unavailable."""


class APIConnectionError(APIError):
    """The connection could not be made or broke (refused, reset, DNS, TLS)."""


class APITimeoutError(APIConnectionError):
    """A request did not complete within the configured timeout."""


class APICertificateError(APIConnectionError):
    """The server's TLS certificate is not trusted (never retried). For an unknown issuer,
    pass ``ca_bundle=`` or set ``SSL_CERT_FILE`` to trust the CA that issued it (a
    TLS-inspecting proxy's, say); otherwise the message says what to check (the host name,
    the dates, the server's certificate)."""


class APIResponseValidationError(APIError):
    """A success status whose body is not the documented JSON."""

    status_code: int


class InvalidRequestError(VectorcacheError, ValueError):
    """A bad argument (blank prompt or model, threshold outside 0..1); nothing was sent."""


class ConfigurationError(VectorcacheError):
    """No API key (set ``VECTORCACHE_API_KEY``), a malformed key, an insecure base URL or a
    bad option; nothing was sent."""
