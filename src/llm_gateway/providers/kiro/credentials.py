"""Where Kiro tokens live, and how to read and write them back.

Three sources, chosen by a route's ``credentials`` field:

- a path: the Kiro IDE token file (``~/.aws/sso/cache/kiro-auth-token.json``), JSON with
  ``accessToken``, ``refreshToken``, ``expiresAt``, ``region`` and, depending on how the
  user signed in, ``profileArn`` or ``clientId``/``clientSecret`` (the IDE may keep the
  latter two in a sibling file named by ``clientIdHash``);
- ``sqlite:PATH``: the kiro-cli database, whose ``auth_kv`` table holds the token under
  ``kirocli:social:token`` or ``kirocli:odic:token`` (``codewhisperer:odic:token`` for
  older installs) and the OIDC client under ``kirocli:odic:device-registration``;
- ``env:NAME``: a refresh token alone, in an environment variable.

Empty means the first of those that exists: the IDE file, the kiro-cli database, then
``KIRO_REFRESH_TOKEN``. A refreshed token is written back where it came from, atomically
(a renamed temporary file; one SQLite transaction), keeping every field we do not know.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson

DEFAULT_ENV_VAR = "KIRO_REFRESH_TOKEN"

_SQLITE_TOKEN_KEYS = ("kirocli:social:token", "kirocli:odic:token", "codewhisperer:odic:token")
_SQLITE_REGISTRATION_KEYS = (
    "kirocli:odic:device-registration",
    "codewhisperer:odic:device-registration",
)


class CredentialsError(Exception):
    """No usable Kiro credentials; the message says where we looked (never a secret)."""


@dataclass(frozen=True)
class KiroToken:
    access_token: str
    refresh_token: str
    expires_at: float
    """Seconds since the epoch; 0 when unknown, which means refresh before first use."""
    region: str = ""
    profile_arn: str = ""
    client_id: str = ""
    client_secret: str = ""

    @property
    def kind(self) -> Literal["oidc", "social"]:
        """``oidc`` (AWS Builder ID / IAM Identity Center) or ``social`` (Kiro desktop auth)."""
        return "oidc" if self.client_id and self.client_secret else "social"


class TokenStore(Protocol):
    description: str
    """Where the token lives, for messages and logs."""

    def load(self) -> KiroToken: ...

    def save(self, token: KiroToken) -> None: ...


class TokenFile:
    """The Kiro IDE's JSON token file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"token file {path}"

    def load(self) -> KiroToken:
        data = _read_json_file(self.path)
        client = {}
        client_hash = data.get("clientIdHash")
        if not data.get("clientId") and isinstance(client_hash, str) and client_hash:
            sibling = self.path.with_name(f"{client_hash}.json")
            if sibling.exists():
                client = _read_json_file(sibling)
        return KiroToken(
            access_token=_string(data, "accessToken"),
            refresh_token=_required(data, "refreshToken", self.description),
            expires_at=parse_expiry(data.get("expiresAt")),
            region=_string(data, "region"),
            profile_arn=_string(data, "profileArn"),
            client_id=_string(data, "clientId") or _string(client, "clientId"),
            client_secret=_string(data, "clientSecret") or _string(client, "clientSecret"),
        )

    def save(self, token: KiroToken) -> None:
        data = _read_json_file(self.path)
        data.update(
            accessToken=token.access_token,
            refreshToken=token.refresh_token,
            expiresAt=format_expiry(token.expires_at),
        )
        if token.profile_arn:
            data["profileArn"] = token.profile_arn
        _replace_file(self.path, orjson.dumps(data, option=orjson.OPT_INDENT_2))


class KiroCliDatabase:
    """kiro-cli's SQLite database (``auth_kv`` key/value table)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"kiro-cli database {path}"

    def load(self) -> KiroToken:
        key, data = self._token_entry()
        registration: dict[str, Any] = {}
        if key.endswith(":odic:token"):
            registration = self._first(_SQLITE_REGISTRATION_KEYS)[1]
        return KiroToken(
            access_token=_string(data, "access_token"),
            refresh_token=_required(data, "refresh_token", self.description),
            expires_at=parse_expiry(data.get("expires_at")),
            region=_string(data, "region"),
            profile_arn=_string(data, "profile_arn"),
            client_id=_string(registration, "client_id"),
            client_secret=_string(registration, "client_secret"),
        )

    def save(self, token: KiroToken) -> None:
        key, data = self._token_entry()
        data.update(
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expires_at=format_expiry(token.expires_at),
        )
        if token.profile_arn:
            data["profile_arn"] = token.profile_arn
        with self._connection() as connection:
            connection.execute(
                "UPDATE auth_kv SET value = ? WHERE key = ?", (orjson.dumps(data).decode(), key)
            )

    def _token_entry(self) -> tuple[str, dict[str, Any]]:
        key, data = self._first(_SQLITE_TOKEN_KEYS)
        if not key:
            raise CredentialsError(
                f"{self.description} holds no Kiro token (is kiro-cli logged in?)"
            )
        return key, data

    def _first(self, keys: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
        marks = ", ".join("?" * len(keys))
        try:
            with self._connection() as connection:
                rows = dict(
                    connection.execute(
                        f"SELECT key, value FROM auth_kv WHERE key IN ({marks})", keys
                    )
                )
        except sqlite3.Error as exc:
            raise CredentialsError(f"cannot read {self.description}: {exc}") from None
        for key in keys:
            if key in rows:
                return key, _json_object(rows[key], self.description)
        return "", {}

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed if the block succeeds, rolled back if not."""
        if not self.path.exists():
            raise CredentialsError(f"{self.description} does not exist")
        connection = sqlite3.connect(self.path, timeout=5)
        try:
            with connection:
                yield connection
        finally:
            connection.close()


class EnvironmentToken:
    """A refresh token in an environment variable: read once, never written back."""

    def __init__(self, name: str, environ: Mapping[str, str]) -> None:
        self.name = name
        self.description = f"environment variable {name}"
        self._environ = environ

    def load(self) -> KiroToken:
        value = self._environ.get(self.name, "")
        if not value:
            raise CredentialsError(f"{self.description} is not set")
        return KiroToken(access_token="", refresh_token=value, expires_at=0)

    def save(self, token: KiroToken) -> None:
        # The process environment cannot be written back to; the refreshed token lives
        # in memory, and the refresh token from the environment stays valid for the next start.
        return None


def resolve_store(spec: str, environ: Mapping[str, str], home: Path) -> TokenStore:
    """The store a route's ``credentials`` field names (see the module docstring)."""
    if spec.startswith("sqlite:"):
        return KiroCliDatabase(Path(spec.removeprefix("sqlite:")).expanduser())
    if spec.startswith("env:"):
        return EnvironmentToken(spec.removeprefix("env:"), environ)
    if spec:
        return TokenFile(Path(spec).expanduser())
    ide_file = home / ".aws" / "sso" / "cache" / "kiro-auth-token.json"
    if ide_file.exists():
        return TokenFile(ide_file)
    for database in kiro_cli_databases(home):
        if database.exists():
            return KiroCliDatabase(database)
    if environ.get(DEFAULT_ENV_VAR):
        return EnvironmentToken(DEFAULT_ENV_VAR, environ)
    raise CredentialsError(
        f"no Kiro credentials found: looked for {ide_file}, the kiro-cli database and "
        f"${DEFAULT_ENV_VAR}; sign in with Kiro or set the route's 'credentials'"
    )


def kiro_cli_databases(home: Path) -> list[Path]:
    if sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    elif sys.platform == "win32":
        base = home / "AppData" / "Roaming"
    else:
        base = home / ".local" / "share"
    return [base / "kiro-cli" / "data.sqlite3", base / "amazon-q" / "data.sqlite3"]


def parse_expiry(value: Any) -> float:
    """``expiresAt`` as epoch seconds: ISO 8601 text, or a number of seconds or milliseconds."""
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return 0.0
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Milliseconds since the epoch passed 1e12 in 2001; seconds will not until 33658.
        return value / 1000 if value > 1e12 else float(value)
    return 0.0


def format_expiry(expires_at: float) -> str:
    moment = datetime.fromtimestamp(expires_at, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _read_json_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CredentialsError(f"Kiro token file {path} does not exist") from None
    except OSError as exc:
        raise CredentialsError(f"cannot read Kiro token file {path}: {exc.strerror}") from None
    return _json_object(raw, f"Kiro token file {path}")


def _json_object(raw: str | bytes, where: str) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise CredentialsError(f"{where} is not valid JSON") from None
    if not isinstance(data, dict):
        raise CredentialsError(f"{where} is not a JSON object")
    return data


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _required(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _string(data, key)
    if not value:
        raise CredentialsError(f"{where} has no {key!r}")
    return value


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader sees the old or the new file, never half of one."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file 0600, which is what a file of secrets should be.
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
