from __future__ import annotations

from pathlib import Path

import pytest

from llm_gateway.config import (
    DEFAULT_MAX_BODY_BYTES,
    ConfigError,
    ConnectionLimits,
    load_config,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return path


def test_no_file_routes_everything_to_the_simulator() -> None:
    config = load_config(None, environ={})
    assert [(m.name, m.provider) for m in config.models] == [("*", "sim")]
    assert config.api_keys == ()
    assert config.max_body_bytes == DEFAULT_MAX_BODY_BYTES


def test_full_entry(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
api_keys = ["sk-local-1"]
max_body_bytes = 1000
max_upstream_connections = 50
[[models]]
name = "gpt-4o-mini"
provider = "openai"
model = "gpt-4o-mini-2024"
base_url = "http://127.0.0.1:9/v1"
api_key = "env:UPSTREAM_KEY"
connect_timeout = 3
read_timeout = 30.5
""",
    )
    config = load_config(path, environ={"UPSTREAM_KEY": "sk-up", "LLM_GATEWAY_API_KEYS": "a, b"})
    (route,) = config.models
    assert route.api_key == "sk-up"
    assert route.model == "gpt-4o-mini-2024"
    assert route.connect_timeout == 3.0
    assert route.read_timeout == 30.5
    assert config.api_keys == ("sk-local-1", "a", "b")
    assert config.max_body_bytes == 1000
    assert config.max_upstream_connections == 50
    assert config.source == str(path)


def test_defaults_per_provider(tmp_path: Path) -> None:
    path = write(tmp_path, '[[models]]\nname = "claude-*"\nprovider = "anthropic"\n')
    (route,) = load_config(path, environ={}).models
    assert route.base_url == "https://api.anthropic.com"
    assert route.is_prefix
    assert route.matches("claude-sonnet")
    assert not route.matches("gpt-4")
    assert route.upstream_model("claude-sonnet") == "claude-sonnet"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[models]\nname=", "invalid TOML"),
        (
            'colour = "red"\n[[models]]\nname = "a"\nprovider = "sim"\n',
            "unknown field 'colour' at top level",
        ),
        (
            '[[models]]\nname = "a"\nprovider = "bedrock"\n',
            "models[0] ('a'): field 'provider' is 'bedrock'",
        ),
        ('[[models]]\nname = "a"\n', "models[0] ('a'): missing field 'provider'"),
        ('[[models]]\nprovider = "sim"\n', "models[0]: missing field 'name'"),
        (
            '[[models]]\nname = "a"\nprovider = "sim"\ntemprature = 1\n',
            "models[0] ('a'): unknown field 'temprature'",
        ),
        (
            '[[models]]\nname = "a"\nprovider = "sim"\nread_timeout = "soon"\n',
            "field 'read_timeout' must be",
        ),
        (
            '[[models]]\nname = "a"\nprovider = "openai"\napi_key = "env:NOPE"\n',
            "'NOPE', which is not set",
        ),
        ('api_keys = [1]\n[[models]]\nname = "a"\nprovider = "sim"\n', "'api_keys' must be a list"),
        ("", "at least one [[models]] entry"),
        (
            'max_upstream_connections = 0\n[[models]]\nname = "a"\nprovider = "sim"\n',
            "field 'max_upstream_connections' must be a positive integer",
        ),
        (
            '[[models]]\nname = "a"\nprovider = "anthropic"\ndrop_unsupported = "yes"\n',
            "field 'drop_unsupported' must be true or false",
        ),
        (
            '[[models]]\nname = "a"\nprovider = "anthropic"\ndefault_max_tokens = 0\n',
            "field 'default_max_tokens' must be a positive integer",
        ),
        (
            '[[models]]\nname = "p"\nupstreams = []\n',
            "('p'): field 'upstreams' must be a non-empty",
        ),
        (
            '[[models]]\nname = "p"\nstrategy = "random"\n[[models.upstreams]]\nprovider = "sim"\n',
            "('p'): field 'strategy' is 'random'",
        ),
        (
            '[[models]]\nname = "p"\n[[models.upstreams]]\nprovider = "sim"\n'
            '[[models.upstreams]]\nprovider = "sim"\n',
            "('p'): upstreams[1]: duplicate label 'sim'",
        ),
        (
            '[[models]]\nname = "p"\nprovider = "sim"\n[[models.upstreams]]\nprovider = "sim"\n',
            "('p'): field 'provider' cannot be mixed with 'upstreams'",
        ),
        (
            '[[models]]\nname = "p"\n[[models.upstreams]]\nprovider = "sim"\nweight = 0\n',
            "('p'): upstreams[0]: field 'weight' must be a positive integer",
        ),
        (
            '[[models]]\nname = "p"\n[[models.upstreams]]\nprovider = "sim"\nstrategy = "x"\n',
            "('p'): upstreams[0]: unknown field 'strategy'",
        ),
        ('[[models]]\nname = "a"\nprovider = "sim"\nretries = 1\n', "field 'retries' needs"),
        (
            '[[models]]\nname = "p"\n[[models.upstreams]]\nlabel = "a"\nprovider = "kiro"\n'
            '[[models.upstreams]]\nlabel = "b"\nprovider = "kiro"\n',
            "('p'): upstreams[1]: field 'credentials' is the same as another Kiro upstream's",
        ),
        (
            'header_timeout = 0\n[[models]]\nname = "a"\nprovider = "sim"\n',
            "field 'header_timeout' must be a positive number of seconds",
        ),
        (
            'max_connections = 1.5\n[[models]]\nname = "a"\nprovider = "sim"\n',
            "field 'max_connections' must be a positive integer",
        ),
        (
            '[[models]]\nname = "a"\nprovider = "sim"\nmax_response_bytes = "big"\n',
            "field 'max_response_bytes' must be a positive integer",
        ),
    ],
)
def test_errors_name_file_entry_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_translation_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[models]]
name = "claude-*"
provider = "anthropic"
drop_unsupported = true
default_max_tokens = 8192
json_prefill = false
[[models]]
name = "gpt-*"
provider = "openai"
reasoning_model = true
""",
    )
    claude, gpt = load_config(path, environ={}).models
    assert (claude.drop_unsupported, claude.default_max_tokens, claude.json_prefill) == (
        True,
        8192,
        False,
    )
    assert claude.reasoning_model is None
    assert (gpt.reasoning_model, gpt.drop_unsupported, gpt.default_max_tokens) == (True, False, 0)


def test_limits_are_read_and_default_like_nginx(tmp_path: Path) -> None:
    defaults = load_config(None, environ={})
    assert defaults.connections == ConnectionLimits(60.0, 60.0, 32 * 1024, 4096)
    assert defaults.models[0].max_response_bytes == 64 * 1024 * 1024
    path = write(
        tmp_path,
        """
header_timeout = 5
body_timeout = 7.5
max_header_bytes = 8192
max_connections = 100
[[models]]
name = "a"
provider = "sim"
max_response_bytes = 1000
""",
    )
    config = load_config(path, environ={})
    assert config.connections == ConnectionLimits(5.0, 7.5, 8192, 100)
    assert config.models[0].max_response_bytes == 1000


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'api_keys = ["sk-client-secret"]\n[[models]]\nname = "a"\nprovider = "openai"\napi_key = "sk-upstream-secret"\n',
    )
    shown = repr(load_config(path, environ={}))
    assert "sk-client-secret" not in shown
    assert "sk-upstream-secret" not in shown


def test_a_pool_and_its_upstreams(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[models]]
name = "claude-sonnet-4.5"
strategy = "round-robin"
retries = 1
read_timeout = 60

  [[models.upstreams]]
  label = "kiro-work"
  provider = "kiro"
  credentials = "sqlite:/tmp/kiro.sqlite3"
  usage_url = "http://127.0.0.1:9/getUsageLimits"
  weight = 3

  [[models.upstreams]]
  provider = "anthropic"
  model = "claude-sonnet-4-5"
  api_key = "env:KEY"
  cooldown = 5
  read_timeout = 30
""",
    )
    (pool,) = load_config(path, environ={"KEY": "sk-a"}).models
    assert (pool.name, pool.strategy, pool.retries) == ("claude-sonnet-4.5", "round-robin", 1)
    kiro, anthropic = pool.members()
    assert (kiro.label, kiro.provider, kiro.weight, kiro.name) == (
        "kiro-work",
        "kiro",
        3,
        pool.name,
    )
    assert kiro.usage_url == "http://127.0.0.1:9/getUsageLimits"
    assert kiro.read_timeout == 60.0  # the pool's fields are each upstream's defaults
    assert (anthropic.label, anthropic.api_key, anthropic.cooldown) == ("anthropic", "sk-a", 5.0)
    assert anthropic.base_url == "https://api.anthropic.com"
    assert anthropic.read_timeout == 30.0


def test_a_single_upstream_route_is_a_pool_of_one(tmp_path: Path) -> None:
    path = write(tmp_path, '[[models]]\nname = "a"\nprovider = "sim"\n')
    (route,) = load_config(path, environ={}).models
    assert route.members() == (route,)
    assert (route.label, route.strategy, route.cooldown) == ("sim", "failover", 30.0)


MODEL = '[[models]]\nname = "a"\nprovider = "sim"\n'


def test_named_keys_beside_unnamed_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'api_keys = ["sk-local-0123456789a1b2"]\n'
        '[[keys]]\nlabel = "alice"\nkey = "env:ALICE_KEY"\n'
        '[[keys]]\nlabel = "ci"\nkey = "sk-ci-literal"\n' + MODEL,
    )
    config = load_config(
        path,
        environ={"ALICE_KEY": "sk-alice-secret", "LLM_GATEWAY_API_KEYS": "sk-env-00000000c3d4"},
    )
    assert [(k.label, k.key) for k in config.client_keys] == [
        ("alice", "sk-alice-secret"),
        ("ci", "sk-ci-literal"),
        ("key-…a1b2", "sk-local-0123456789a1b2"),
        ("key-…c3d4", "sk-env-00000000c3d4"),
    ]
    assert "sk-alice-secret" not in repr(config)


def test_named_keys_alone_need_no_api_keys(tmp_path: Path) -> None:
    path = write(tmp_path, '[[keys]]\nlabel = "alice"\nkey = "sk-alice-secret"\n' + MODEL)
    assert [k.label for k in load_config(path, environ={}).client_keys] == ["alice"]


ALICE = '[[keys]]\nlabel = "alice"\nkey = "sk-alice-secret"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            ALICE + ALICE.replace("sk-alice", "sk-other"),
            "keys[1] ('alice'): field 'label' repeats keys[0]",
        ),
        (
            ALICE + ALICE.replace('alice"', 'bob"'),
            "keys[1] ('bob'): field 'key' is the same key as keys[0] ('alice')",
        ),
        (
            '[[keys]]\nlabel = "alice"\nkey = ""\n',
            "keys[0] ('alice'): field 'key' must not be empty",
        ),
        (
            '[[keys]]\nlabel = "alice"\nkey = " sk-x"\n',
            "('alice'): field 'key' must not start or end",
        ),
        ('[[keys]]\nlabel = "alice"\n', "keys[0] ('alice'): missing field 'key'"),
        ('[[keys]]\nkey = "sk-alice-secret"\n', "keys[0]: missing field 'label'"),
        (
            '[[keys]]\nlabel = ""\nkey = "sk-alice-secret"\n',
            "keys[0]: field 'label' must be a non-empty",
        ),
        (ALICE + 'owner = "x"\n', "keys[0] ('alice'): unknown field 'owner'"),
        (
            '[[keys]]\nlabel = "alice"\nkey = "env:NOPE"\n',
            "keys[0] ('alice'): field 'key' names environment variable 'NOPE', which is not set",
        ),
        ('[[keys]]\nlabel = "alice"\nkey = 7\n', "keys[0] ('alice'): field 'key' must be a string"),
        (
            '[[keys]]\nlabel = "al ice"\nkey = "sk-alice-secret"\n',
            "field 'label' must have no spaces",
        ),
        (
            '[[keys]]\nlabel = "(admin)"\nkey = "sk-alice-secret"\n',
            "field 'label' must not start with '('",
        ),
        (
            '[[keys]]\nlabel = "' + "a" * 41 + '"\nkey = "sk-alice-secret"\n',
            "at most 40 characters",
        ),
        ('keys = ["sk-alice-secret"]\n', "keys[0]: must be a table"),
        ('keys = "sk-alice-secret"\n', "field 'keys' must be a list"),
        (
            'api_keys = ["sk-alice-secret"]\n' + ALICE,
            "api_keys[0]: the same key as keys[0] ('alice')",
        ),
        (
            'api_keys = ["sk-alice-secret", "sk-alice-secret"]\n',
            "api_keys[1]: the same key as api_keys[0]",
        ),
    ],
)
def test_key_errors_name_the_entry_never_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text + MODEL)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message
    assert "sk-alice-secret" not in message


def test_a_key_repeated_in_the_environment_is_refused_without_a_file() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ={"LLM_GATEWAY_API_KEYS": "sk-alice-secret,sk-alice-secret"})
    message = str(caught.value)
    assert message == (
        "environment: LLM_GATEWAY_API_KEYS[1]: the same key as LLM_GATEWAY_API_KEYS[0]"
    )
