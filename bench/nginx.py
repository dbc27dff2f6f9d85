"""nginx as a plain reverse proxy to the mock: the cost of a proxy hop written in C.

It is the floor the gateway is measured against, so it is set up as an operator would
for an LLM API: one worker process (like the gateway's one worker, on the same pinned
CPU), keep-alive to the upstream, response buffering off so a stream's chunks pass as
they arrive, and its access log on, as nginx ships (to a file, as the gateway's goes to
one in these runs). It only passes requests through: the translated paths are not its
to measure.

nginx cannot listen on port 0, so :func:`write_config` asks the kernel for a free port
once per run and every round's nginx listens there.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

CONFIG = "nginx.conf"


def write_config(run_dir: Path, mock_url: str) -> None:
    upstream = urlsplit(mock_url).netloc
    prefix = run_dir / "nginx"
    prefix.mkdir(exist_ok=True)
    temp = {name: prefix / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    temp_paths = "".join(f"    {name}_temp_path {path};\n" for name, path in temp.items())
    (run_dir / CONFIG).write_text(
        f"""daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {run_dir / "logs" / "nginx-error.log"} warn;
events {{ worker_connections 16384; }}
worker_rlimit_nofile 40000;
http {{
    access_log {run_dir / "logs" / "nginx-access.log"};
{temp_paths}    upstream mock {{
        server {upstream};
        keepalive 256;
    }}
    server {{
        listen 127.0.0.1:{_free_port()};
        location / {{
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }}
    }}
}}
""",
        encoding="utf-8",
    )


def command(run_dir: Path) -> list[str]:
    return [_binary(), "-p", str(run_dir / "nginx"), "-c", str(run_dir / CONFIG)]


def version() -> str:
    done = subprocess.run([_binary(), "-v"], capture_output=True, text=True)
    # "nginx version: nginx/1.22.1", on stderr.
    return (done.stderr or done.stdout).strip().rpartition("/")[2] or "?"


def _binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
