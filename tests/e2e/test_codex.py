"""Codex CLI, the real one, through the gateway: an ``exec_command`` round trip on every kind.

``make tools`` installs the pinned Codex into ``.tools/``. Codex runs as ``codex exec --json``
with a custom provider (``wire_api = "responses"``) pointed at a gateway whose routes reach
the in-process simulator, and ``llm-gateway sim`` as an OpenAI upstream (translated to Chat
Completions, and passed through to its own ``/v1/responses``) and as an Anthropic upstream.
With ``+tool`` the simulator calls Codex's first tool, ``exec_command``; Codex runs the
command, sends its output back, and the simulator answers that in words.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import RunningServer, running

CODEX = Path(__file__).parents[2] / ".tools" / "node_modules" / ".bin" / "codex"
KEY = "sk-codex-test"
MODELS = {"sim": "local-m", "openai": "oa-m", "pass-through": "pt-m", "anthropic": "an-m"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running(["sim", "--host", "127.0.0.1", "--port", "0"]) as sim:
        config = tmp_path_factory.mktemp("codex") / "gateway.toml"
        config.write_text(
            f"""
api_keys = ["{KEY}"]

[[models]]
name = "oa-*"
provider = "openai"
base_url = "{sim.base_url}/v1"

[[models]]
name = "pt-*"
provider = "openai"
base_url = "{sim.base_url}/v1"
responses = "pass-through"

[[models]]
name = "an-*"
provider = "anthropic"
base_url = "{sim.base_url}"

[[models]]
name = "local-*"
provider = "sim"
"""
        )
        with running(["serve", "--config", str(config), "--port", "0"]) as server:
            yield server


def codex_exec(gateway: RunningServer, model: str, folder: Path) -> list[dict[str, Any]]:
    """Run ``codex exec --json`` on a prompt; its JSON events, once it has exited 0."""
    assert CODEX.exists(), f"{CODEX} is missing: run `make tools`"
    provider = (
        '{name="llm-gateway", wire_api="responses", env_key="LLM_GATEWAY_KEY", '
        f'base_url="{gateway.base_url}/v1", request_max_retries=0, stream_max_retries=0}}'
    )
    home = folder / "codex-home"
    home.mkdir()
    result = subprocess.run(
        [
            str(CODEX),
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--strict-config",
            # Nothing leaves the machine: no usage analytics, no update check.
            "-c",
            "analytics.enabled=false",
            "-c",
            "check_for_update_on_startup=false",
            "-c",
            "model_provider=llm-gateway",
            "-c",
            f"model_providers.llm-gateway={provider}",
            "-m",
            model,
            "List the files here.",
        ],
        cwd=folder,
        env={**os.environ, "CODEX_HOME": str(home), "LLM_GATEWAY_KEY": KEY},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("kind", MODELS)
def test_codex_runs_a_command_and_answers(
    gateway: RunningServer, tmp_path: Path, kind: str
) -> None:
    events = codex_exec(gateway, MODELS[kind] + "+tool", tmp_path)
    items = [event["item"] for event in events if event["type"] == "item.completed"]
    commands = [item for item in items if item["type"] == "command_execution"]
    assert len(commands) == 1
    # The simulator's made-up command line; the shell's answer went back to the model.
    assert commands[0]["command"].endswith("sample")
    assert "sample" in commands[0]["aggregated_output"]
    answers = [item for item in items if item["type"] == "agent_message"]
    assert len(answers) == 1 and answers[0]["text"]
    assert items[-1] == answers[0]
    (done,) = [event for event in events if event["type"] == "turn.completed"]
    assert done["usage"]["input_tokens"] > 0 and done["usage"]["output_tokens"] > 0
    # Two requests: the one that called the tool, and the one that carried its output.
    assert access_lines(gateway, f"POST /v1/responses model={MODELS[kind]}+tool status=200", 2)


def access_lines(gateway: RunningServer, needle: str, count: int) -> bool:
    """Whether ``count`` log lines with ``needle`` arrive (the supervisor ships logs in batches)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if sum(needle in line for line in gateway.output) >= count:
            return True
        time.sleep(0.02)
    return False
