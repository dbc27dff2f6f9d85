"""Fresh Kiro access tokens: refresh before expiry, after a 403, and only once at a time.

Kiro access tokens live about an hour. :class:`KiroAuth` refreshes one a few minutes
before it expires (:data:`REFRESH_MARGIN_S`), and again when Kiro rejects it anyway. Many
requests may find the token stale at the same moment; they all wait on the same refresh
rather than each spending the refresh token (which a refresh may rotate, so a second
concurrent refresh could fail with the first's stale one).

Two refresh flows exist, chosen by the token's kind:

- social / desktop sign-in: ``POST https://prod.{region}.auth.desktop.kiro.dev/refreshToken``
  with ``{"refreshToken"}``;
- OIDC (AWS Builder ID, IAM Identity Center): ``POST https://oidc.{region}.amazonaws.com/token``
  with ``{"grantType": "refresh_token", "clientId", "clientSecret", "refreshToken"}``.

Both answer ``accessToken``, ``expiresIn`` and usually a new ``refreshToken``. Tokens are
never logged; messages name only where the token came from.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import aiohttp
import orjson

from llm_gateway.errors import CredentialsRefused, GatewayError
from llm_gateway.providers.http import error_message, redact, transport_error
from llm_gateway.providers.kiro.credentials import CredentialsError, KiroToken, TokenStore

REFRESH_MARGIN_S = 300.0
_DEFAULT_LIFETIME_S = 3600.0

logger = logging.getLogger("llm_gateway.kiro")


def default_refresh_url(token: KiroToken, region: str) -> str:
    if token.kind == "oidc":
        return f"https://oidc.{region}.amazonaws.com/token"
    return f"https://prod.{region}.auth.desktop.kiro.dev/refreshToken"


class KiroAuth:
    def __init__(
        self,
        load_store: Callable[[], TokenStore],
        session: aiohttp.ClientSession,
        *,
        region: str,
        refresh_url: str,
        timeout: aiohttp.ClientTimeout,
        user_agent: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``load_store`` is called on first use, so missing credentials fail a request
        (with a clear message) rather than the gateway's start."""
        self._load_store = load_store
        self._session = session
        self._region = region
        self._refresh_url = refresh_url
        self._timeout = timeout
        self._user_agent = user_agent
        self._clock = clock
        self._store: TokenStore | None = None
        self._token: KiroToken | None = None
        self._stored: KiroToken | None = None
        """The token as last read from or written to the store."""
        self._refreshing: asyncio.Future[KiroToken] | None = None

    async def token(self) -> KiroToken:
        """A token valid for at least :data:`REFRESH_MARGIN_S` more seconds."""
        token = self._token or await self._load()
        if self._fresh(token):
            return token
        return await self._refresh_once()

    async def refresh_after_rejection(self, rejected: KiroToken) -> KiroToken:
        """A new token after Kiro refused ``rejected``; shared if another request already did."""
        current = self._token
        if current is not None and current.access_token != rejected.access_token:
            return current
        return await self._refresh_once()

    async def _load(self) -> KiroToken:
        try:
            store = self._store or self._load_store()
            self._store = store
            token = await asyncio.to_thread(store.load)
        except CredentialsError as exc:
            raise CredentialsRefused("upstream", 502, f"Kiro credentials: {exc}") from None
        self._token = self._stored = token
        return token

    @property
    def _loaded_store(self) -> TokenStore:
        assert self._store is not None, "token() loads the store before anything needs it"
        return self._store

    def _fresh(self, token: KiroToken) -> bool:
        return bool(token.access_token) and token.expires_at - REFRESH_MARGIN_S > self._clock()

    async def _refresh_once(self) -> KiroToken:
        if self._refreshing is None:
            self._refreshing = asyncio.ensure_future(self._refresh())
            self._refreshing.add_done_callback(self._refresh_done)
        # shield: a client that goes away must not cancel the refresh the others wait on.
        return await asyncio.shield(self._refreshing)

    def _refresh_done(self, future: asyncio.Future[KiroToken]) -> None:
        self._refreshing = None

    async def _refresh(self) -> KiroToken:
        ours = self._token
        old = await self._latest()
        if old is not ours and self._fresh(old):
            return old
        region = old.region or self._region
        url = self._refresh_url or default_refresh_url(old, region)
        body: dict[str, str]
        if old.kind == "oidc":
            body = {
                "grantType": "refresh_token",
                "clientId": old.client_id,
                "clientSecret": old.client_secret,
                "refreshToken": old.refresh_token,
            }
        else:
            body = {"refreshToken": old.refresh_token}
        # What an error answer must not echo back to a client or the log.
        secrets = tuple(s.encode() for s in (old.refresh_token, old.client_secret) if s)
        data = await self._post(url, orjson.dumps(body), secrets)
        access = data.get("accessToken")
        if not isinstance(access, str) or not access:
            raise GatewayError(
                "upstream", 502, "Kiro token refresh answered without an access token"
            )
        lifetime = data.get("expiresIn")
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool):
            lifetime = _DEFAULT_LIFETIME_S
        token = replace(
            old,
            access_token=access,
            refresh_token=_text(data, "refreshToken") or old.refresh_token,
            profile_arn=_text(data, "profileArn") or old.profile_arn,
            expires_at=self._clock() + float(lifetime),
        )
        self._token = token
        logger.info(
            "refreshed the Kiro access token from %s (valid %d s)",
            self._loaded_store.description,
            lifetime,
        )
        await self._write_back(token)
        return token

    async def _latest(self) -> KiroToken:
        """Our token, or the store's if something else wrote it since we last did.

        Kiro itself refreshes the same token file, and a refresh may rotate the refresh
        token, so ours can be spent; signing in again also lands there. Either way the
        store's token is the one to use (or to refresh).
        """
        assert self._token is not None
        try:
            stored = await asyncio.to_thread(self._loaded_store.load)
        except CredentialsError:
            return self._token
        seen = self._stored
        if seen is not None and (stored.access_token, stored.refresh_token) == (
            seen.access_token,
            seen.refresh_token,
        ):
            return self._token
        self._token = self._stored = stored
        return stored

    async def _post(self, url: str, body: bytes, secrets: tuple[bytes, ...]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "User-Agent": self._user_agent}
        try:
            async with self._session.post(
                url, data=body, headers=headers, timeout=self._timeout
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error(exc) from exc
        if status >= 400:
            raw = redact(raw, secrets)
            raise CredentialsRefused(
                "upstream",
                502,
                f"Kiro token refresh failed ({status}: {error_message(raw, status)}); the "
                f"credentials in {self._loaded_store.description} may have expired: "
                "sign in to Kiro again",
            )
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise GatewayError("upstream", 502, "Kiro token refresh answered with malformed JSON")
        return data

    async def _write_back(self, token: KiroToken) -> None:
        store = self._loaded_store
        try:
            await asyncio.to_thread(store.save, token)
            self._stored = token
        except (OSError, sqlite3.Error, CredentialsError) as exc:
            # The new token still works from memory; only the next start loses it.
            logger.warning(
                "could not write the refreshed Kiro token back to %s: %s",
                store.description,
                exc,
            )


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""
