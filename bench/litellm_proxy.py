"""LiteLLM's proxy as a benchmark target, in a virtual environment of its own.

LiteLLM pins many packages, some incompatible with ours, so it never enters the project's
environment: :func:`ensure_venv` creates ``bench/.litellm-venv`` on first use (about a
minute) and reuses it while it holds the pinned version.

Its config is as lean as LiteLLM allows, so the comparison is fair: no retries, no
callbacks, no database, and the cost map read from the package rather than fetched.
The config is written as JSON, which is valid YAML.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import orjson

from bench.paths import MODELS

VERSION = "1.108.7"
REQUIREMENT = f"litellm[proxy]=={VERSION}"
VENV = Path(__file__).with_name(".litellm-venv")
MASTER_KEY = "sk-bench-master"
UPSTREAM_KEY = "sk-bench"


class SetupFailed(Exception):
    """The LiteLLM environment could not be built; the message names the log."""


def ensure_venv(log_path: Path) -> None:
    """Create the LiteLLM environment unless it already holds :data:`VERSION`."""
    if installed_version() == VERSION:
        return
    print(f"setting up LiteLLM {VERSION} in {VENV} (once; log: {log_path})", flush=True)
    with log_path.open("wb") as log:
        for argv in (
            [_base_python(), "-m", "venv", "--clear", str(VENV)],
            [str(VENV / "bin" / "pip"), "install", "--quiet", REQUIREMENT],
        ):
            if subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
                raise SetupFailed(f"{' '.join(argv)} failed; see {log_path}")
    if installed_version() != VERSION:
        raise SetupFailed(f"LiteLLM {VERSION} is not importable from {VENV}; see {log_path}")


def installed_version() -> str | None:
    python = VENV / "bin" / "python"
    if not python.exists():
        return None
    done = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def _base_python() -> str:
    """The interpreter our own venv was made from: a venv made from a venv can misbehave."""
    return getattr(sys, "_base_executable", sys.executable)


def write_config(path: Path, mock_url: str) -> None:
    config = {
        "model_list": [
            {
                "model_name": MODELS["openai"],
                "litellm_params": {
                    "model": f"openai/{MODELS['openai']}",
                    "api_base": f"{mock_url}/v1",
                    "api_key": UPSTREAM_KEY,
                },
            },
            {
                # LiteLLM sends a Responses request for an OpenAI model to its /responses.
                "model_name": MODELS["responses"],
                "litellm_params": {
                    "model": f"openai/{MODELS['responses']}",
                    "api_base": f"{mock_url}/v1",
                    "api_key": UPSTREAM_KEY,
                },
            },
            {
                "model_name": MODELS["anthropic"],
                "litellm_params": {
                    "model": f"anthropic/{MODELS['anthropic']}",
                    "api_base": mock_url,
                    "api_key": UPSTREAM_KEY,
                },
            },
        ],
        "litellm_settings": {
            "num_retries": 0,
            "callbacks": [],
            "success_callback": [],
            "failure_callback": [],
            "telemetry": False,
        },
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
    }
    path.write_bytes(orjson.dumps(config, option=orjson.OPT_INDENT_2))


def command(config_path: Path) -> Sequence[str]:
    return [
        str(VENV / "bin" / "litellm"),
        "--config", str(config_path),
        "--host", "127.0.0.1",
        "--port", "0",
        "--num_workers", "1",
    ]  # fmt: skip


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "LITELLM_MASTER_KEY": MASTER_KEY,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
    }
