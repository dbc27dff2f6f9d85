"""Requests in flight: each worker's open requests, listed oldest first for the dashboard.

The worker's :class:`~llm_gateway.metrics.interval.IntervalRecorder` holds every request
from ``request_started`` to ``request_finished`` in a dict keyed by the request's own
bookkeeping object (the front-end's ``Exchange``, an :class:`OpenRequest` here). Adding
and removing one is a dict store and a delete, whatever the number open; and a dict keeps
the order its keys came in, so it lists the requests oldest first without sorting.

Nothing is copied while a request runs. What the panel shows of it (model, upstream,
state, output so far) is read from that object when the worker reports, four times a
second, and then only for the :data:`MAX_LISTED` oldest: the request path never calls
into the table to update it, and a streamed chunk costs it no more than the counter the
relay keeps anyway (:attr:`OpenRequest.deltas`). Removal sits in ``request_finished``,
which the request path calls exactly once however a request ends (its last byte, an
error, an upstream reset, a client gone), so no exit leaves an entry behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Protocol

from llm_gateway.apis import Api
from llm_gateway.metrics.snapshot import InFlightRequest, InFlightState
from llm_gateway.untrusted import clip

MAX_LISTED = 100
"""The oldest open requests a worker reports, and the supervisor lists across workers.

However many are open, a report stays a few kilobytes; the count of all of them travels
beside the list, for the panel's ``+N more``."""


class Labelled(Protocol):
    @property
    def label(self) -> str: ...


class OpenRequest(Protocol):
    """What the table reads of an open request, when its worker reports."""

    @property
    def started(self) -> float:
        """When it arrived, on the monotonic clock the recorder stamps its reports with."""

    @property
    def api(self) -> Api: ...

    @property
    def model(self) -> str: ...

    @property
    def client(self) -> str: ...

    @property
    def upstream(self) -> Labelled | None:
        """The upstream of its latest attempt; ``None`` before the first."""

    @property
    def state(self) -> InFlightState: ...

    @property
    def deltas(self) -> int:
        """Content events relayed so far: the estimate of its output tokens."""


def listed(requests: Iterable[OpenRequest], now: float) -> tuple[InFlightRequest, ...]:
    """The first :data:`MAX_LISTED` of ``requests`` (the oldest), as they stand at ``now``."""
    return tuple(
        InFlightRequest(
            age_s=now - request.started,
            api=request.api,
            # The name is client input: bounded before it is shipped.
            model=clip(request.model),
            client=request.client,
            upstream=upstream.label if (upstream := request.upstream) is not None else "",
            state=request.state,
            output_tokens=request.deltas,
        )
        for request in islice(requests, MAX_LISTED)
    )
