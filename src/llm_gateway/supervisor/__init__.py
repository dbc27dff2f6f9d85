"""The process model: one supervisor that owns the terminal, N workers that serve.

The supervisor binds the listening socket, starts the workers (each a separate
``python -m llm_gateway.supervisor.worker`` process inheriting the socket), merges the
metrics and log lines they send every 250 ms, restarts a worker that dies, and shows
everything either as plain log lines or through the dashboard console.
"""

from llm_gateway.supervisor.supervisor import ServeOptions, Supervisor, serve

__all__ = ["ServeOptions", "Supervisor", "serve"]
