"""The public clients: the native classes plus the Python-only context-manager protocols."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Iterable, Mapping, Optional, Type, Union

from ._native import AsyncClient as _NativeAsyncClient
from ._native import Client as _NativeClient
from ._native import QueryResponse
from ._stats import Stats

__all__ = ["VectorcacheClient", "AsyncVectorcacheClient"]


class VectorcacheClient(_NativeClient):
    """The blocking client. Thread-safe: ``query`` releases the GIL, so threads overlap;
    under gevent it waits in the hub, so greenlets overlap (and ``gevent.Timeout`` ends it).

    ``VectorcacheClient()`` reads ``VECTORCACHE_API_KEY`` and ``VECTORCACHE_BASE_URL``;
    explicit arguments win. ``max_connections`` (default 100) bounds the sockets open at once
    in the pool shared by the process's clients of the same connection settings (queries
    beyond wait their turn); ``total_timeout`` (seconds, default none) bounds every
    call as a whole; ``connect_timeout`` (seconds, default 10) bounds opening a connection, so
    that a firewall that drops packets fails an attempt before ``timeout`` does. Safe across ``os.fork()``: a forked child (gunicorn ``--preload``,
    Celery, ``multiprocessing``) gets its own runtime and connections on first use::

        with VectorcacheClient(api_key="vc_...", timeout=10.0) as client:
            result = client.query(prompt="What is ML?", model="gpt-4o")
    """

    def stats(self) -> Stats:
        """A snapshot of this client's usage: ``queries``, ``hits``, ``misses``, ``hit_rate``,
        ``cost_saved``, ``errors`` (kind to count), ``retries`` and ``latency_ms`` (``p50``,
        ``p95``, ``p99``), read as attributes or as a mapping."""
        return Stats(self._stats())

    def __enter__(self) -> VectorcacheClient:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


class AsyncVectorcacheClient(_NativeAsyncClient):
    """The asyncio client; same arguments as :class:`VectorcacheClient`::

        async with AsyncVectorcacheClient() as client:
            results = await asyncio.gather(*(client.query(prompt=p, model="gpt-4o") for p in ps))
    """

    async def query(
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
        """Looks ``prompt`` up in the cache; the same arguments, result and exceptions as
        :meth:`VectorcacheClient.query`. Cancelling the awaiting task cancels the request."""
        # A real coroutine (so `asyncio.create_task` and TaskGroups accept it) awaiting the
        # native future, which runs on the shared tokio runtime: no thread per call.
        return await super().query(
            prompt,
            model,
            similarity_threshold=similarity_threshold,
            context=context,
            include_debug=include_debug,
            project_id=project_id,
            timeout=timeout,
            max_retries=max_retries,
            total_timeout=total_timeout,
            extra_headers=extra_headers,
        )

    async def query_many(
        self, requests: Iterable[Mapping[str, Any]], *, concurrency: Optional[int] = None
    ) -> list[Union[QueryResponse, Exception]]:
        """Like :meth:`VectorcacheClient.query_many` (``concurrency`` defaults to 16),
        awaited on the running loop."""
        return await super().query_many(requests, concurrency=concurrency)

    def stats(self) -> Stats:
        """A snapshot of this client's usage: ``queries``, ``hits``, ``misses``, ``hit_rate``,
        ``cost_saved``, ``errors`` (kind to count), ``retries`` and ``latency_ms`` (``p50``,
        ``p95``, ``p99``), read as attributes or as a mapping."""
        return Stats(self._stats())

    async def aclose(self) -> None:
        """Refuses further queries (``async with`` calls it on exit)."""
        self.close()

    async def __aenter__(self) -> AsyncVectorcacheClient:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()
