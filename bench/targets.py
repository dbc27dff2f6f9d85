"""What is measured: the mock itself, llm-gateway with and without its dashboard, LiteLLM, nginx.

Each target but ``direct`` is a server started fresh for every round, pinned to the
gateway CPU, and stopped after it; so an idle target never competes for that CPU with the
one being measured, and every round pays its own warm-up. llm-gateway runs as shipped
(an access line per request) and, beside it, with ``--log-level warning``: the difference
is what the access log costs. The dashboard is measured with the whole gateway on that
CPU (the worst case: the supervisor draws on the worker's CPU), with and without the
access log, and with only the workers there and the supervisor on the load CPU, as on a
machine with a core to spare. nginx is the floor: a proxy hop written in C.

The access log's cost is finer than the rounds can tell, so each default-configuration
target is also measured running at once with its quiet twin (:data:`ACCESS_LOGS`, see
:mod:`bench.side_by_side`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from bench import litellm_proxy, nginx
from bench.litellm_proxy import UPSTREAM_KEY
from bench.paths import MODELS, Api
from bench.servers import (
    Server,
    pin_children,
    pinned,
    start_in_tmux,
    start_process,
    wait_for_full_screen,
)

DIRECT_KEY, GATEWAY_KEY, LITELLM_KEY, NGINX_KEY = "direct", "gateway", "litellm", "nginx"
GATEWAY_QUIET_KEY = "gateway-quiet"
DASHBOARD_KEY, DASHBOARD_QUIET_KEY = "dashboard", "dashboard-quiet"
DASHBOARD_SPREAD_KEY = "dashboard-spread"
QUIET = ("--log-level", "warning")
GATEWAY_CONFIG = "gateway.toml"
LITELLM_CONFIG = "litellm.yaml"


@dataclass(frozen=True)
class Launch:
    """Everything a target needs to start one round's server."""

    run_dir: Path
    cpu: int | None
    load_cpu: int | None
    """The mock's and wrk's CPU, where the spread dashboard's supervisor runs."""
    round: int
    part: str = ""
    """What the server is started for, when not a round (its log's name says so)."""

    def log_path(self, key: str) -> Path:
        return self.run_dir / "logs" / f"{key}-{self.part or f'round{self.round + 1}'}.log"


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    start: Callable[[Launch], Server] | None
    """Starts the server; ``None`` for the mock itself, which is already running."""
    translates: bool = True
    """Whether it serves the translated paths; the mock and nginx only pass through."""


def write_configs(run_dir: Path, mock_url: str) -> None:
    """Route the benchmark models to the mock, in llm-gateway's, LiteLLM's and nginx's configs."""
    write_gateway_config(run_dir / GATEWAY_CONFIG, mock_url)
    litellm_proxy.write_config(run_dir / LITELLM_CONFIG, mock_url)
    nginx.write_config(run_dir, mock_url)


def write_gateway_config(path: Path, mock_url: str, apis: Collection[Api] = tuple(MODELS)) -> None:
    """The routes to the mock of the benchmark models of ``apis`` (by default all)."""
    # The Responses model is an OpenAI route that passes Responses requests through.
    entries: tuple[tuple[Api, str, str, str], ...] = (
        ("openai", "openai", f"{mock_url}/v1", ""),
        ("anthropic", "anthropic", mock_url, ""),
        ("responses", "openai", f"{mock_url}/v1", 'responses = "pass-through"\n'),
    )
    path.write_text(
        "".join(
            f'[[models]]\nname = "{MODELS[api]}"\nprovider = "{provider}"\n'
            f'model = "{MODELS[api]}"\nbase_url = "{base_url}"\napi_key = "{UPSTREAM_KEY}"\n'
            f"{extra}\n"
            for api, provider, base_url, extra in entries
            if api in apis
        ),
        encoding="utf-8",
    )


def _gateway_argv(launch: Launch, cpu: int | None, *extra: str) -> list[str]:
    config = str(launch.run_dir / GATEWAY_CONFIG)
    serve = ["-m", "llm_gateway", "serve", "--config", config, "--host", "127.0.0.1"]
    return pinned(cpu, [sys.executable, *serve, "--port", "0", *extra])


def _gateway(key: str, *extra: str) -> Callable[[Launch], Server]:
    def start(launch: Launch) -> Server:
        argv = _gateway_argv(launch, launch.cpu, *extra)
        return start_process(key, argv, env=os.environ, log_path=launch.log_path(key))

    return start


def _dashboard(key: str, *extra: str) -> Callable[[Launch], Server]:
    def start(launch: Launch) -> Server:
        argv = _gateway_argv(launch, launch.cpu, "--dashboard", *extra)
        return start_in_tmux(key, argv, env=os.environ, log_path=launch.log_path(key))

    return start


def _start_dashboard_spread(launch: Launch) -> Server:
    """The supervisor (and so the dashboard) on the load CPU, its workers on the server's.

    The workers start as the supervisor's children, on its CPU, and are moved once the
    dashboard is drawn, after the supervisor printed ``listening on``: by then every one
    of them serves.
    """
    argv = _gateway_argv(launch, launch.load_cpu, "--dashboard")
    log_path = launch.log_path(DASHBOARD_SPREAD_KEY)
    server = start_in_tmux(DASHBOARD_SPREAD_KEY, argv, env=os.environ, log_path=log_path)
    try:
        wait_for_full_screen(server)
        if launch.cpu is not None:
            pin_children(server, launch.cpu)
    except BaseException:
        server.stop()
        raise
    return server


def _start_litellm(launch: Launch) -> Server:
    argv = pinned(launch.cpu, litellm_proxy.command(launch.run_dir / LITELLM_CONFIG))
    log_path = launch.log_path(LITELLM_KEY)
    return start_process(LITELLM_KEY, argv, env=litellm_proxy.environment(), log_path=log_path)


def _start_nginx(launch: Launch) -> Server:
    argv = pinned(launch.cpu, nginx.command(launch.run_dir))
    log_path = launch.log_path(NGINX_KEY)
    return start_process(NGINX_KEY, argv, env=os.environ, log_path=log_path)


DIRECT = Target(DIRECT_KEY, "direct to mock", None, translates=False)
TARGETS = (
    DIRECT,
    Target(GATEWAY_KEY, "llm-gateway", _gateway(GATEWAY_KEY)),
    Target(
        GATEWAY_QUIET_KEY, "llm-gateway --log-level warning", _gateway(GATEWAY_QUIET_KEY, *QUIET)
    ),
    Target(DASHBOARD_KEY, "llm-gateway --dashboard", _dashboard(DASHBOARD_KEY)),
    Target(
        DASHBOARD_QUIET_KEY,
        "llm-gateway --dashboard --log-level warning",
        _dashboard(DASHBOARD_QUIET_KEY, *QUIET),
    ),
    Target(
        DASHBOARD_SPREAD_KEY,
        "llm-gateway --dashboard, supervisor off the serving CPU",
        _start_dashboard_spread,
    ),
    Target(LITELLM_KEY, f"LiteLLM {litellm_proxy.VERSION}", _start_litellm),
    Target(NGINX_KEY, "nginx", _start_nginx, translates=False),
)
TARGETS_BY_KEY = {target.key: target for target in TARGETS}
ACCESS_LOGS = {GATEWAY_KEY: GATEWAY_QUIET_KEY, DASHBOARD_KEY: DASHBOARD_QUIET_KEY}
"""Each default-configuration target, and the same without the access log."""
