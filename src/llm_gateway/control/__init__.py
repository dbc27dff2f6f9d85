"""The control socket's shared half: where it lives and what crosses it.

The supervisor serves the socket (:mod:`llm_gateway.supervisor.control`) and
``llm-gateway top`` reads it (:mod:`llm_gateway.dashboard.remote`); both speak
:mod:`.wire`, which carries the dashboard's own dataclasses through :mod:`.codec`.
"""
