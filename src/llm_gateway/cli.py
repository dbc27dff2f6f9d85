"""The ``llm-gateway`` command: ``serve`` runs the gateway, ``top`` watches a running one,
``sim`` runs the simulator upstream."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from llm_gateway import __version__
from llm_gateway.config import ConfigError, GatewayConfig, load_config

LOG_LEVELS = ("debug", "info", "warning", "error")


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (and exit status 2), not the usage too.

    The usage is 20 lines that hide the one that matters; ``--help`` still shows it.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
        "--port", type=_port, default=8000, help="port to listen on; 0 picks a free one"
    )
    serve.add_argument(
        "--log-level", choices=LOG_LEVELS, default="info", help="default: %(default)s"
    )
    serve.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        metavar="N",
        help="worker processes serving requests (default: %(default)s)",
    )
    serve.add_argument(
        "--grace-period",
        type=_seconds,
        default=10.0,
        metavar="S",
        help="seconds in-flight requests get to finish on shutdown (default: %(default)g)",
    )
    serve.add_argument(
        "--restart-stalled-after",
        type=_restart_after,
        default=30.0,
        metavar="S",
        help="restart a worker that has sent no report for this long; one silent for 3 s is"
        " shown as stalled (default: %(default)g)",
    )
    serve.add_argument(
        "--dashboard",
        action="store_true",
        help="start with the live dashboard showing (needs a terminal)",
    )
    serve.add_argument(
        "--supervisor-priority",
        "--dashboard-priority",
        dest="supervisor_priority",
        choices=("idle", "normal"),
        default="idle",
        help="CPU priority of the supervisor's own work (the dashboard, the log lines, the"
        " feed of `top`): idle never delays a request but lags while every CPU is busy"
        " serving; normal keeps it current and takes CPU time from the workers"
        " (default: %(default)s)",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="send demo traffic to the gateway itself; without --config, use the demo models",
    )

    control = serve.add_mutually_exclusive_group()
    control.add_argument(
        "--control-socket",
        metavar="PATH",
        help="where `llm-gateway top` attaches (default:"
        " $XDG_RUNTIME_DIR/llm-gateway/PORT.sock, else a private directory in the temp dir)",
    )
    control.add_argument(
        "--no-control-socket",
        action="store_true",
        help="open no control socket: `llm-gateway top` cannot attach",
    )
    serve.add_argument(
        "--viewer-buffer",
        type=_byte_size,
        default="4M",
        metavar="SIZE",
        help="bytes that may wait for one `top` before it is dropped as stalled, e.g. 512K"
        " (default: %(default)s)",
    )

    top = commands.add_parser("top", help="attach the live dashboard to a running gateway")
    where = top.add_mutually_exclusive_group()
    where.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="the gateway's port: find its control socket in the default place"
        " (default: %(default)s)",
    )
    where.add_argument(
        "--socket", metavar="PATH", help="the gateway's control socket, as `serve` printed it"
    )
    top.add_argument(
        "--priority",
        choices=("idle", "normal"),
        default="idle",
        help="CPU priority of the dashboard, as serve's --supervisor-priority: idle never"
        " delays a request on this machine but pauses while every CPU is busy serving"
        " (default: %(default)s)",
    )

    sim = commands.add_parser("sim", help="run the simulator as a standalone upstream HTTP server")
    sim.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    sim.add_argument(
        "--port", type=_port, default=8001, help="port to listen on; 0 picks a free one"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sim":
        from llm_gateway.sim.server import run

        try:
            run(args.host, args.port)
        except OSError as exc:
            print(
                f"llm-gateway: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
                file=sys.stderr,
            )
            return 1
        return 0
    if args.command == "top":
        return top(args)
    return serve(args)


def read_config(path: str | None, *, demo: bool = False) -> GatewayConfig:
    path = path or os.environ.get("LLM_GATEWAY_CONFIG") or None
    if path is None and demo:
        from llm_gateway.demo import demo_config

        return demo_config()
    return load_config(path)


def serve(args: argparse.Namespace) -> int:
    # The console reads keys from stdin and prints plain logs on stdout, and Textual draws
    # the dashboard on stderr: all three must be the terminal.
    interactive = sys.stdin.isatty() and sys.stdout.isatty() and sys.stderr.isatty()
    if args.dashboard and not interactive:
        print(
            "llm-gateway: --dashboard needs a terminal on stdin, stdout and stderr",
            file=sys.stderr,
        )
        return 2
    try:
        config = read_config(args.config, demo=args.demo)
    except ConfigError as exc:
        print(f"llm-gateway: config error: {exc}", file=sys.stderr)
        return 2
    from llm_gateway.supervisor import ServeOptions
    from llm_gateway.supervisor import serve as supervise

    return supervise(
        ServeOptions(
            config=config,
            host=args.host,
            port=args.port,
            workers=args.workers,
            grace_period_s=args.grace_period,
            log_level=logging.getLevelNamesMapping()[args.log_level.upper()],
            console=interactive,
            dashboard=args.dashboard,
            supervisor_at_idle_priority=args.supervisor_priority == "idle",
            demo=args.demo,
            restart_stalled_after_s=args.restart_stalled_after,
            control=not args.no_control_socket,
            control_socket=Path(args.control_socket) if args.control_socket else None,
            viewer_buffer_bytes=args.viewer_buffer,
        )
    )


def top(args: argparse.Namespace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty() and sys.stderr.isatty()):
        print(
            "llm-gateway top: needs a terminal on stdin, stdout and stderr"
            " (over ssh: ssh -t HOST llm-gateway top)",
            file=sys.stderr,
        )
        return 2
    import asyncio

    from llm_gateway.control.paths import default_socket_path
    from llm_gateway.dashboard.top import watch
    from llm_gateway.supervisor.processes import run_at_idle_priority

    if args.priority == "idle":
        # On the gateway's machine, drawing competes with its workers for the CPU.
        run_at_idle_priority()
    path = Path(args.socket) if args.socket else default_socket_path(args.port)
    return asyncio.run(watch(path))


def _positive_int(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _port(text: str) -> int:
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535, not {value}")
    return value


def _byte_size(text: str) -> int:
    """``65536``, ``512K`` or ``4M``: a size in bytes, at least 4 KiB."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    scale = units.get(text[-1:].upper(), 1)
    try:
        value = int(text[:-1] if scale > 1 else text) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text} (e.g. 65536, 512K, 4M)") from None
    if value < 4096:
        raise argparse.ArgumentTypeError(f"must be at least 4K, not {text}")
    return value


def _restart_after(text: str) -> float:
    """A worker reports four times a second: less than a second of silence is no stall."""
    value = _seconds(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 second, not {text}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text}") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0, not {text}")
    return value
