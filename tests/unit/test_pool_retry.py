"""The retry policy: which failed attempts go to another upstream, and for how long."""

from __future__ import annotations

import pytest

from llm_gateway.errors import CredentialsRefused, GatewayError, validation_error
from llm_gateway.pools.retry import Verdict, judge, retry_after

NOW = 1_800_000_000.0


def upstream(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> GatewayError:
    return GatewayError("upstream", status, "x", upstream_headers=headers, upstream_body=body)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 529])
def test_rate_limits_and_server_errors_cool_down(status: int) -> None:
    assert judge(upstream(status), NOW) == Verdict("cooling")


def test_connect_errors_and_timeouts_before_the_headers_cool_down() -> None:
    assert judge(GatewayError("upstream", 502, "cannot connect"), NOW) == Verdict("cooling")
    assert judge(GatewayError("timeout", 504, "upstream timed out"), NOW) == Verdict("cooling")


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_rest_as_auth_failures(status: int) -> None:
    assert judge(upstream(status), NOW) == Verdict("auth")


def test_a_failed_credential_refresh_is_an_auth_failure_too() -> None:
    refused = CredentialsRefused("upstream", 502, "Kiro token refresh failed; sign in again")
    assert judge(refused, NOW) == Verdict("auth")


def test_only_kiros_monthly_quota_402_is_retried() -> None:
    quota = upstream(402, body=b'{"message":"m","reason":"MONTHLY_REQUEST_COUNT"}')
    assert judge(quota, NOW) == Verdict("quota")
    assert judge(upstream(402, body=b'{"reason":"SOMETHING_ELSE"}'), NOW) is None


@pytest.mark.parametrize("status", [400, 404, 409, 413, 422])
def test_the_clients_own_errors_are_passed_on(status: int) -> None:
    assert judge(upstream(status), NOW) is None
    assert judge(validation_error("bad"), NOW) is None


def test_our_own_internal_errors_are_not_retried() -> None:
    assert judge(GatewayError("internal", 500, "bug"), NOW) is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("86400", 600.0),
        ("Fri, 15 Jan 2027 08:00:30 GMT", 30.0),
        ("soon", None),
        ("nan", None),
        ("", None),
    ],
)
def test_retry_after_is_seconds_or_a_date_capped_at_ten_minutes(
    value: str, seconds: float | None
) -> None:
    assert retry_after({"retry-after": value}, NOW) == seconds  # NOW is 08:00:00 GMT


def test_retry_after_reaches_the_verdict() -> None:
    assert judge(upstream(429, {"retry-after": "7"}), NOW) == Verdict("cooling", 7.0)
    assert retry_after(None, NOW) is None
