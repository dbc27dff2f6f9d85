"""The six request paths a gateway is measured on, and the request bodies they send.

A path is the API the client speaks and the API of the upstream the gateway calls for
it: the same on a pass-through path, different on a translated one. The model name picks
the upstream (both the gateway's and LiteLLM's configs route ``bench-openai`` to the
mock's OpenAI endpoint, ``bench-anthropic`` to its Anthropic one and ``bench-responses``
to its Responses one, which the gateway reaches with ``responses = "pass-through"``). The
translated Responses path is the gateway's Responses -> Chat Completions translation.

Direct-to-mock runs have no gateway to translate, so a path's baseline is the direct run
of the upstream's own pass-through path: what the gateway itself waited for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import orjson

Api = Literal["openai", "anthropic", "responses"]

ENDPOINTS: dict[Api, str] = {
    "openai": "/v1/chat/completions",
    "anthropic": "/v1/messages",
    "responses": "/v1/responses",
}
MODELS: dict[Api, str] = {
    "openai": "bench-openai",
    "anthropic": "bench-anthropic",
    "responses": "bench-responses",
}
NAMES: dict[Api, str] = {"openai": "OpenAI", "anthropic": "Anthropic", "responses": "Responses"}
PROMPT = "Say hello."
MAX_TOKENS = 128


@dataclass(frozen=True)
class Path:
    client_api: Api
    upstream_api: Api

    @property
    def key(self) -> str:
        return f"{self.client_api}-{'pass' if self.is_pass_through else 'translated'}"

    @property
    def label(self) -> str:
        client, upstream = NAMES[self.client_api], NAMES[self.upstream_api]
        if self.is_pass_through:
            return f"{client} pass-through"
        return f"{client} → {upstream} translated"

    @property
    def is_pass_through(self) -> bool:
        return self.client_api == self.upstream_api

    @property
    def endpoint(self) -> str:
        return ENDPOINTS[self.client_api]

    @property
    def model(self) -> str:
        return MODELS[self.upstream_api]

    @property
    def baseline(self) -> Path:
        """The direct-to-mock path this one is compared with."""
        return Path(self.upstream_api, self.upstream_api)

    def body(self, *, stream: bool) -> bytes:
        request: dict[str, object] = {"model": self.model}
        if self.client_api == "responses":
            request.update(max_output_tokens=MAX_TOKENS, input=PROMPT)
        else:
            request.update(max_tokens=MAX_TOKENS, messages=[{"role": "user", "content": PROMPT}])
        if stream:
            request["stream"] = True
        return orjson.dumps(request)


PATHS = (
    Path("openai", "openai"),
    Path("openai", "anthropic"),
    Path("anthropic", "anthropic"),
    Path("anthropic", "openai"),
    Path("responses", "responses"),
    Path("responses", "openai"),
)
DIRECT_PATHS = tuple(path for path in PATHS if path.is_pass_through)
