"""Sync queries under gevent: the wait for an answer yields to the hub.

A query runs on the SDK's runtime threads either way. Waiting for its answer on the hub's
own thread would stop every greenlet of that thread meanwhile (a gunicorn or Celery gevent
worker would serve nothing else, and ``gevent.Timeout`` could not fire), so a greenlet of a
running hub waits the gevent way instead: the runtime wakes the hub through an async watcher,
the one object of gevent's that another thread may signal.
"""

from __future__ import annotations

import sys
from typing import Any, Optional


def hub_waiter() -> Optional[_HubWaiter]:
    """A waiter for the calling greenlet, or ``None`` where a blocking wait is right: this
    thread runs no gevent hub, or the caller is the hub itself (which must never wait)."""
    if "gevent" not in sys.modules:
        return None
    # gevent ships no type information (typeshed's types-gevent may be installed, or not).
    try:
        from gevent import getcurrent  # type: ignore[import-untyped, unused-ignore]
        from gevent._hub_local import (  # type: ignore[import-untyped, unused-ignore]
            get_hub_if_exists,
        )
    except ImportError:  # a gevent without them (older than 20.x): wait blocking
        return None
    hub = get_hub_if_exists()
    if hub is None or getcurrent() is hub:
        return None
    return _HubWaiter(hub)


class _HubWaiter:
    """One query's wait. The native side calls ``notify`` once (from a runtime thread) when
    the answer is in, or, if the wait ended first, ``cancel`` instead (never both)."""

    def __init__(self, hub: Any) -> None:
        from gevent.hub import Waiter  # type: ignore[import-untyped, unused-ignore]

        self._waiter = Waiter(hub)
        self._watcher = hub.loop.async_()
        # Started before the query is: a send to a watcher not yet started is lost.
        self._watcher.start(self._arrived)

    def notify(self) -> None:
        """From any thread: wakes the hub, which then runs ``_arrived``."""
        self._watcher.send()

    def wait(self) -> None:
        """Yields to the hub until the answer is in; raises what ends the wait early
        (``gevent.Timeout``, ``GreenletExit`` from ``kill``, ``KeyboardInterrupt``)."""
        self._waiter.get()

    def cancel(self) -> None:
        """The wait ended early and no ``notify`` will come: the watcher goes now."""
        self._close()

    def _arrived(self) -> None:
        # In the hub. A watcher is closed on its loop's thread, never by a runtime thread.
        self._close()
        self._waiter.switch(None)

    def _close(self) -> None:
        self._watcher.stop()
        self._watcher.close()
