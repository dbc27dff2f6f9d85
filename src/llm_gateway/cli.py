"""The ``llm-gateway`` command: ``serve`` runs the gateway, ``sim`` the simulator upstream."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from llm_gateway import __version__
from llm_gateway.app import create_app
from llm_gateway.config import ConfigError, GatewayConfig, load_config
from llm_gateway.server import GatewayServer, bind_socket, is_loopback, listen_url

logger = logging.getLogger("llm_gateway")

LOG_LEVELS = ("debug", "info", "warning", "error")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-gateway",
        description="A fast gateway for LLM APIs (OpenAI and Anthropic) with a live terminal dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"llm-gateway {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument(
        "--config",
        metavar="FILE",
        help="TOML configuration (default: $LLM_GATEWAY_CONFIG, else every model goes to the simulator)",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="port to listen on; 0 picks a free one"
    )
    serve.add_argument(
        "--log-level", choices=LOG_LEVELS, default="info", help="default: %(default)s"
    )

    sim = commands.add_parser("sim", help="run the simulator as a standalone upstream HTTP server")
    sim.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    sim.add_argument("--port", type=int, default=8001, help="port to listen on; 0 picks a free one")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sim":
        from llm_gateway.sim.server import run

        run(args.host, args.port)
        return 0
    return serve(args)


def read_config(path: str | None) -> GatewayConfig:
    return load_config(path or os.environ.get("LLM_GATEWAY_CONFIG") or None)


def serve(args: argparse.Namespace) -> int:
    try:
        config = read_config(args.config)
    except ConfigError as exc:
        print(f"llm-gateway: config error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stdout,
    )
    if not config.api_keys and not is_loopback(args.host):
        logger.warning(
            "No API keys are configured and %s is not a loopback address: anyone who can reach it can use it",
            args.host,
        )
    sock = bind_socket(args.host, args.port)
    url = listen_url(sock)

    def announce() -> None:
        print(f"llm-gateway {__version__} listening on {url} (config: {config.source})", flush=True)

    server = GatewayServer(create_app(config), log_level=args.log_level, on_started=announce)
    asyncio.run(server.serve(sockets=[sock]))
    return 0
