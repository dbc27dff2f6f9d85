"""Upstream pools: several upstreams behind one model name, and when to try another."""

from llm_gateway.pools.pool import Pool, Upstream

__all__ = ["Pool", "Upstream"]
