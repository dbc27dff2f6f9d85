"""One request's bookkeeping, from arrival to its last byte: metrics and the access log.

An :class:`Exchange` calls ``metrics.request_started()`` when it is made and
``metrics.request_finished()`` exactly once, however the request ends. Status 499 (as
nginx spells it) marks a client that went away before the answer was complete. The
:class:`~llm_gateway.metrics.record.RequestRecord` it finishes with is also the access
log's entry: the worker ships it and the supervisor writes the line, so the request path
builds no log record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from llm_gateway.errors import ErrorType, GatewayError
from llm_gateway.metrics.record import MetricsSink, RequestRecord
from llm_gateway.providers.base import ReplyMeta
from llm_gateway.untrusted import clip

CLIENT_CLOSED = 499

error_log = logging.getLogger("llm_gateway.errors")


class Exchange:
    __slots__ = (
        "_clock",
        "_done",
        "_metrics",
        "error",
        "input_tokens",
        "meta",
        "method",
        "model",
        "output_tokens",
        "path",
        "started",
    )

    def __init__(
        self, metrics: MetricsSink, clock: Callable[[], float], method: str, path: str
    ) -> None:
        self._metrics = metrics
        self._clock = clock
        self._done = False
        self.method = method
        self.path = path
        self.model = "-"
        self.input_tokens = 0
        self.output_tokens = 0
        self.meta: ReplyMeta | None = None
        self.error: GatewayError | None = None
        self.started = clock()
        metrics.request_started()

    def set_usage(self, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens

    def finish(self, status: int) -> None:
        """Record the outcome; later calls are ignored, so every exit path may call it."""
        if self._done:
            return
        self._done = True
        latency = self._clock() - self.started
        # The name is client input: bounded before it is logged and shipped as a metric.
        self.model = clip(self.model)
        error_type: ErrorType | None = self.error.error_type if self.error is not None else None
        meta = self.meta
        self._metrics.request_finished(
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
            )
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
