"""The command line as a user meets it."""

from __future__ import annotations

import resource
import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from llm_gateway import __version__
from tests.processes import gateway_command, running


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(gateway_command(*args), capture_output=True, text=True, timeout=30)


def test_version_and_help() -> None:
    assert run("--version").stdout.strip() == f"llm-gateway {__version__}"
    for command in ([], ["serve"], ["sim"]):
        result = run(*command, "--help")
        assert result.returncode == 0
        assert "usage: llm-gateway" in result.stdout


def test_config_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[models]]\nname = "a"\nprovider = "bedrock"\n')
    result = run("serve", "--config", str(config), "--port", "0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(config) in lines[0]
    assert "models[0] ('a')" in lines[0]
    assert "'provider'" in lines[0]


def test_a_key_entry_error_names_the_entry_not_the_key(tmp_path: Path) -> None:
    config = tmp_path / "keys.toml"
    config.write_text(
        '[[keys]]\nlabel = "alice"\nkey = "sk-alice-secret"\n'
        '[[keys]]\nlabel = "bob"\nkey = "sk-alice-secret"\n'
        '[[models]]\nname = "a"\nprovider = "sim"\n'
    )
    result = run("serve", "--config", str(config), "--port", "0")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(config) in line
    assert "keys[1] ('bob'): field 'key' is the same key as keys[0] ('alice')" in line
    assert "sk-alice-secret" not in result.stdout + result.stderr


def test_config_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "env.toml"
    config.write_text('[[models]]\nname = "only-this"\nprovider = "sim"\n')
    with running(["serve", "--port", "0"], env={"LLM_GATEWAY_CONFIG": str(config)}) as gateway:
        models = httpx.get(gateway.base_url + "/v1/models", timeout=10).json()
        assert [m["id"] for m in models["data"]] == ["only-this"]


def test_zero_config_answers_at_once() -> None:
    with running(["serve", "--port", "0"]) as gateway:
        assert httpx.get(gateway.base_url + "/health", timeout=10).json() == {"status": "ok"}
        response = httpx.post(
            gateway.base_url + "/v1/chat/completions",
            json={"model": "anything", "messages": [{"role": "user", "content": "hi"}]},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.json()["choices"][0]["message"]["content"]


def test_sighup_stops_gracefully_and_lets_a_stream_finish() -> None:
    """What a closed ssh session or terminal sends: a graceful stop, like SIGTERM."""
    body = {
        "model": "sim+tokens=10+tps=10",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    with (
        running(["serve", "--port", "0"]) as gateway,
        httpx.stream(
            "POST", gateway.base_url + "/v1/chat/completions", json=body, timeout=20
        ) as response,
    ):
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")
        gateway.process.send_signal(signal.SIGHUP)
        rest = list(lines)
        assert gateway.process.wait(20) == 0
    assert "data: [DONE]" in rest
    assert sum(line.startswith("data: {") for line in rest) == 10 + 1  # tokens, then the stop
    assert any("stopped" in line for line in gateway.output)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["serve", "--port", "70000"], "argument --port: must be 0 to 65535, not 70000"),
        (["serve", "--port", "eighty"], "argument --port: not a whole number: eighty"),
        (["serve", "--workers", "0"], "argument --workers: must be at least 1, not 0"),
        (["serve", "--workers", "1.5"], "argument --workers: not a whole number: 1.5"),
        (["serve", "--grace-period", "soon"], "argument --grace-period: must be a number"),
        (["serve", "--grace-period", "nan"], "argument --grace-period: must be a number"),
        (["serve", "--restart-stalled-after", "0"], "must be at least 1 second, not 0"),
        (["serve", "--viewer-buffer", "1K"], "argument --viewer-buffer: must be at least 4K"),
        (["top", "--port", "-1"], "argument --port: must be 0 to 65535, not -1"),
        (["sim", "--port", "65536"], "argument --port: must be 0 to 65535, not 65536"),
    ],
)
def test_a_bad_flag_value_is_one_line_and_exit_2(args: list[str], said: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"llm-gateway {args[0]}: ")
    assert said in line
    assert line.endswith(f"(see llm-gateway {args[0]} --help)")


def test_the_simulator_on_a_port_in_use_says_so_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("sim", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"llm-gateway: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_a_connection_cap_above_the_open_files_limit_is_said_at_start_up() -> None:
    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    process = subprocess.Popen(
        gateway_command("serve", "--port", "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        preexec_fn=low_limit,
    )
    assert process.stdout is not None
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "listening on" in line:
                break
        warning = next((line for line in lines if "max_connections (4,096" in line), "")
        assert "open-files limit (1,024)" in warning, "".join(lines)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
        process.stdout.close()
