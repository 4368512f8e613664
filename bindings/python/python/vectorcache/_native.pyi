# Types of the compiled module (bindings/python/src). Private: import from `vectorcache`.
import os
from typing import Any, Awaitable, Iterable, Iterator, Mapping, Optional, Union, final

from typing_extensions import Self

__all__ = [
    "AsyncClient",
    "Client",
    "ClientBase",
    "DebugInfo",
    "QueryResponse",
    "RateLimit",
    "EmulatorServer",
    "__version__",
    "DEFAULT_BASE_URL",
    "API_KEY_ENV",
    "BASE_URL_ENV",
]

__version__: str
DEFAULT_BASE_URL: str
API_KEY_ENV: str
BASE_URL_ENV: str

@final
class RateLimit(Mapping[str, Any]):
    """The `X-RateLimit-*` state sent with an answer."""

    def __new__(
        cls,
        limit: Optional[int] = None,
        remaining: Optional[int] = None,
        reset: Optional[int] = None,
    ) -> Self: ...
    def __reduce__(self) -> tuple[type[RateLimit], tuple[Optional[int], Optional[int], Optional[int]]]: ...
    @property
    def limit(self) -> Optional[int]: ...
    @property
    def remaining(self) -> Optional[int]: ...
    @property
    def reset(self) -> Optional[int]:
        """When the window resets, in Unix seconds."""
    def to_dict(self) -> dict[str, Any]: ...
    def __getitem__(self, key: str, /) -> Any: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...

@final
class DebugInfo(Mapping[str, Any]):
    """The `debug` object of an answer (requested with `include_debug=True`)."""

    def __new__(
        cls,
        embedding_time_ms: float = 0.0,
        search_time_ms: float = 0.0,
        total_time_ms: float = 0.0,
        matched_cache_entry_id: Optional[str] = None,
        cache_entry_count: int = 0,
    ) -> Self: ...
    def __reduce__(
        self,
    ) -> tuple[type[DebugInfo], tuple[float, float, float, Optional[str], int]]: ...
    @property
    def embedding_time_ms(self) -> float: ...
    @property
    def search_time_ms(self) -> float: ...
    @property
    def total_time_ms(self) -> float: ...
    @property
    def matched_cache_entry_id(self) -> Optional[str]: ...
    @property
    def cache_entry_count(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __getitem__(self, key: str, /) -> Any: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...

@final
class QueryResponse(Mapping[str, Any]):
    """The answer to a cache query: attributes, and the mapping of the documented JSON keys
    (`cache_hit`, `response`, `similarity_score`, `cost_saved`, `llm_provider`, and `debug`
    when present)."""

    def __new__(
        cls,
        cache_hit: bool,
        response: str,
        similarity_score: Optional[float] = None,
        cost_saved: float = 0.0,
        llm_provider: str = "",
        debug: Optional[DebugInfo] = None,
        rate_limit: Optional[RateLimit] = None,
        request_id: Optional[str] = None,
    ) -> Self: ...
    def __reduce__(
        self,
    ) -> tuple[
        type[QueryResponse],
        tuple[
            bool, str, Optional[float], float, str,
            Optional[DebugInfo], Optional[RateLimit], Optional[str],
        ],
    ]:
        """Pickles (and deep-copies) with every field, ``rate_limit`` and ``request_id`` too."""
    @property
    def cache_hit(self) -> bool: ...
    @property
    def response(self) -> str: ...
    @property
    def similarity_score(self) -> Optional[float]:
        """Cosine similarity of the match; None on a miss."""
    @property
    def cost_saved(self) -> float:
        """Estimated USD saved; 0 on a miss."""
    @property
    def llm_provider(self) -> str:
        """`cache` on a hit, else the provider (`openai`, `anthropic`, ...)."""
    @property
    def debug(self) -> Optional[DebugInfo]: ...
    @property
    def rate_limit(self) -> Optional[RateLimit]: ...
    @property
    def request_id(self) -> Optional[str]: ...
    def to_dict(self) -> dict[str, Any]:
        """The documented snake_case shape, `debug` (as a dict) only when present."""
    def __getitem__(self, key: str, /) -> Any: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...

class ClientBase:
    @property
    def base_url(self) -> str: ...
    @property
    def timeout(self) -> float:
        """The per-attempt timeout, in seconds."""
    @property
    def max_retries(self) -> int: ...
    @property
    def project_id(self) -> Optional[str]: ...
    @property
    def closed(self) -> bool: ...
    def _stats(self) -> dict[str, Any]:
        """The usage counters as a dict (the package's clients wrap it in ``Stats``)."""
    def reset_stats(self) -> None:
        """Starts the statistics afresh."""
    def set_api_key(self, api_key: str) -> None:
        """Swaps the key on this client (rotation); raises ConfigurationError if malformed."""
    def close(self) -> None:
        """Refuses further queries."""

class Client(ClientBase):
    def __new__(
        cls,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        project_id: Optional[str] = None,
        max_connections: Optional[int] = None,
        total_timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        ca_bundle: Optional[Union[str, os.PathLike[str]]] = None,
        proxy: Optional[str] = None,
    ) -> Self: ...
    def query(
        self,
        prompt: str,
        model: str,
        *,
        similarity_threshold: Optional[float] = None,
        context: Optional[str] = None,
        include_debug: Optional[bool] = None,
        project_id: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        total_timeout: Optional[float] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> QueryResponse:
        """Looks ``prompt`` up in the cache (``POST /v1/cache/query``).

        A hit returns the cached answer to a similar earlier prompt; a miss asks ``model`` and
        caches the fresh answer. The call waits with the GIL released (other threads run) and
        Ctrl-C cancels it. Retryable failures (timeouts, connection errors, 429/500/502/503/504)
        are retried up to ``max_retries`` times, honouring ``Retry-After``.

        Args:
            prompt: The prompt to look up; must not be empty or blank.
            model: The LLM model id, e.g. ``"gpt-4o"``; must not be empty or blank.
            similarity_threshold: Minimum cosine similarity (0 to 1) for a hit; the server's
                default is 0.85.
            context: A cache segment: the same prompt under another context is another entry.
            include_debug: Adds the ``debug`` object (timings, matched entry) to the result.
            project_id: The project to query; overrides the client's ``project_id``.
            timeout: This call's per-attempt timeout in seconds, instead of the client's.
            max_retries: This call's retries, instead of the client's.
            total_timeout: Seconds this whole call may take: waiting for a connection, every
                attempt and every wait between attempts (instead of the client's). When they
                run out, ``APITimeoutError``; a server-requested wait that would overrun them
                ends the call at once with the server's error.
            extra_headers: Headers sent with this call only (not ``Authorization``).

        Returns:
            The answer: ``cache_hit``, ``response``, ``similarity_score``, ``cost_saved``,
            ``llm_provider`` (and ``debug``), readable as attributes and as a mapping.

        Raises:
            InvalidRequestError: A bad argument; nothing was sent.
            AuthenticationError: 401, the key is unknown or revoked.
            PermissionDeniedError: 403, the key may not access the project.
            RateLimitError: 429 after the retries; ``retry_after`` says how long to wait.
            InternalServerError: A 5xx after the retries (``BadGatewayError``,
                ``ServiceUnavailableError`` for 502 and 503).
            APIStatusError: Any other error status (``BadRequestError``, ``NotFoundError``,
                ``UnprocessableEntityError`` for 400, 404, 422).
            APITimeoutError: Every attempt timed out, or ``total_timeout`` ran out.
            APICertificateError: The server's TLS certificate is not trusted (not retried).
            APIConnectionError: The connection failed on every attempt.
            APIResponseValidationError: A success status with a body that is not the
                documented JSON.
            VectorcacheError: The client was closed.
        """


    def query_many(
        self, requests: Iterable[Mapping[str, Any]], *, concurrency: Optional[int] = None
    ) -> list[Union[QueryResponse, Exception]]:
        """Looks every request up, at most ``concurrency`` (default 16) at once, in one call.

        Args:
            requests: Mappings of :meth:`query`'s keyword arguments (``prompt`` and ``model``
                required).
            concurrency: Requests in flight at once (the client's ``max_connections`` still
                bounds the sockets).

        Returns:
            A list in the order of ``requests``: each item the ``QueryResponse`` or the
            exception instance of that request, always an ``Exception`` (a
            ``VectorcacheError`` for a failed request, an ``InvalidRequestError`` or
            ``TypeError`` for a bad item, which is not sent, or what reading the item's mapping
            raised); one failure never fails the batch.

        Raises:
            InvalidRequestError: ``concurrency`` is below 1.
            TypeError: ``requests`` is not an iterable of items (a mapping, a ``str`` or
                ``bytes`` is refused whole), or ``concurrency`` is not an ``int``.
            KeyboardInterrupt: Ctrl-C, also while an item's mapping is read.
        """

class AsyncClient(ClientBase):
    def __new__(
        cls,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        project_id: Optional[str] = None,
        max_connections: Optional[int] = None,
        total_timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        ca_bundle: Optional[Union[str, os.PathLike[str]]] = None,
        proxy: Optional[str] = None,
    ) -> Self: ...
    def query(
        self,
        prompt: str,
        model: str,
        *,
        similarity_threshold: Optional[float] = None,
        context: Optional[str] = None,
        include_debug: Optional[bool] = None,
        project_id: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        total_timeout: Optional[float] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Awaitable[QueryResponse]:
        """Looks ``prompt`` up in the cache; the awaitable resolves on the running loop.

        The same arguments, result and exceptions as :meth:`Client.query`; cancelling the
        awaiting task cancels the request.
        """
    def query_many(
        self, requests: Iterable[Mapping[str, Any]], *, concurrency: Optional[int] = None
    ) -> Awaitable[list[Union[QueryResponse, Exception]]]:
        """Like :meth:`Client.query_many`, resolved on the running loop."""

@final
class EmulatorServer:
    """The in-process emulator behind ``vectorcache.testing.Emulator``."""

    def __new__(
        cls,
        api_key: Optional[str] = None,
        port: Optional[int] = None,
        rate_limit: Union[bool, Mapping[str, int], None] = None,
    ) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def api_key(self) -> str: ...
    def add_fault(self, fault: str) -> None: ...
    def requests(self) -> str: ...
    def reset(self) -> None: ...
    def stop(self) -> None: ...
