"""What is measured: the mock itself, llm-gateway with and without its dashboard, LiteLLM.

Each target but ``direct`` is a server started fresh for every round, pinned to the
gateway CPU, and stopped after it; so an idle target never competes for that CPU with the
one being measured, and every round pays its own warm-up.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import litellm_proxy
from bench.litellm_proxy import UPSTREAM_KEY
from bench.paths import MODELS, Api
from bench.servers import Server, pinned, start_in_tmux, start_process

DIRECT_KEY, GATEWAY_KEY, DASHBOARD_KEY, LITELLM_KEY = "direct", "gateway", "dashboard", "litellm"
GATEWAY_CONFIG = "gateway.toml"
LITELLM_CONFIG = "litellm.yaml"


@dataclass(frozen=True)
class Launch:
    """Everything a target needs to start one round's server."""

    run_dir: Path
    cpu: int | None
    round: int

    def log_path(self, key: str) -> Path:
        return self.run_dir / "logs" / f"{key}-round{self.round + 1}.log"


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    start: Callable[[Launch], Server] | None
    """Starts the server; ``None`` for the mock itself, which is already running."""


def write_configs(run_dir: Path, mock_url: str) -> None:
    """Route both benchmark models to the mock, in llm-gateway's and LiteLLM's configs."""
    write_gateway_config(run_dir / GATEWAY_CONFIG, mock_url)
    litellm_proxy.write_config(run_dir / LITELLM_CONFIG, mock_url)


def write_gateway_config(path: Path, mock_url: str) -> None:
    entries: tuple[tuple[Api, str], ...] = (
        ("openai", f"{mock_url}/v1"),
        ("anthropic", mock_url),
    )
    path.write_text(
        "".join(
            f'[[models]]\nname = "{MODELS[api]}"\nprovider = "{api}"\n'
            f'model = "{MODELS[api]}"\nbase_url = "{base_url}"\napi_key = "{UPSTREAM_KEY}"\n\n'
            for api, base_url in entries
        ),
        encoding="utf-8",
    )


def _gateway_argv(launch: Launch, *extra: str) -> list[str]:
    config = str(launch.run_dir / GATEWAY_CONFIG)
    serve = ["-m", "llm_gateway", "serve", "--config", config, "--host", "127.0.0.1"]
    # LiteLLM runs without an access log, so llm-gateway does too.
    quiet = ["--port", "0", "--log-level", "warning"]
    return pinned(launch.cpu, [sys.executable, *serve, *quiet, *extra])


def _start_gateway(launch: Launch) -> Server:
    argv = _gateway_argv(launch)
    log_path = launch.log_path(GATEWAY_KEY)
    return start_process(GATEWAY_KEY, argv, env=os.environ, log_path=log_path)


def _start_dashboard(launch: Launch) -> Server:
    argv = _gateway_argv(launch, "--dashboard")
    log_path = launch.log_path(DASHBOARD_KEY)
    return start_in_tmux(DASHBOARD_KEY, argv, env=os.environ, log_path=log_path)


def _start_litellm(launch: Launch) -> Server:
    argv = pinned(launch.cpu, litellm_proxy.command(launch.run_dir / LITELLM_CONFIG))
    log_path = launch.log_path(LITELLM_KEY)
    return start_process(LITELLM_KEY, argv, env=litellm_proxy.environment(), log_path=log_path)


DIRECT = Target(DIRECT_KEY, "direct to mock", None)
TARGETS = (
    DIRECT,
    Target(GATEWAY_KEY, "llm-gateway", _start_gateway),
    Target(DASHBOARD_KEY, "llm-gateway --dashboard", _start_dashboard),
    Target(LITELLM_KEY, f"LiteLLM {litellm_proxy.VERSION}", _start_litellm),
)
TARGETS_BY_KEY = {target.key: target for target in TARGETS}
