"""Reading a Kiro account's credits from its usage answer."""

from __future__ import annotations

import pytest

from llm_gateway.metrics.snapshot import Credits
from llm_gateway.providers.kiro.usage import parse_usage
from tests.fakes.kiro_server import EMAIL, usage_answer

NOW = 1_800_000_000.0


def test_plan_credits_reset_and_title() -> None:
    credits = parse_usage(usage_answer(used=250.5, limit=1000.0, resets_at=1_800_086_400), NOW)
    assert credits == Credits(used=250.5, limit=1000.0, resets_at=1_800_086_400.0, plan="KIRO PRO")
    assert EMAIL not in repr(credits)


def test_free_trial_credits_count_with_the_plans() -> None:
    answer = usage_answer(used=10.0, limit=50.0)
    answer["usageBreakdownList"][0]["freeTrialInfo"] = {
        "currentUsageWithPrecision": 100.0,
        "usageLimitWithPrecision": 500.0,
    }
    assert (parse_usage(answer, NOW).used, parse_usage(answer, NOW).limit) == (110.0, 550.0)


def test_days_until_reset_when_no_date_is_given() -> None:
    answer = usage_answer()
    del answer["nextDateReset"], answer["usageBreakdownList"][0]["nextDateReset"]
    assert parse_usage(answer, NOW).resets_at == NOW + 3 * 86400


@pytest.mark.parametrize(
    "answer",
    [[], {}, {"usageBreakdownList": [{"resourceType": "SPEC", "currentUsageWithPrecision": 1}]}],
)
def test_an_answer_without_credits_is_an_error_not_zero(answer: object) -> None:
    with pytest.raises(ValueError):
        parse_usage(answer, NOW)
