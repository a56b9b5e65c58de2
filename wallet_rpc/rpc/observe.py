"""What every JSON-RPC call leaves behind for an operator: metrics and an access log line.

The envelope calls `CallObserver.call_finished` once per request it answers
(notifications and invalid requests included) with the method, the request
id, the Origin header, the outcome code (0 for a result) and the duration.
Observers do O(1) work per call and never see params or results, so nothing
of a credential can reach a metric or a log line.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Collection, Iterable
from json.encoder import encode_basestring_ascii
from typing import Any, Protocol, TextIO

OK = 0
# The method label of requests that never named a valid method (-32700, -32600).
INVALID_METHOD = "(invalid)"
# Any other method name a client sends: labels must stay few.
UNKNOWN_METHOD = "(unknown)"
# Log fields that come from the client are cut to this many characters.
_LOG_FIELD_LIMIT = 255
# Seconds; a call that waits for a person in prompt mode can take a minute.
_DURATION_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
)


class CallObserver(Protocol):
    def call_finished(
        self, method: str, request_id: Any, origin: str | None, code: int, seconds: float
    ) -> None: ...


class Observers:
    """Several observers as one."""

    def __init__(self, observers: Iterable[CallObserver]) -> None:
        self._observers = tuple(observers)

    def call_finished(
        self, method: str, request_id: Any, origin: str | None, code: int, seconds: float
    ) -> None:
        for observer in self._observers:
            observer.call_finished(method, request_id, origin, code, seconds)


class CallMetrics:
    """Prometheus metrics of the calls, in a registry of their own (one per server)."""

    def __init__(self, method_names: Collection[str]) -> None:
        # Imported here: a server with [observability] metrics = false never loads it.
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self._known = frozenset(method_names)
        self._requests = Counter(
            "wallet_rpc_requests",
            "JSON-RPC requests answered, by method and outcome (ok or the error code).",
            ["method", "outcome"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "wallet_rpc_request_duration_seconds",
            "Time from a request's validation to its answer, by method.",
            ["method"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.pending_approvals = Gauge(
            "wallet_rpc_pending_approvals",
            "Requests waiting for a person's decision (prompt mode), in the whole database.",
            registry=self.registry,
        )
        self.stored_credentials = Gauge(
            "wallet_rpc_stored_credentials",
            "Credentials in the store.",
            registry=self.registry,
        )
        # labels() takes a lock and builds a key; the children are looked up once.
        self._counters: dict[tuple[str, int], Any] = {}
        self._histograms: dict[str, Any] = {}

    def call_finished(
        self, method: str, request_id: Any, origin: str | None, code: int, seconds: float
    ) -> None:
        label = method if method in self._known or method == INVALID_METHOD else UNKNOWN_METHOD
        counter = self._counters.get((label, code))
        if counter is None:
            outcome = "ok" if code == OK else str(code)
            counter = self._counters[(label, code)] = self._requests.labels(label, outcome)
        counter.inc()
        histogram = self._histograms.get(label)
        if histogram is None:
            histogram = self._histograms[label] = self._duration.labels(label)
        histogram.observe(seconds)


def _json_value(value: Any) -> str:
    """A request id, origin or method as JSON: client text, so cut and ASCII-escaped."""
    if value is None:
        return "null"
    if type(value) is str:
        return encode_basestring_ascii(value[:_LOG_FIELD_LIMIT])
    text = json.dumps(value)  # the envelope lets only numbers through besides
    return text if len(text) <= _LOG_FIELD_LIMIT else "null"


class AccessLog:
    """One JSON line per call on a stream, written once per event-loop turn.

    The lines of one turn go out in one write, so the log costs a formatted
    string per call, not a system call.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lines: list[str] = []
        self._flush_scheduled = False

    def call_finished(
        self, method: str, request_id: Any, origin: str | None, code: int, seconds: float
    ) -> None:
        # Formatted by hand: json.dumps of a dict costs ~4.5 us, this ~1 us.
        line = (
            f'{{"ts":{time.time():.6f},"request_id":{_json_value(request_id)},'
            f'"origin":{_json_value(origin)},"method":{_json_value(method)},'
            f'"code":{code},"duration_ms":{seconds * 1000:.3f}}}'
        )
        self._lines.append(line)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        if not self._lines:
            return
        text = "\n".join(self._lines) + "\n"
        self._lines.clear()
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # a closed or broken stream must not fail requests
            pass


def access_log_stream(destination: str) -> TextIO | None:
    return {"stdout": sys.stdout, "stderr": sys.stderr}.get(destination)
