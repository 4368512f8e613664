"""Official Python client for Vectorcache, the hosted semantic cache for LLM calls.

    from vectorcache import VectorcacheClient, VectorcacheError

    with VectorcacheClient() as client:  # VECTORCACHE_API_KEY, optional VECTORCACHE_BASE_URL
        result = client.query(prompt="What is machine learning?", model="gpt-4o")
        print(result.cache_hit, result["response"])

The behaviour (configuration, validation, retries, error decoding) is the Rust core's, shared
with the Rust crate, the CLI and the Node package; this package is a thin layer over it.
"""

from collections.abc import Mapping as _Mapping

from ._client import AsyncVectorcacheClient, VectorcacheClient
from ._errors import (
    APICertificateError,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    ConfigurationError,
    ErrorKind,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    UnprocessableEntityError,
    VectorcacheError,
)
from ._native import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DebugInfo,
    QueryResponse,
    RateLimit,
    __version__,
)

from ._stats import LatencyMs, Stats

#: The name the documentation's Python page uses for the result type.
VectorcacheResponse = QueryResponse

# Results read like the documented JSON objects: `isinstance(result, Mapping)` holds.
_Mapping.register(QueryResponse)
_Mapping.register(DebugInfo)
_Mapping.register(RateLimit)

__all__ = [
    "VectorcacheClient",
    "AsyncVectorcacheClient",
    "QueryResponse",
    "VectorcacheResponse",
    "Stats",
    "LatencyMs",
    "DebugInfo",
    "RateLimit",
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
    "APIResponseValidationError",
    "APIConnectionError",
    "APITimeoutError",
    "APICertificateError",
    "InvalidRequestError",
    "ConfigurationError",
    "ErrorKind",
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "__version__",
]
