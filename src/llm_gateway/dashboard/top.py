"""``llm-gateway top``: the dashboard, attached to a running gateway through its socket.

The same :class:`~.app.DashboardApp` as ``serve --dashboard``, over a
:class:`~.remote.RemoteFeed` and as a viewer: ``q`` detaches and leaves the gateway
running, and ``d`` (plain log lines, which belong to the gateway's own terminal) is not
offered. When the gateway ends the conversation (it stops, or drops this viewer), the
app ends, Textual gives the terminal back, and one line says why.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from llm_gateway.dashboard.app import DashboardApp
from llm_gateway.dashboard.remote import AttachError, RemoteFeed


async def watch(path: Path) -> int:
    """Show the gateway at ``path`` until the user detaches or it goes; the exit status."""
    try:
        feed = await RemoteFeed.attach(path)
    except AttachError as exc:
        print(f"llm-gateway top: {exc}", file=sys.stderr)
        return 1
    app = DashboardApp(feed, owns_gateway=False)
    following = asyncio.create_task(feed.follow())
    following.add_done_callback(lambda _: app.exit("quit"))
    try:
        await app.run_async()
    finally:
        feed.close()
        following.cancel()
    if following.cancelled() or not following.done():
        return app.return_code or 0
    bye = following.result()
    print(f"llm-gateway top: {bye.reason}", flush=True)
    return 0 if bye.gateway_stopped else 1
