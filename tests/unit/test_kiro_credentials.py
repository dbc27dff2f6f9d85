"""Kiro token sources: the IDE token file, the kiro-cli database, the environment."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path
from typing import Any

import orjson
import pytest

from llm_gateway.providers.kiro.credentials import (
    CredentialsError,
    EnvironmentToken,
    KiroCliDatabase,
    KiroToken,
    TokenFile,
    format_expiry,
    kiro_cli_databases,
    parse_expiry,
    resolve_store,
)

EXPIRES = "2026-01-02T03:04:05.000Z"
EXPIRES_AT = 1767323045.0


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(data))
    return path


def make_database(path: Path, entries: dict[str, dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE auth_kv (key TEXT PRIMARY KEY, value TEXT)")
        for key, value in entries.items():
            connection.execute(
                "INSERT INTO auth_kv VALUES (?, ?)", (key, orjson.dumps(value).decode())
            )
    connection.close()
    return path


def read_database(path: Path, key: str) -> dict[str, Any]:
    connection = sqlite3.connect(path)
    try:
        (value,) = connection.execute("SELECT value FROM auth_kv WHERE key = ?", (key,)).fetchone()
    finally:
        connection.close()
    data: dict[str, Any] = orjson.loads(value)
    return data


def test_token_file_loads_a_social_token(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "kiro-auth-token.json",
        {
            "accessToken": "a",
            "refreshToken": "r",
            "expiresAt": EXPIRES,
            "region": "eu-west-1",
            "profileArn": "arn:p",
            "authMethod": "social",
        },
    )
    token = TokenFile(path).load()
    assert token == KiroToken("a", "r", EXPIRES_AT, "eu-west-1", "arn:p")
    assert token.kind == "social"


def test_token_file_finds_the_oidc_client_in_its_sibling_file(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "kiro-auth-token.json",
        {"accessToken": "a", "refreshToken": "r", "expiresAt": EXPIRES, "clientIdHash": "abc"},
    )
    write_json(tmp_path / "abc.json", {"clientId": "cid", "clientSecret": "secret"})
    token = TokenFile(path).load()
    assert (token.client_id, token.client_secret, token.kind) == ("cid", "secret", "oidc")


def test_token_file_write_back_is_atomic_private_and_keeps_other_fields(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "kiro-auth-token.json",
        {"accessToken": "a", "refreshToken": "r", "expiresAt": EXPIRES, "provider": "Github"},
    )
    store = TokenFile(path)
    store.save(KiroToken("a2", "r2", EXPIRES_AT + 3600, profile_arn="arn:new"))
    assert orjson.loads(path.read_bytes()) == {
        "accessToken": "a2",
        "refreshToken": "r2",
        "expiresAt": "2026-01-02T04:04:05.000Z",
        "provider": "Github",
        "profileArn": "arn:new",
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kiro-auth-token.json"]
    assert store.load().access_token == "a2"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (b"{", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"accessToken": "a"}', "no 'refreshToken'"),
    ],
)
def test_token_file_problems_are_clear(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "token.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CredentialsError, match=message):
        TokenFile(path).load()


def test_kiro_cli_database_oidc_token_and_write_back(tmp_path: Path) -> None:
    path = make_database(
        tmp_path / "data.sqlite3",
        {
            "kirocli:odic:token": {
                "access_token": "a",
                "refresh_token": "r",
                "expires_at": "2026-01-02T03:04:05.123456Z",
                "region": "us-west-2",
                "start_url": "https://view.awsapps.com/start",
            },
            "kirocli:odic:device-registration": {"client_id": "cid", "client_secret": "cs"},
            "unrelated": {"keep": True},
        },
    )
    store = KiroCliDatabase(path)
    token = store.load()
    assert token == KiroToken("a", "r", EXPIRES_AT + 0.123456, "us-west-2", "", "cid", "cs")
    assert token.kind == "oidc"

    store.save(KiroToken("a2", "r2", EXPIRES_AT, "us-west-2", "", "cid", "cs"))
    assert read_database(path, "kirocli:odic:token") == {
        "access_token": "a2",
        "refresh_token": "r2",
        "expires_at": EXPIRES,
        "region": "us-west-2",
        "start_url": "https://view.awsapps.com/start",
    }
    assert read_database(path, "unrelated") == {"keep": True}


def test_kiro_cli_database_prefers_the_social_token(tmp_path: Path) -> None:
    path = make_database(
        tmp_path / "data.sqlite3",
        {
            "codewhisperer:odic:token": {"access_token": "old", "refresh_token": "old"},
            "kirocli:social:token": {
                "access_token": "s",
                "refresh_token": "sr",
                "profile_arn": "p",
            },
        },
    )
    token = KiroCliDatabase(path).load()
    assert (token.access_token, token.profile_arn, token.kind) == ("s", "p", "social")


def test_kiro_cli_database_problems_are_clear(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="does not exist"):
        KiroCliDatabase(tmp_path / "missing.sqlite3").load()
    empty = make_database(tmp_path / "empty.sqlite3", {})
    with pytest.raises(CredentialsError, match="holds no Kiro token"):
        KiroCliDatabase(empty).load()
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"not a database at all, not even close" * 10)
    with pytest.raises(CredentialsError, match="cannot read"):
        KiroCliDatabase(broken).load()


def test_environment_token_is_a_refresh_token_only() -> None:
    store = EnvironmentToken("MY_KIRO", {"MY_KIRO": "r"})
    assert store.load() == KiroToken("", "r", 0)
    store.save(KiroToken("a", "r2", 1.0))
    assert store.load().refresh_token == "r"
    with pytest.raises(CredentialsError, match="MY_KIRO is not set"):
        EnvironmentToken("MY_KIRO", {}).load()


def test_resolve_store_by_spec(tmp_path: Path) -> None:
    file_store = resolve_store(str(tmp_path / "t.json"), {}, tmp_path)
    assert isinstance(file_store, TokenFile) and file_store.path == tmp_path / "t.json"
    db_store = resolve_store(f"sqlite:{tmp_path}/d.sqlite3", {}, tmp_path)
    assert isinstance(db_store, KiroCliDatabase) and db_store.path == tmp_path / "d.sqlite3"
    env_store = resolve_store("env:TOKEN", {}, tmp_path)
    assert isinstance(env_store, EnvironmentToken) and env_store.name == "TOKEN"


def test_resolve_store_defaults_in_order(tmp_path: Path) -> None:
    environ = {"KIRO_REFRESH_TOKEN": "r"}
    assert isinstance(resolve_store("", environ, tmp_path), EnvironmentToken)
    database = make_database(kiro_cli_databases(tmp_path)[0], {})
    chosen = resolve_store("", environ, tmp_path)
    assert isinstance(chosen, KiroCliDatabase) and chosen.path == database
    ide_file = write_json(tmp_path / ".aws/sso/cache/kiro-auth-token.json", {})
    chosen = resolve_store("", environ, tmp_path)
    assert isinstance(chosen, TokenFile) and chosen.path == ide_file


def test_resolve_store_with_nothing_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="KIRO_REFRESH_TOKEN"):
        resolve_store("", {}, tmp_path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (EXPIRES, EXPIRES_AT),
        ("2026-01-02T03:04:05", EXPIRES_AT),
        ("2026-01-02T04:04:05+01:00", EXPIRES_AT),
        (EXPIRES_AT, EXPIRES_AT),
        (EXPIRES_AT * 1000, EXPIRES_AT),
        ("yesterday", 0.0),
        (None, 0.0),
        (True, 0.0),
    ],
)
def test_parse_expiry(value: Any, expected: float) -> None:
    assert parse_expiry(value) == pytest.approx(expected)


def test_format_expiry_round_trips() -> None:
    assert format_expiry(EXPIRES_AT) == EXPIRES
    assert parse_expiry(format_expiry(EXPIRES_AT)) == EXPIRES_AT
