from __future__ import annotations

import pytest

from llm_gateway.errors import GatewayError
from llm_gateway.sim.directives import Directives, parse_directives


def test_a_plain_model_has_no_directives() -> None:
    assert parse_directives("sim-fast") == Directives()


def test_every_directive_is_read() -> None:
    model = "sim+status=503+delay=10+stall=20+reset+garbage+tokens=5+tps=100+tool"
    assert parse_directives(model) == Directives(
        status=503,
        delay_ms=10,
        stall_ms=20,
        reset=True,
        garbage=True,
        tokens=5,
        tps=100,
        tool=True,
    )


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        ("sim+bogus", "unknown simulator directive 'bogus'"),
        ("sim+tokens", "unknown simulator directive 'tokens'"),
        ("sim+reset=1", "unknown simulator directive 'reset=1'"),
        ("sim+tokens=five", "simulator directive tokens='five' needs a whole number"),
        ("sim+delay=-5", "simulator directive delay='-5' needs a whole number"),
        ("sim+status=200", "simulator directive status=200 must be 400 to 599"),
        ("sim+tps=0", "simulator directive tps must be at least 1"),
        ("sim+tokens=100001", "simulator directive tokens must be at most 100000"),
        ("sim+tokens=" + "9" * 30, "simulator directive tokens must be at most 100000"),
        ("sim+delay=600001", "simulator directive delay must be at most 600000"),
        ("sim+stall=9999999", "simulator directive stall must be at most 600000"),
    ],
)
def test_a_bad_directive_is_a_validation_error_naming_it(model: str, problem: str) -> None:
    with pytest.raises(GatewayError) as caught:
        parse_directives(model)
    assert caught.value.error_type == "validation"
    assert caught.value.status == 400
    assert caught.value.param == "model"
    assert caught.value.message == f"{problem} in model {model!r}"


def test_the_limits_themselves_are_allowed() -> None:
    directives = parse_directives("sim+tokens=100000+delay=600000+stall=000600000")
    assert (directives.tokens, directives.delay_ms, directives.stall_ms) == (100000, 600000, 600000)


def test_a_number_too_long_for_int_is_over_the_limit() -> None:
    with pytest.raises(GatewayError) as caught:
        parse_directives("sim+tokens=" + "9" * 5000)
    assert caught.value.status == 400
    assert "tokens must be at most 100000" in caught.value.message


def test_a_huge_model_name_is_cut_in_the_error() -> None:
    with pytest.raises(GatewayError) as caught:
        parse_directives("sim+" + "x" * 1_000_000)
    assert len(caught.value.message) < 1000
    assert "more characters]" in caught.value.message
