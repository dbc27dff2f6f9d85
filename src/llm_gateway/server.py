"""Running an ASGI app with uvicorn on a socket we bound ourselves.

Binding first lets the caller ask for port 0 and learn the real port, and lets several
worker processes share one listening socket.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from llm_gateway.config import ConnectionLimits
from llm_gateway.guard import ConnectionSink, protocol_factory


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def listen_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class GatewayServer(uvicorn.Server):
    """uvicorn tuned for the gateway, which says when it is ready to take requests.

    Its HTTP protocol is uvicorn's httptools one with the gateway's connection limits
    (:mod:`llm_gateway.guard`), counted into ``connections``.

    ``on_started`` runs once the app's lifespan has started and the socket is being
    served, which is the moment a ``listening on`` line becomes true.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: ConnectionLimits,
        connections: ConnectionSink,
        log_level: str = "warning",
        on_started: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(
            uvicorn.Config(
                app,
                loop="uvloop",
                http=protocol_factory(limits, connections),
                lifespan="on",
                access_log=False,
                log_config=None,
                log_level=log_level,
            )
        )
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._on_started is not None:
            self._on_started()
