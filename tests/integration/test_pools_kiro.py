"""Two Kiro accounts in one pool, each on its own fake Kiro: quotas, rests and credits.

Each account has its own token file and its own fake server, so the test can see which
account each request reached and that the accounts never share a token.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anthropic
import httpx
import orjson
import pytest

from tests.fakes.kiro_server import EMAIL, Failure, FakeKiro, running_fake_kiro, usage_answer
from tests.processes import RunningServer, running

API_KEY = "sk-kiro-pool"
RESETS_AT = int(time.time()) + 2 * 86400
QUOTA = Failure(402, "You have reached the limit.", "MONTHLY_REQUEST_COUNT")


@pytest.fixture(scope="module")
def first() -> Iterator[FakeKiro]:
    with running_fake_kiro() as fake:
        yield fake


@pytest.fixture(scope="module")
def second() -> Iterator[FakeKiro]:
    with running_fake_kiro() as fake:
        fake.access_token, fake.refresh_token = "access-b", "refresh-b"
        yield fake


def account(tmp: Path, label: str, fake: FakeKiro) -> str:
    token = tmp / f"{label}.json"
    token.write_bytes(
        orjson.dumps(
            {
                "accessToken": fake.access_token,
                "refreshToken": fake.refresh_token,
                "expiresAt": "2099-01-01T00:00:00.000Z",
                "region": "us-east-1",
                "profileArn": fake.profile_arn,
            }
        )
    )
    return f"""
  [[models.upstreams]]
  label = "{label}"
  provider = "kiro"
  base_url = "{fake.base_url}"
  usage_url = "{fake.base_url}/getUsageLimits"
  refresh_url = "{fake.base_url}/refreshToken"
  credentials = "{token}"
"""


@pytest.fixture(scope="module")
def refused() -> Iterator[FakeKiro]:
    """An account of its own for the refused credentials: refreshing rotates its tokens."""
    with running_fake_kiro() as fake:
        fake.access_token, fake.refresh_token = "access-r", "refresh-r"
        yield fake


@pytest.fixture(scope="module")
def gateway(
    first: FakeKiro,
    second: FakeKiro,
    refused: FakeKiro,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServer]:
    tmp = tmp_path_factory.mktemp("kiro-pool")
    first.usage = usage_answer(resets_at=RESETS_AT)
    pairs = (("claude-quota", first), ("claude-busy", first), ("claude-auth", refused))
    pools = "".join(
        f'\n[[models]]\nname = "{name}"\n'
        + account(tmp, f"{name}-a", fake)
        + account(tmp, f"{name}-b", second)
        for name, fake in pairs
    )
    config = tmp / "gateway.toml"
    config.write_text(f'api_keys = ["{API_KEY}"]\n{pools}')
    args = ["serve", "--config", str(config), "--port", "0", "--log-level", "debug"]
    with running(args) as server:
        # The start-up reads: one per account in each pool.
        wait_for(lambda: len(first.usage_reads) >= 2 and len(second.usage_reads) >= 3)
        yield server


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def ask(gateway: RunningServer, model: str) -> anthropic.types.Message:
    with anthropic.Anthropic(base_url=gateway.base_url, api_key=API_KEY, max_retries=0) as sdk:
        return sdk.messages.create(
            model=model, max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        )


def test_credits_are_read_with_each_accounts_own_token_and_no_email_is_kept(
    first: FakeKiro, second: FakeKiro, gateway: RunningServer
) -> None:
    read = first.usage_reads[0]
    assert read.path.startswith("/getUsageLimits?")
    assert "origin=AI_EDITOR" in read.path and "resourceType=AGENTIC_REQUEST" in read.path
    assert "profileArn=arn" in read.path
    assert read.headers["Authorization"] == f"Bearer {first.access_token}"
    assert second.usage_reads[0].headers["Authorization"] == "Bearer access-b"
    gateway.wait_for_output("upstream=claude-quota-a: 250.5 of 1000 credits used")
    assert EMAIL not in "".join(gateway.output)


def test_an_account_out_of_credits_rests_until_its_reset_and_the_other_serves(
    first: FakeKiro, second: FakeKiro, gateway: RunningServer
) -> None:
    reads = len(first.usage_reads)
    first.queue(QUOTA)
    assert ask(gateway, "claude-quota").content[0].type == "text"
    (served,) = gateway.wait_for_lines(
        r"model=claude-quota status=200 .* upstream=(\S+) attempts=2", 1
    )
    assert served.group(1) == "claude-quota-b"
    rest = gateway.wait_for_output("upstream=claude-quota-a failed (402")
    seconds = int(re.search(r"it rests (\d+) s", rest).group(1))  # type: ignore[union-attr]
    assert RESETS_AT - time.time() - 60 < seconds <= RESETS_AT - time.time() + 1
    wait_for(lambda: len(first.usage_reads) > reads)  # read again after the 402
    chats = len(first.chats)
    assert ask(gateway, "claude-quota").content[0].type == "text"
    gateway.wait_for_lines(
        r"model=claude-quota status=200 .* upstream=claude-quota-b attempts=1", 1
    )
    assert len(first.chats) == chats
    assert EMAIL not in "".join(gateway.output)


def test_retry_after_sets_each_rest_and_the_client_hears_when_to_return(
    first: FakeKiro, second: FakeKiro, gateway: RunningServer
) -> None:
    first.queue(Failure(429, "slow down", headers={"Retry-After": "200"}))
    second.queue(Failure(503, "busy", headers={"Retry-After": "100"}))
    url = gateway.base_url + "/v1/messages"
    body = {
        "model": "claude-busy",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
    }
    headers = {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}
    assert httpx.post(url, json=body, headers=headers, timeout=30).status_code == 503
    resting = httpx.post(url, json=body, headers=headers, timeout=30)
    assert resting.status_code == 429
    assert 95 <= int(resting.headers["retry-after"]) <= 100
    assert resting.json()["error"]["type"] == "rate_limit_error"


def test_credentials_refused_after_a_refresh_fail_over_and_show_auth_failed(
    refused: FakeKiro, gateway: RunningServer
) -> None:
    """A 403 that a fresh token does not cure: the account rests, the other one serves."""
    refused.queue(Failure(403, "denied"), Failure(403, "still denied"))
    assert ask(gateway, "claude-auth").content[0].type == "text"
    (served,) = gateway.wait_for_lines(
        r"model=claude-auth status=200 .* upstream=(\S+) attempts=2", 1
    )
    assert served.group(1) == "claude-auth-b"
    gateway.wait_for_output("upstream=claude-auth-a failed (403")
    assert len(refused.chats) == 2  # once, and once more after the refresh
    assert refused.access_token == "access-1"  # which the fake granted
    # It rests: the next request goes straight to the other account.
    assert ask(gateway, "claude-auth").content[0].type == "text"
    gateway.wait_for_lines(r"model=claude-auth status=200 .* upstream=claude-auth-b attempts=1", 1)
    assert len(refused.chats) == 2
