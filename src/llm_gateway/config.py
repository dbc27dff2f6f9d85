"""Configuration: one TOML file, checked strictly at start-up.

A typo in a config file should stop the gateway with one line that names the file, the
entry and the field, never be silently ignored. So every table here knows its fields,
and :func:`load_config` raises :class:`ConfigError` with that line.

With no file at all, :func:`default_config` routes every model name to the in-process
simulator, so a fresh install answers at once.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Provider = Literal["openai", "anthropic", "kiro", "sim"]
PROVIDERS: tuple[Provider, ...] = ("openai", "anthropic", "kiro", "sim")
Strategy = Literal["failover", "round-robin", "least-busy"]
STRATEGIES: tuple[Strategy, ...] = ("failover", "round-robin", "least-busy")

RESPONSES_MODES = ("translate", "pass-through")
"""How an ``openai`` route serves the Responses API: through Chat Completions, or as is."""

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_UPSTREAM_CONNECTIONS = 10_000
"""Per worker. A stream holds its connection for as long as it lasts (minutes, for an
agent), so this is how many requests one worker can have upstream at once; more wait,
counted on the dashboard."""


class ConfigError(Exception):
    """A configuration problem, already phrased as the one line to show the user."""


@dataclass(frozen=True)
class ModelRoute:
    """One ``[[models]]`` entry: which client model names go to which upstream.

    An entry with ``upstreams`` is a pool: each upstream is itself a ``ModelRoute`` with
    the pool's name, so every field a route takes can be set per upstream, and the fields
    set beside ``upstreams`` are the defaults of each. An entry without is a pool of one:
    :meth:`members` is the route itself.
    """

    name: str
    provider: Provider
    model: str = ""
    base_url: str = ""
    # Kept out of repr so that no traceback or debug print can show a secret.
    api_key: str = field(default="", repr=False)
    connect_timeout: float = 10.0
    read_timeout: float = 600.0
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    """The largest non-streamed upstream body, and the largest single event of a stream."""
    # OpenAI only: "translate" Responses API requests to Chat Completions, or send them
    # untouched to the upstream's own /responses ("pass-through").
    responses: str = "translate"
    # Kiro only.
    credentials: str = ""
    region: str = "us-east-1"
    refresh_url: str = ""
    profile_arn: str = ""
    usage_url: str = ""
    # Translation between the API shapes (docs/TRANSLATION.md).
    drop_unsupported: bool = False
    default_max_tokens: int = 0
    reasoning_model: bool | None = None
    json_prefill: bool = True
    # As a member of a pool.
    label: str = ""
    """Names the upstream in the dashboard and the access log; the provider when empty."""
    weight: int = 1
    cooldown: float = 30.0
    # As a pool.
    strategy: Strategy = "failover"
    retries: int | None = None
    """Extra attempts on other upstreams; ``None`` is one per other upstream."""
    upstreams: tuple[ModelRoute, ...] = ()

    def members(self) -> tuple[ModelRoute, ...]:
        """The upstreams behind this name: the pool's, or the route itself."""
        return self.upstreams or (self,)

    @property
    def is_prefix(self) -> bool:
        return self.name.endswith("*")

    def matches(self, requested: str) -> bool:
        if self.is_prefix:
            return requested.startswith(self.name[:-1])
        return requested == self.name

    def upstream_model(self, requested: str) -> str:
        """The model id to send upstream: ``model`` if set, else what the client asked for."""
        return self.model or requested


@dataclass(frozen=True)
class ConnectionLimits:
    """What a worker allows each client connection (see :mod:`llm_gateway.guard`)."""

    header_timeout_s: float = 60.0
    """Seconds for a request line and its headers to arrive (nginx: client_header_timeout)."""
    body_timeout_s: float = 60.0
    """Seconds between two pieces of a request body (nginx: client_body_timeout)."""
    max_header_bytes: int = 32 * 1024
    """Request line and headers together (nginx allows 4 x 8 KiB); past it, a 431."""
    max_connections: int = 4096
    """Open connections per worker; past it, new ones get a 503."""


# TOML names of the connection limits.
_CONNECTION_FIELDS = {
    "header_timeout": "header_timeout_s",
    "body_timeout": "body_timeout_s",
    "max_header_bytes": "max_header_bytes",
    "max_connections": "max_connections",
}


@dataclass(frozen=True)
class ClientKey:
    """A client's key and the label it is counted and logged under.

    The label is what every surface shows (the access line, the dashboard, ``top``, error
    messages about the entry); the key itself is never shown.
    """

    label: str
    key: str = field(repr=False)


MAX_SHOWN_KEY_CHARS = 4
"""An unnamed key's label shows at most this many of its last characters."""


def label_unnamed(
    keys: tuple[str, ...], taken: frozenset[str] = frozenset()
) -> tuple[ClientKey, ...]:
    """Label each unnamed key ``key-…a1b2`` by its last characters, never the whole key.

    At most :data:`MAX_SHOWN_KEY_CHARS` characters show, and never more than a quarter of
    the key, so a short key is not given away by its label. Keys whose labels would be the
    same (or already ``taken`` by a named key) are told apart by a count, ``key-…a1b2#2``,
    rather than by showing more of them.
    """
    used = set(taken)
    labelled = []
    for key in keys:
        shown = min(MAX_SHOWN_KEY_CHARS, len(key) // 4)
        base = "key-…" + (key[-shown:] if shown else "")
        label, count = base, 1
        while label in used:
            count += 1
            label = f"{base}#{count}"
        used.add(label)
        labelled.append(ClientKey(label, key))
    return tuple(labelled)


@dataclass(frozen=True)
class GatewayConfig:
    models: tuple[ModelRoute, ...]
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    """Unnamed client keys: ``api_keys`` and ``LLM_GATEWAY_API_KEYS``."""
    keys: tuple[ClientKey, ...] = ()
    """Named client keys: the ``[[keys]]`` tables."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_upstream_connections: int = DEFAULT_MAX_UPSTREAM_CONNECTIONS
    connections: ConnectionLimits = ConnectionLimits()
    source: str = "built-in defaults"

    @property
    def client_keys(self) -> tuple[ClientKey, ...]:
        """Every client key with its label: the named ones, then the unnamed ones."""
        return self.keys + label_unnamed(self.api_keys, frozenset(k.label for k in self.keys))


_TOP_LEVEL_FIELDS = {
    "api_keys",
    "keys",
    "models",
    "max_body_bytes",
    "max_upstream_connections",
    *_CONNECTION_FIELDS,
}
_ENV_KEYS = "LLM_GATEWAY_API_KEYS"
_KEY_FIELDS = ("label", "key")
MAX_LABEL_CHARS = 40
_POOL_FIELDS = {"strategy", "retries", "upstreams"}
_MODEL_FIELDS = {f for f in ModelRoute.__dataclass_fields__}
_UPSTREAM_FIELDS = _MODEL_FIELDS - _POOL_FIELDS - {"name"}
_DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
}


def default_config(api_keys: tuple[str, ...] = ()) -> GatewayConfig:
    return GatewayConfig(models=(ModelRoute(name="*", provider="sim"),), api_keys=api_keys)


def load_config(
    path: str | os.PathLike[str] | None, environ: dict[str, str] | None = None
) -> GatewayConfig:
    """Read ``path`` (or the built-in defaults when ``None``), applying the environment.

    ``LLM_GATEWAY_API_KEYS`` (comma-separated) adds unnamed client keys; ``env:NAME`` values
    are resolved from ``environ``. A key is never part of an error: the line names its entry
    (``keys[1] ('bob')``, ``api_keys[0]``) instead.
    """
    env = os.environ if environ is None else environ
    env_keys = tuple(k.strip() for k in env.get(_ENV_KEYS, "").split(",") if k.strip())
    if path is None:
        _check_unnamed_keys("environment", [], env_keys, ())
        return default_config(env_keys)

    where = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read: {exc.strerror}") from None

    for key in raw:
        if key not in _TOP_LEVEL_FIELDS:
            raise ConfigError(f"{where}: unknown field {key!r} at top level")

    api_keys = raw.get("api_keys", [])
    if not isinstance(api_keys, list) or not all(isinstance(k, str) and k for k in api_keys):
        raise ConfigError(f"{where}: field 'api_keys' must be a list of non-empty strings")
    named = _parse_keys(where, raw.get("keys", []), env)
    _check_unnamed_keys(where, api_keys, env_keys, named)
    max_body = _positive_int(where, raw, "max_body_bytes", DEFAULT_MAX_BODY_BYTES)
    max_upstream = _positive_int(
        where, raw, "max_upstream_connections", DEFAULT_MAX_UPSTREAM_CONNECTIONS
    )
    limits: dict[str, Any] = {}
    for key, name in _CONNECTION_FIELDS.items():
        if key not in raw:
            continue
        value = raw[key]
        if name.endswith("_s"):
            if not _is_positive(value, int | float):
                raise ConfigError(f"{where}: field {key!r} must be a positive number of seconds")
            value = float(value)
        elif not _is_positive(value, int):
            raise ConfigError(f"{where}: field {key!r} must be a positive integer")
        limits[name] = value

    entries = raw.get("models", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: at least one [[models]] entry is required")
    models = tuple(_parse_model(where, index, entry, env) for index, entry in enumerate(entries))
    return GatewayConfig(
        models=models,
        api_keys=tuple(api_keys) + env_keys,
        keys=named,
        max_body_bytes=max_body,
        max_upstream_connections=max_upstream,
        connections=ConnectionLimits(**limits),
        source=where,
    )


def _parse_keys(
    where: str, entries: Any, env: os._Environ[str] | dict[str, str]
) -> tuple[ClientKey, ...]:
    """The ``[[keys]]`` tables: each a unique label and a unique key (literal or ``env:``)."""
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: field 'keys' must be a list of [[keys]] tables")
    keys: list[ClientKey] = []
    for index, entry in enumerate(entries):
        at = f"{where}: keys[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{at}: must be a table")
        label = entry.get("label")
        if isinstance(label, str) and label:
            at = f"{at} ({label!r})"
        for field_name in entry:
            if field_name not in _KEY_FIELDS:
                raise ConfigError(f"{at}: unknown field {field_name!r}")
        for field_name in _KEY_FIELDS:
            if field_name not in entry:
                raise ConfigError(f"{at}: missing field {field_name!r}")
        label = _check_label(at, label)
        key = entry["key"]
        if not isinstance(key, str):
            raise ConfigError(f"{at}: field 'key' must be a string")
        key = _resolve_secret(at, "key", key, env)
        _check_key(at, key)
        for earlier, other in enumerate(keys):
            if other.label == label:
                raise ConfigError(f"{at}: field 'label' repeats keys[{earlier}]")
            if other.key == key:
                raise ConfigError(
                    f"{at}: field 'key' is the same key as keys[{earlier}] ({other.label!r})"
                )
        keys.append(ClientKey(label, key))
    return tuple(keys)


def _check_label(at: str, label: object) -> str:
    # Labels are shown as they are, and the access line is split at spaces.
    if not isinstance(label, str) or not label:
        raise ConfigError(f"{at}: field 'label' must be a non-empty string")
    if not label.isprintable() or any(c.isspace() for c in label):
        raise ConfigError(f"{at}: field 'label' must have no spaces or control characters")
    if len(label) > MAX_LABEL_CHARS:
        raise ConfigError(f"{at}: field 'label' must be at most {MAX_LABEL_CHARS} characters")
    if label.startswith("("):
        raise ConfigError(
            f"{at}: field 'label' must not start with '(': labels in parentheses are the"
            " gateway's own, such as (unauthenticated)"
        )
    return label


def _check_key(at: str, key: str) -> None:
    if not key:
        raise ConfigError(f"{at}: field 'key' must not be empty")
    if key != key.strip():
        # A client's key is read without surrounding spaces, so this one could never match.
        raise ConfigError(f"{at}: field 'key' must not start or end with spaces")


def _check_unnamed_keys(
    where: str, api_keys: list[str], env_keys: tuple[str, ...], named: tuple[ClientKey, ...]
) -> None:
    """Refuse a key given twice (in ``[[keys]]``, ``api_keys`` or the environment): its
    requests could count under either label."""
    seen = {k.key: f"keys[{i}] ({k.label!r})" for i, k in enumerate(named)}
    entries = [(f"api_keys[{i}]", k) for i, k in enumerate(api_keys)]
    entries += [(f"{_ENV_KEYS}[{i}]", k) for i, k in enumerate(env_keys)]
    for entry, key in entries:
        if key in seen:
            raise ConfigError(f"{where}: {entry}: the same key as {seen[key]}")
        seen[key] = entry


def _positive_int(where: str, raw: dict[str, Any], key: str, default: int) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{where}: field {key!r} must be a positive integer")
    return value


def _parse_model(
    where: str, index: int, entry: Any, env: os._Environ[str] | dict[str, str]
) -> ModelRoute:
    at = f"{where}: models[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{at}: must be a table")
    name = entry.get("name")
    if isinstance(name, str) and name:
        at = f"{where}: models[{index}] ({name!r})"
    for key in entry:
        if key not in _MODEL_FIELDS:
            raise ConfigError(f"{at}: unknown field {key!r}")
    if "upstreams" in entry:
        return _parse_pool(at, entry, env)
    stray = sorted(_POOL_FIELDS & entry.keys())
    if stray:
        raise ConfigError(f"{at}: field {stray[0]!r} needs 'upstreams'")
    return _parse_route(at, entry, env)


def _parse_pool(
    at: str, entry: dict[str, Any], env: os._Environ[str] | dict[str, str]
) -> ModelRoute:
    if "provider" in entry:
        raise ConfigError(
            f"{at}: field 'provider' cannot be mixed with 'upstreams'; set it on each upstream"
        )
    if "name" not in entry:
        raise ConfigError(f"{at}: missing field 'name'")
    items = entry["upstreams"]
    if not isinstance(items, list) or not items or not all(isinstance(u, dict) for u in items):
        raise ConfigError(f"{at}: field 'upstreams' must be a non-empty list of tables")
    strategy = entry.get("strategy", "failover")
    if strategy not in STRATEGIES:
        raise ConfigError(
            f"{at}: field 'strategy' is {strategy!r}; expected one of {', '.join(STRATEGIES)}"
        )
    retries = entry.get("retries")
    if retries is not None and (
        not isinstance(retries, int) or isinstance(retries, bool) or retries < 0
    ):
        raise ConfigError(f"{at}: field 'retries' must be a whole number, 0 or more")
    defaults = {k: v for k, v in entry.items() if k not in _POOL_FIELDS}
    upstreams: list[ModelRoute] = []
    for number, item in enumerate(items):
        member = f"{at}: upstreams[{number}]"
        for key in item:
            if key not in _UPSTREAM_FIELDS:
                raise ConfigError(f"{member}: unknown field {key!r}")
        upstream = _parse_route(member, {**defaults, **item}, env)
        if any(u.label == upstream.label for u in upstreams):
            raise ConfigError(
                f"{member}: duplicate label {upstream.label!r}; each upstream needs its own"
            )
        if upstream.provider == "kiro" and any(
            u.provider == "kiro" and u.credentials == upstream.credentials for u in upstreams
        ):
            raise ConfigError(
                f"{member}: field 'credentials' is the same as another Kiro upstream's; "
                "each Kiro account needs its own"
            )
        upstreams.append(upstream)
    first = upstreams[0]
    return ModelRoute(
        name=first.name,
        provider=first.provider,
        strategy=strategy,
        retries=retries,
        upstreams=tuple(upstreams),
    )


def _parse_route(
    at: str, entry: dict[str, Any], env: os._Environ[str] | dict[str, str]
) -> ModelRoute:
    for required in ("name", "provider"):
        if required not in entry:
            raise ConfigError(f"{at}: missing field {required!r}")
    values: dict[str, Any] = {}
    for key, value in entry.items():
        expected = ModelRoute.__dataclass_fields__[key].type
        if expected == "float":
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{at}: field {key!r} must be a positive number of seconds")
            values[key] = float(value)
        elif expected in ("bool", "bool | None"):
            if not isinstance(value, bool):
                raise ConfigError(f"{at}: field {key!r} must be true or false")
            values[key] = value
        elif expected == "int":
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{at}: field {key!r} must be a positive integer")
            values[key] = value
        elif not isinstance(value, str):
            raise ConfigError(f"{at}: field {key!r} must be a string")
        else:
            values[key] = value
    if values["provider"] not in PROVIDERS:
        raise ConfigError(
            f"{at}: field 'provider' is {values['provider']!r}; expected one of {', '.join(PROVIDERS)}"
        )
    if not values["name"]:
        raise ConfigError(f"{at}: field 'name' must not be empty")
    if not values.get("label"):
        values["label"] = values["provider"]
    if values.get("responses", "translate") not in RESPONSES_MODES:
        raise ConfigError(
            f"{at}: field 'responses' is {values['responses']!r}; expected one of {', '.join(RESPONSES_MODES)}"
        )
    if values.get("responses") == "pass-through" and values["provider"] != "openai":
        raise ConfigError(f'{at}: field \'responses\' = "pass-through" needs provider "openai"')
    if "api_key" in values:
        values["api_key"] = _resolve_secret(at, "api_key", values["api_key"], env)
    if values["provider"] in _DEFAULT_BASE_URLS and not values.get("base_url"):
        values["base_url"] = _DEFAULT_BASE_URLS[values["provider"]]
    return ModelRoute(**values)


def _is_positive(value: object, kind: Any) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool) and value > 0


def _resolve_secret(at: str, key: str, value: str, env: os._Environ[str] | dict[str, str]) -> str:
    if not value.startswith("env:"):
        return value
    name = value[4:]
    resolved = env.get(name)
    if not resolved:
        raise ConfigError(
            f"{at}: field {key!r} names environment variable {name!r}, which is not set"
        )
    return resolved
