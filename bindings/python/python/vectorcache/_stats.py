"""The usage statistics of a client, read both as attributes and as a mapping."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

__all__ = ["Stats", "LatencyMs"]


class _Record(Mapping[str, Any]):
    """A read-only record: ``record.name`` and ``record["name"]`` are the same value."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_fields", dict(fields))

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __getattr__(self, name: str) -> Any:
        # Private names are never fields; `_fields` itself is missing while pickle builds an
        # instance, and looking it up here again would recurse.
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._fields,))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._fields.items())
        return f"{type(self).__name__}({fields})"

    def to_dict(self) -> dict[str, Any]:
        return {k: v.to_dict() if isinstance(v, _Record) else v for k, v in self._fields.items()}


class LatencyMs(_Record):
    """Latency percentiles in milliseconds, within about 5 % (a fixed-size histogram)."""

    p50: float
    p95: float
    p99: float


class Stats(_Record):
    """A snapshot of a client's usage since it was made or since ``reset_stats()``."""

    #: Calls of ``query`` that finished, successful or not.
    queries: int
    hits: int
    misses: int
    #: ``hits / (hits + misses)``; 0.0 before the first answer.
    hit_rate: float
    #: The ``cost_saved`` of every answer, summed (USD).
    cost_saved: float
    #: Failed calls by error kind (``"rate_limited"``, ``"timeout"``, ...).
    errors: Mapping[str, int]
    #: Retries made (attempts after the first of a call).
    retries: int
    latency_ms: LatencyMs

    def __init__(self, fields: Mapping[str, Any]) -> None:
        values = dict(fields)
        values["errors"] = dict(values.get("errors", {}))
        values["latency_ms"] = LatencyMs(values.get("latency_ms", {}))
        super().__init__(values)
