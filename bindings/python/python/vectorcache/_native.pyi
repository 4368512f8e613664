# Types of the compiled module (bindings/python/src). Private: import from `vectorcache`.
from typing import Any, Awaitable, Iterator, Mapping, Optional, final

from typing_extensions import Self

__all__ = [
    "AsyncClient",
    "Client",
    "ClientBase",
    "DebugInfo",
    "QueryResponse",
    "RateLimit",
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
    def set_api_key(self, api_key: str) -> None:
        """Swaps the key on this client (rotation); raises InvalidRequestError if malformed."""
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
    ) -> Self: ...
    def query(
        self,
        prompt: str,
        model: str,
        *,
        similarity_threshold: Optional[float] = None,
        context: Optional[str] = None,
        include_debug: bool = False,
        project_id: Optional[str] = None,
    ) -> QueryResponse: ...

class AsyncClient(ClientBase):
    def __new__(
        cls,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        project_id: Optional[str] = None,
    ) -> Self: ...
    def query(
        self,
        prompt: str,
        model: str,
        *,
        similarity_threshold: Optional[float] = None,
        context: Optional[str] = None,
        include_debug: bool = False,
        project_id: Optional[str] = None,
    ) -> Awaitable[QueryResponse]: ...
