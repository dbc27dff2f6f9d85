"""The simulator: a deterministic stand-in for an LLM upstream.

One engine (:mod:`llm_gateway.sim.engine`) turns a request into a *plan*: the status to
answer with, how long to wait, and the exact bytes to send, piece by piece. Two faces
render that plan: :mod:`llm_gateway.sim.server` onto real HTTP, and
:class:`llm_gateway.providers.sim.SimProvider` onto the in-process provider contract.
Because both send the plan's bytes, the gateway sees the same answer either way.

Directives in the model id (``sim+tokens=5+stall=200``) ask for a length, a speed or a
fault; ``docs/SIMULATOR.md`` lists them.
"""
