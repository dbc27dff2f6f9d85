"""One request's bookkeeping, from arrival to its last byte: metrics and the access log.

An :class:`Exchange` calls ``metrics.request_started(self)`` when it is made and
``metrics.request_finished()`` exactly once, however the request ends. Status 499 (as
nginx spells it) marks a client that went away before the answer was complete. The
:class:`~llm_gateway.metrics.record.RequestRecord` it finishes with is also the access
log's entry: the worker ships it and the supervisor writes the line, so the request path
builds no log record.

It also follows the request's attempts on its pool's upstreams: one is open at a time,
from :meth:`Exchange.attempt` until it fails (:meth:`Exchange.attempt_failed`) or, for the
attempt that answers, until the exchange finishes, so an upstream's in-flight count
covers a stream to its last byte.

While it is open, the metrics may list it among the requests in flight
(:mod:`llm_gateway.metrics.inflight`): they read its fields when they report, so keeping
them current (:attr:`Exchange.state`, :attr:`Exchange.deltas`) is a plain attribute
write, never a call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from llm_gateway.apis import Api
from llm_gateway.auth import UNAUTHENTICATED
from llm_gateway.errors import ErrorType, GatewayError
from llm_gateway.metrics.record import MetricsSink, RequestRecord
from llm_gateway.metrics.snapshot import InFlightState
from llm_gateway.metrics.upstreams import AttemptRecord
from llm_gateway.pools import Upstream
from llm_gateway.providers.base import ReplyMeta
from llm_gateway.untrusted import clip

CLIENT_CLOSED = 499
NO_MODEL = "-"
"""The model of a request that needs none (``GET /v1/models``) and succeeded."""
UNPARSED = "(unparsed)"
"""The model row of a request that failed (or was left) before its model was known."""

error_log = logging.getLogger("llm_gateway.errors")


class Exchange:
    __slots__ = (
        "_attempt_started",
        "_clock",
        "_done",
        "_metrics",
        "_open",
        "api",
        "attempts",
        "client",
        "deltas",
        "error",
        "input_tokens",
        "meta",
        "method",
        "model",
        "output_tokens",
        "path",
        "started",
        "state",
        "upstream",
    )

    def __init__(
        self, metrics: MetricsSink, clock: Callable[[], float], method: str, path: str, api: Api
    ) -> None:
        self._metrics = metrics
        self._clock = clock
        self._done = False
        self.method = method
        self.path = path
        self.api = api
        """The API the client speaks (its endpoint's)."""
        self.state: InFlightState = "waiting"
        """``streaming`` or ``receiving`` once an upstream has answered (its response
        headers came), by whether the client asked for a stream."""
        self.deltas = 0
        """Content events relayed to the client so far (counted by the stream's relay)."""
        self.client = UNAUTHENTICATED
        """The label of the client's key, set by the endpoint once the key is checked
        (:func:`~llm_gateway.frontends.endpoint.run_endpoint`); until then, and for good
        when the key is refused, :data:`~llm_gateway.auth.UNAUTHENTICATED`."""
        self.model = NO_MODEL
        self.input_tokens = 0
        self.output_tokens = 0
        self.meta: ReplyMeta | None = None
        self.error: GatewayError | None = None
        self.upstream: Upstream | None = None
        """The upstream of the latest attempt: the one that answered, if one did."""
        self.attempts = 0
        self._open = False
        self._attempt_started = 0.0
        self.started = clock()
        metrics.request_started(self)

    def attempt(self, upstream: Upstream) -> None:
        """An attempt on ``upstream`` begins."""
        self.upstream = upstream
        self.attempts += 1
        self._open = True
        upstream.in_flight += 1
        self._metrics.attempt_started(upstream.key)
        self._attempt_started = self._clock()

    def attempt_failed(self) -> None:
        """The open attempt failed before answering; the request may try another upstream."""
        self._close_attempt(self._clock(), failed=True)

    def _close_attempt(self, now: float, *, failed: bool) -> None:
        upstream = self.upstream
        if self._open and upstream is not None:
            self._open = False
            upstream.in_flight -= 1
            self._metrics.attempt_finished(
                AttemptRecord(upstream.key, now - self._attempt_started, failed)
            )

    def set_usage(self, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens

    def finish(self, status: int) -> None:
        """Record the outcome; later calls are ignored, so every exit path may call it."""
        if self._done:
            return
        self._done = True
        now = self._clock()
        self._close_attempt(now, failed=self.error is not None)
        latency = now - self.started
        error_type: ErrorType | None = self.error.error_type if self.error is not None else None
        if self.model is NO_MODEL and (error_type is not None or status == CLIENT_CLOSED):
            # Name the row so a person reading the models table knows what it counts.
            self.model = UNAUTHENTICATED if error_type == "auth" else UNPARSED
        # The name is client input: bounded before it is logged and shipped as a metric.
        self.model = clip(self.model)
        meta = self.meta
        self._metrics.request_finished(
            self,
            RequestRecord(
                model=self.model,
                status=status,
                latency_s=latency,
                input_tokens=self.input_tokens,
                output_tokens=self.output_tokens,
                error_type=error_type,
                tokens_estimated=meta.tokens_estimated if meta is not None else False,
                credits=meta.credits if meta is not None else None,
                method=self.method,
                path=self.path,
                finished_at=time.time(),
                upstream=self.upstream.label if self.upstream is not None else "",
                attempts=self.attempts,
                client=self.client,
            ),
        )
        if self.error is not None:
            self._log_error(self.error)

    def _log_error(self, error: GatewayError) -> None:
        level = logging.ERROR if error.error_type == "internal" else logging.WARNING
        error_log.log(
            level,
            "%s %s model=%s failed (%s, %d): %s",
            self.method,
            self.path,
            self.model,
            error.error_type,
            error.status,
            error.message,
        )
