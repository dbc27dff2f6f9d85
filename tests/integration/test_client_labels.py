"""Each request's record names its client: the label of the key it sent, from either SDK."""

from __future__ import annotations

import anthropic
import openai
import pytest

from llm_gateway.app import create_app
from llm_gateway.config import ClientKey, GatewayConfig, ModelRoute
from llm_gateway.metrics.interval import IntervalRecorder
from llm_gateway.metrics.record import RequestRecord
from tests.in_process import serving

ALICE = "sk-alice-0000000000000001"
UNNAMED = "sk-unnamed-000000000000a1b2"


async def test_records_carry_the_label_of_the_key_or_unauthenticated() -> None:
    config = GatewayConfig(
        models=(ModelRoute(name="*", provider="sim"),),
        api_keys=(UNNAMED,),
        keys=(ClientKey("alice", ALICE),),
    )
    records: list[RequestRecord] = []
    async with serving(create_app(config, IntervalRecorder(access_log=records.append))) as url:
        messages = [{"role": "user", "content": "hi"}]
        async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=ALICE) as alice:
            await alice.chat.completions.create(model="m", messages=messages)  # type: ignore[arg-type]
        async with anthropic.AsyncAnthropic(base_url=url, api_key=UNNAMED) as unnamed:
            await unnamed.messages.create(model="m", max_tokens=8, messages=messages)  # type: ignore[arg-type]
        async with openai.AsyncOpenAI(
            base_url=f"{url}/v1", api_key="sk-wrong", max_retries=0
        ) as stranger:
            with pytest.raises(openai.AuthenticationError):
                await stranger.chat.completions.create(model="m", messages=messages)  # type: ignore[arg-type]

    assert [(r.client, r.status) for r in records] == [
        ("alice", 200),
        ("key-…a1b2", 200),
        ("(unauthenticated)", 401),
    ]
