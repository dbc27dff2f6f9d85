"""A consistent, immutable view of the metrics at one instant: what the dashboard draws.

The aggregator builds one :class:`Snapshot` per refresh (every 250 ms). Everything in it
is plain data (numbers, strings, tuples), so a renderer can read it at leisure while the
aggregator goes on with the next interval, and tests can build one by hand.

Units: seconds for durations, bytes for memory, percent (0-100 of one core, so a busy
two-core machine reads 200) for CPU, events per second for rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from llm_gateway.apis import Api
from llm_gateway.config import ConnectionLimits
from llm_gateway.errors import ErrorType


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Latency percentiles in seconds; ``None`` when there was no request to measure."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


@dataclass(frozen=True, slots=True)
class ModelStats:
    model: str
    requests: int
    errors: int
    latency: Percentiles
    input_tokens: int
    output_tokens: int
    share: float
    """This model's fraction (0-1) of all requests."""
    tokens_estimated: bool = False
    """True when some of these tokens are estimates (an upstream that reports none)."""
    credits: float | None = None
    """Upstream credits billed (Kiro), never mixed with tokens."""


@dataclass(frozen=True, slots=True)
class ClientStats:
    """One client (the label of its key, see :mod:`llm_gateway.auth`), since start."""

    label: str
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    share: float
    """This client's fraction (0-1) of all requests."""
    p50: float | None = None
    """Median latency in seconds; ``None`` before its first request."""


@dataclass(frozen=True, slots=True)
class Credits:
    """A Kiro account's credits, as its usage API last reported them."""

    used: float
    limit: float
    resets_at: float | None = None
    """When the credits reset, in wall-clock seconds since the epoch, if known."""
    plan: str = ""


@dataclass(frozen=True, slots=True)
class UpstreamStats:
    """One upstream as the dashboard shows it: attempts since start, and its state now."""

    model: str
    label: str
    provider: str
    attempts: int = 0
    errors: int = 0
    p50_s: float | None = None
    in_flight: int = 0
    rest: str = ""
    """Why it rests in the worker where it rests longest; ``""`` while it serves."""
    rest_s: float = 0.0
    """Seconds until that rest ends."""
    resting_in: int = 0
    """In how many worker processes it rests."""
    workers: int = 0
    reads_credits: bool = False
    credits: Credits | None = None


@dataclass(frozen=True, slots=True)
class Connections:
    """Client connections across the workers, and the limits each worker holds them to."""

    open: int = 0
    closed_slow: int = 0
    """Closed since start for sending headers or a body too slowly."""
    refused: int = 0
    """Refused since start at a worker's connection cap."""
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)


@dataclass(frozen=True, slots=True)
class Resources:
    gateway_cpu_percent: float = 0.0
    gateway_memory_bytes: int = 0
    system_cpu_percent: float = 0.0
    system_memory_used_bytes: int = 0
    system_memory_total_bytes: int = 0
    """The cgroup limit where one applies, else the machine's memory."""
    cpu_count: int = 1


InFlightState = Literal["waiting", "receiving", "streaming"]
"""``waiting`` for the upstream (before its response headers, including for a free upstream
connection); once they came, ``streaming`` while a stream's events flow to the client, or
``receiving`` while a whole (non-streamed) answer is read, to be sent in one piece."""


@dataclass(frozen=True, slots=True)
class InFlightRequest:
    """One request not yet finished, as the in-flight panel lists it."""

    age_s: float
    """Seconds since it arrived."""
    api: Api
    model: str
    """As the client named it (cut to a bounded length); ``-`` before its body was read."""
    client: str
    """The label of the client's key."""
    upstream: str
    """The label of the upstream it is on; ``""`` before its first attempt."""
    state: InFlightState
    output_tokens: int
    """An estimate, while it streams: the content events relayed so far (about a token each,
    the upstream's own count arriving only at the end); 0 for an answer not streamed."""


@dataclass(frozen=True, slots=True)
class Series:
    """History, oldest first, one point per ``step_s`` seconds, at most 15 minutes.

    A point with no requests has latency ``None``; charts draw it as a gap.
    """

    step_s: float = 1.0
    requests_per_s: tuple[float, ...] = ()
    errors_per_s: tuple[float, ...] = ()
    active_connections: tuple[int, ...] = ()
    p50_s: tuple[float | None, ...] = ()
    p95_s: tuple[float | None, ...] = ()
    p99_s: tuple[float | None, ...] = ()
    tokens_per_s: tuple[float, ...] = ()
    gateway_cpu_percent: tuple[float, ...] = ()
    gateway_memory_bytes: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    uptime_s: float = 0.0
    workers: int = 0
    stalled_workers: tuple[int, ...] = ()
    """Workers that have sent no report for seconds (stopped or hung)."""
    active_connections: int = 0
    """Requests in flight across the workers (not client connections: an idle keep-alive
    connection is not counted)."""
    waiting_for_upstream: int = 0
    """Requests waiting for an upstream connection: each worker's are all in use
    (``max_upstream_connections``)."""

    requests_total: int = 0
    request_rate: float = 0.0
    """Requests per second over the recent window."""

    errors_total: int = 0
    client_closed_total: int = 0
    """Requests whose client went away before the answer was complete (not errors)."""
    errors_by_type: dict[ErrorType, int] = field(default_factory=dict)
    error_rate_by_type: dict[ErrorType, float] = field(default_factory=dict)
    """Errors per second over the recent window, by type."""
    error_share_by_type: dict[ErrorType, float] = field(default_factory=dict)
    """Fraction (0-1) of the window's requests that failed, by type."""

    latency: Percentiles = Percentiles()
    """Over the sliding window (default the last 60 s)."""
    latency_window_s: float = 60.0

    input_tokens_total: int = 0
    output_tokens_total: int = 0
    tokens_per_s: float = 0.0
    last_input_tokens: int = 0
    last_output_tokens: int = 0
    avg_input_tokens: float = 0.0
    avg_output_tokens: float = 0.0
    tokens_estimated: bool = False
    credits_total: float | None = None

    models: tuple[ModelStats, ...] = ()
    """Per model name, busiest first (most requests; ties by name)."""
    models_capped: bool = False
    """More distinct model names came than are kept apart: the rest share one row."""
    upstreams: tuple[UpstreamStats, ...] = ()
    """Every pool's upstreams, counted per attempt (see :mod:`.upstreams`)."""
    clients: tuple[ClientStats, ...] = ()
    """Per client label, busiest first (most requests; ties by label)."""
    connections: Connections = Connections()
    resources: Resources = Resources()
    series: Series = Series()
    in_flight: tuple[InFlightRequest, ...] = ()
    """The oldest requests in flight across the workers, oldest first, at most
    :data:`~llm_gateway.metrics.inflight.MAX_LISTED`; ``active_connections`` counts them
    all."""


@dataclass(slots=True)
class LogLine:
    """One log record as shipped from a worker: plain text, never markup.

    Not frozen, though nothing changes one once made: a view reads one back from each
    access line it shows (see :mod:`.log_text`), and a frozen dataclass takes several
    times as long to make.
    """

    time: float
    """Wall-clock seconds since the epoch."""
    level: int
    """A :mod:`logging` level number."""
    logger: str
    message: str
    worker: int = 0
