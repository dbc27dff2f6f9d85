"""Which pool serves a requested model name.

Exact names win over prefix patterns (``claude-*``); among patterns, the first in the
config file wins, so a config reads top to bottom like a ``match`` statement.
"""

from __future__ import annotations

from collections.abc import Iterable

from llm_gateway.errors import GatewayError
from llm_gateway.pools import Pool, Upstream
from llm_gateway.untrusted import clip


class Router:
    def __init__(self, pools: Iterable[Pool]) -> None:
        self._exact: dict[str, Pool] = {}
        self._prefixes: list[tuple[str, Pool]] = []
        for pool in pools:
            if pool.route.is_prefix:
                self._prefixes.append((pool.route.name[:-1], pool))
            else:
                self._exact.setdefault(pool.route.name, pool)

    def resolve(self, model: str) -> Pool:
        pool = self._exact.get(model)
        if pool is not None:
            return pool
        for prefix, candidate in self._prefixes:
            if model.startswith(prefix):
                return candidate
        raise GatewayError(
            "validation", 404, f"The model '{clip(model)}' does not exist", param="model"
        )

    @property
    def pools(self) -> list[Pool]:
        return [*self._exact.values(), *(pool for _, pool in self._prefixes)]

    @property
    def upstreams(self) -> list[Upstream]:
        return [upstream for pool in self.pools for upstream in pool.upstreams]
