"""Test your own code against a local Vectorcache, with nothing else installed.

``Emulator`` starts the SDK's emulator of the Vectorcache API inside this process, on a free
loopback port: the same server as ``vectorcache emulator``, with a semantic cache, the
documented errors, fault injection and a request log::

    from vectorcache import VectorcacheClient
    from vectorcache.testing import Emulator

    def test_my_fallback():
        with Emulator() as emulator:
            emulator.add_fault(status=503, count=3)
            client = VectorcacheClient(emulator.api_key, base_url=emulator.base_url, max_retries=0)
            assert my_answer(client, "What is AI?") == "answered by the LLM directly"
            assert len(emulator.requests()) == 1

With pytest, the ``vectorcache_emulator`` fixture gives a fresh one per test: import it into
your ``conftest.py`` (``from vectorcache.testing import vectorcache_emulator``) or list the
plugin there (``pytest_plugins = ["vectorcache.testing"]``).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from types import TracebackType
from typing import Any, Iterator, Mapping, Optional, Type, Union

from ._client import AsyncVectorcacheClient, VectorcacheClient
from ._native import EmulatorServer

__all__ = ["Emulator", "vectorcache_emulator"]

# What a refused fault's message starts with, as the native module words it.
_REFUSED = "the emulator refused the fault: "

# Requests that go straight to the address, whatever proxy the environment names.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# Every emulator started and not stopped. An emulator runs until ``stop()``: one the program no
# longer references must not stop when its native server is freed (a client given its URL still
# uses it).
_started: set[Emulator] = set()


def _why_not_json(value: Any) -> str:
    """Why ``json.dumps(value, allow_nan=False)`` raised ``ValueError``."""
    try:
        json.dumps(value)  # allows NaN: only a circular reference fails now
    except ValueError:
        return "it contains itself (a circular reference)"
    # NaN or an infinity: `json.dumps` would write them as what JSON has not.
    return "it holds a number JSON cannot carry (NaN or an infinity)"


class Emulator:
    """A local Vectorcache emulator in this process; a context manager.

    Args:
        api_key: The key it accepts; a new one (``vc_`` + 32 hex) when not given.
        port: The loopback port; 0 (the default) picks a free one.
        rate_limit: Like the service, it limits each key and sends ``X-RateLimit-*`` on every
            authenticated answer. ``True`` (the default) is a generous 100,000 per minute;
            ``{"per_minute": 2, "burst": 2}`` sets your own (to test 429 handling); ``False``
            switches limiting and the headers off.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        port: int = 0,
        rate_limit: Union[bool, Mapping[str, int]] = True,
    ) -> None:
        self._api_key = api_key
        self._port = port
        self._rate_limit = rate_limit
        self._server: Optional[EmulatorServer] = None
        self._pid = os.getpid()

    def start(self) -> Emulator:
        """Starts the server (``with Emulator() as emulator`` does it for you)."""
        if self._server is None:
            self._server = EmulatorServer(self._api_key, self._port, self._rate_limit)
            self._pid = os.getpid()
            _started.add(self)
        return self

    def stop(self) -> None:
        """Stops the server; waits (up to 5 s) for requests in flight. In a forked child it
        only lets go of the parent's server, which runs on."""
        if self._server is not None:
            self._server.stop()
            self._server = None
            _started.discard(self)

    @property
    def base_url(self) -> str:
        """The URL to give the client, e.g. ``http://127.0.0.1:40123``."""
        return self._running().url

    @property
    def api_key(self) -> str:
        """The key the emulator accepts."""
        return self._running().api_key

    def client(self, **settings: Any) -> VectorcacheClient:
        """A sync client for this emulator; ``settings`` as for ``VectorcacheClient``."""
        return VectorcacheClient(self.api_key, base_url=self.base_url, **settings)

    def async_client(self, **settings: Any) -> AsyncVectorcacheClient:
        """An asyncio client for this emulator."""
        return AsyncVectorcacheClient(self.api_key, base_url=self.base_url, **settings)

    def add_fault(self, **fault: Any) -> None:
        """Queues a fault for the next query: ``status``, ``body`` (text or JSON, at most
        64 MiB), ``headers``, ``delay_ms`` (whole milliseconds, at most 300,000),
        ``drop_connection``, and ``count`` to repeat it.

        Without a ``body`` the answer is the service's own for the status (its documented
        ``detail``; a 429 also its ``X-RateLimit-*`` headers and ``Retry-After: 1``);
        ``body=None`` or ``""`` sends an empty one.

        Raises:
            ValueError: the emulator refused the fault (its message says why).
            TypeError: a value JSON has no form for (a ``set``, an object).
        """
        try:
            text = json.dumps(fault, allow_nan=False)
        except ValueError:
            raise ValueError(f"{_REFUSED}{_why_not_json(fault)}") from None
        except TypeError as unwritable:  # e.g. a set: JSON has no such thing
            raise TypeError(f"{_REFUSED}it cannot be written as JSON ({unwritable})") from None
        if self._in_forked_child():
            self._over_http("POST", "/_emulator/faults", text)
        else:
            self._running().add_fault(text)

    def requests(self) -> list[dict[str, Any]]:
        """The queries it received, oldest first (the last 1,000; ``Authorization`` redacted)."""
        if self._in_forked_child():
            text = self._over_http("GET", "/_emulator/requests")
        else:
            text = self._running().requests()
        log: list[dict[str, Any]] = json.loads(text)
        return log

    def reset(self) -> None:
        """Forgets the cache, the queued faults, the request log and the rate-limit buckets
        (full again)."""
        if self._in_forked_child():
            self._over_http("POST", "/_emulator/reset", "{}")
        else:
            self._running().reset()

    def _running(self) -> EmulatorServer:
        if self._server is None:
            raise RuntimeError("the emulator is not running: use `with Emulator() as emulator`")
        return self._server

    def _in_forked_child(self) -> bool:
        # The server runs in the process that started it: a forked child's copy of its state
        # is not what that server serves, so the child asks the server itself.
        self._running()
        return os.getpid() != self._pid

    def _over_http(self, method: str, route: str, body: Optional[str] = None) -> str:
        """An admin route of the parent's server, from a forked child. Loopback, so never
        through a proxy the environment names (``urllib`` would use ``HTTP_PROXY`` for it)."""
        request = urllib.request.Request(
            self.base_url + route, method=method, data=None if body is None else body.encode(),
            headers={"Content-Type": "application/json"})
        try:
            with _DIRECT.open(request, timeout=10) as answer:
                return str(answer.read().decode())
        except urllib.error.HTTPError as refused:
            if refused.code not in (400, 413):  # 413: bigger than any fault it could make
                raise
            detail = json.loads(refused.read()).get("detail")
            raise ValueError(f"{_REFUSED}{detail}") from None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"base_url={self._server.url!r}" if self._server else "stopped"
        return f"Emulator({state})"


try:
    import pytest
except ImportError:  # pytest is optional: the fixture exists only where pytest does.
    pass
else:

    @pytest.fixture
    def vectorcache_emulator() -> Iterator[Emulator]:
        """A fresh in-process emulator for one test."""
        with Emulator() as emulator:
            yield emulator
