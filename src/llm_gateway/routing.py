"""Which route serves a requested model name.

Exact names win over prefix patterns (``claude-*``); among patterns, the first in the
config file wins, so a config reads top to bottom like a ``match`` statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from llm_gateway.config import ModelRoute
from llm_gateway.errors import GatewayError
from llm_gateway.providers.base import Provider
from llm_gateway.untrusted import clip


@dataclass(frozen=True, slots=True)
class Target:
    route: ModelRoute
    provider: Provider


class Router:
    def __init__(self, targets: Iterable[Target]) -> None:
        self._exact: dict[str, Target] = {}
        self._prefixes: list[tuple[str, Target]] = []
        for target in targets:
            if target.route.is_prefix:
                self._prefixes.append((target.route.name[:-1], target))
            else:
                self._exact.setdefault(target.route.name, target)

    def resolve(self, model: str) -> Target:
        target = self._exact.get(model)
        if target is not None:
            return target
        for prefix, candidate in self._prefixes:
            if model.startswith(prefix):
                return candidate
        raise GatewayError(
            "validation", 404, f"The model '{clip(model)}' does not exist", param="model"
        )

    @property
    def providers(self) -> list[Provider]:
        return [t.provider for t in self._exact.values()] + [t.provider for _, t in self._prefixes]
