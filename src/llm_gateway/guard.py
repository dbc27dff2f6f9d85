"""The HTTP protocol with the limits that keep slow or hostile clients from holding a worker.

uvicorn's httptools protocol closes idle keep-alive connections (``timeout_keep_alive``,
kept at its 5 s) and nothing else (its ``limit_concurrency`` counts tasks as well as
connections and answers in plain text, and ``h11_max_incomplete_event_size`` is for the
h11 protocol only): a client that sends half a request line and then waits, or a body one
byte a minute, or a megabyte of headers, is served as patiently as any other. This
subclass adds what nginx has by default, each counted and configurable
(:class:`~llm_gateway.config.ConnectionLimits`):

- **header timeout**: the request line and headers must arrive within ``header_timeout``
  seconds of the connection opening (or of the request's first byte on a kept-alive one),
  else a 408 and the connection is closed;
- **body timeout**: at most ``body_timeout`` seconds between two pieces of a body, else
  the same;
- **header size**: past ``max_header_bytes`` the request gets a 431 before anything else
  (auth included) looks at it. The bytes are counted as they arrive, so the cost stays
  linear however the headers are cut;
- **connection cap**: past ``max_connections`` open connections, a new one gets a 503;
- **lingering close**: an answer sent before the body was read (a 413, a 401) is followed
  by reading and discarding the rest of the body for up to :data:`LINGER_S` seconds, so a
  client that writes its whole body before reading (python's urllib) gets the answer
  instead of a reset.

Answers given here use the API's error shape (Anthropic's for ``/v1/messages`` paths,
OpenAI's otherwise), as do requests httptools cannot parse (a duplicate
``Content-Length``, say). A slow connection gets a ``408 Request Timeout`` before it is
closed, unless the answer to its request has already begun (nginx only logs its 408: a
client told why can say so, instead of reporting a reset).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Protocol

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from llm_gateway.config import ConnectionLimits
from llm_gateway.errors import GatewayError, anthropic_error_body, openai_error_body

logger = logging.getLogger("llm_gateway.connections")

LINGER_S = 5.0
"""How long an answered connection keeps reading (and dropping) the rest of a request body."""


class ConnectionSink(Protocol):
    """Where the protocol counts what it does (the worker's metrics recorder)."""

    def connection_opened(self) -> None: ...

    def connection_closed(self) -> None: ...

    def closed_for_slowness(self) -> None: ...

    def refused_at_cap(self) -> None: ...


class _HeadersTooLarge(Exception):
    """Raised from a parser callback to stop parsing a request that will get a 431."""


class _AtCap:
    """Whether the workers' connection cap is reached, so it is logged once per episode."""

    def __init__(self) -> None:
        self.reached = False


def protocol_factory(limits: ConnectionLimits, sink: ConnectionSink) -> Any:
    """What to give ``uvicorn.Config(http=...)``: it builds one protocol per connection."""
    return functools.partial(GuardedHttpProtocol, limits=limits, sink=sink, at_cap=_AtCap())


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with the limits described in the module docstring."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: ConnectionLimits,
        sink: ConnectionSink,
        at_cap: _AtCap,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = limits
        self._sink = sink
        self._at_cap = at_cap
        self._deadline: asyncio.TimerHandle | None = None
        self._deadline_at = 0.0
        """When the connection is closed unless it makes progress; timers re-arm lazily."""
        self._reading_headers = True
        self._header_bytes = 0
        self._message_complete = True
        self._lingering = False
        self._close_when_answered = False
        self.url = b""

    # Connection life.

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._sink.connection_opened()
        if len(self.connections) > self._limits.max_connections:
            self._refuse_at_cap()
            return
        if self._at_cap.reached:
            self._at_cap.reached = False
            logger.info(
                "open connections are below the cap of %d again", self._limits.max_connections
            )
        self._wait_at_most(self._limits.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        self._sink.connection_closed()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return
        if self._reading_headers:
            self._header_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # The gateway serves no WebSocket: uvicorn says so in the log.
            self._unsupported_upgrade_warning()
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _HeadersTooLarge):
                self._headers_too_large()
            else:
                self._answer(400, f"Invalid HTTP request: {exc}")
            return
        if self._reading_headers and self._header_bytes > self._limits.max_header_bytes:
            self._headers_too_large()

    # Parser callbacks.

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._message_complete = False
        if self._deadline is None:
            self._wait_at_most(self._limits.header_timeout_s)

    def on_headers_complete(self) -> None:
        size = len(self.url) + sum(len(name) + len(value) for name, value in self.headers)
        if size > self._limits.max_header_bytes:
            raise _HeadersTooLarge
        self._reading_headers = False
        super().on_headers_complete()
        # uvicorn closes at once after answering a client that asked to close (urllib
        # always does), which resets a connection whose body is still coming: we close
        # it ourselves in on_response_complete, after a lingering read if need be.
        self._close_when_answered = not self.cycle.keep_alive
        self.cycle.keep_alive = True
        self._wait_at_most(self._limits.body_timeout_s)

    def on_body(self, body: bytes) -> None:
        self._deadline_at = self.loop.time() + self._limits.body_timeout_s
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._stop_waiting()
        self._message_complete = True
        self._reading_headers = True
        self._header_bytes = 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        if self.transport.is_closing() or (
            self._message_complete and not self._close_when_answered
        ):
            super().on_response_complete()
            return
        self.server_state.total_requests += 1
        if self._message_complete:
            self.transport.close()
        else:
            # Answered before the body was read: take in the rest, then close.
            self._linger()

    # Limits.

    def _wait_at_most(self, seconds: float) -> None:
        self._deadline_at = self.loop.time() + seconds
        if self._deadline is None:
            self._deadline = self.loop.call_at(self._deadline_at, self._check_deadline)

    def _stop_waiting(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _check_deadline(self) -> None:
        self._deadline = None
        if self.loop.time() < self._deadline_at:
            # Progress was made since the timer was set (a body arrives piece by piece).
            self._deadline = self.loop.call_at(self._deadline_at, self._check_deadline)
            return
        if self.transport.is_closing():
            return
        if self._lingering:
            self.transport.close()
            return
        self._sink.closed_for_slowness()
        if self._reading_headers:
            # Unless a pipelined request's answer is still being written.
            if self.cycle is None or self.cycle.response_complete:
                seconds, what = self._limits.header_timeout_s, "request line and headers"
                self._write_error(self._timed_out(f"The {what} did not arrive within", seconds))
        elif not self.cycle.response_started:
            # The request sees its client gone (and is logged as 499); the app can no
            # longer answer it, so the 408 is the only answer written.
            self.cycle.disconnected = True
            seconds = self._limits.body_timeout_s
            self._write_error(self._timed_out("The request body stopped arriving for", seconds))
        self.transport.close()

    def _refuse_at_cap(self) -> None:
        self._sink.refused_at_cap()
        if not self._at_cap.reached:
            self._at_cap.reached = True
            logger.warning(
                "worker at its cap of %d open connections (max_connections):"
                " new connections get a 503 until some close",
                self._limits.max_connections,
            )
        self._answer(503, "The gateway has too many open connections; try again shortly")

    def _headers_too_large(self) -> None:
        self._answer(
            431,
            f"Request headers are larger than the limit of {self._limits.max_header_bytes} bytes",
        )

    def _answer(self, status: int, message: str) -> None:
        """Answer in the API's error shape, then close after a lingering read."""
        self._stop_waiting()
        self._write_error(
            GatewayError("validation" if status < 500 else "internal", status, message)
        )
        self._linger()

    @staticmethod
    def _timed_out(what: str, seconds: float) -> GatewayError:
        return GatewayError("timeout", 408, f"{what} {seconds:g} s; closing the connection")

    def _write_error(self, error: GatewayError) -> None:
        """Write ``error`` as a whole response, in the API's shape, saying the connection closes."""
        path = self.url.split(b"?", 1)[0]
        body = (
            anthropic_error_body(error)
            if path.startswith(b"/v1/messages")
            else openai_error_body(error)
        )
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[error.status],
                    b"content-type: application/json\r\n",
                    b"content-length: %d\r\n" % len(body),
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )

    def _linger(self) -> None:
        """Stop answering, keep reading (and dropping) for :data:`LINGER_S`, then close.

        Closing a socket with unread data sends a reset, which can destroy the answer
        before the client reads it; half-closing first and draining avoids that.
        """
        self._lingering = True
        self._stop_waiting()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()
        self._deadline_at = self.loop.time() + LINGER_S
        self._deadline = self.loop.call_at(self._deadline_at, self._check_deadline)
