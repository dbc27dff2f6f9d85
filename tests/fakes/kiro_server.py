"""A fake Kiro upstream on 127.0.0.1: the real binary framing, scripted answers.

It serves ``POST /generateAssistantResponse`` (Kiro's chat endpoint), ``GET
/getUsageLimits`` (an account's credits, answered from :attr:`FakeKiro.usage`) and both token
refresh endpoints (``/refreshToken`` for social sign-in, ``/token`` for OIDC), in an
aiohttp server on its own thread and event loop, so both async unit tests and tests that
drive a gateway subprocess with the synchronous SDKs can use it.

Only :attr:`FakeKiro.access_token` is accepted (anything else gets 403, as an expired
token does); a refresh with :attr:`FakeKiro.refresh_token` rotates both. Answers are
taken from :attr:`FakeKiro.script` in order; with the script empty, Kiro "echoes" the
user's message. Every request is recorded for the test to inspect.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from llm_gateway.providers.kiro.eventstream import encode_frame
from tests.fakes.serving import Received, serving

TARGET = "AmazonCodeWhispererStreamingService.GenerateAssistantResponse"


def event_frame(event_type: str, payload: dict[str, Any]) -> bytes:
    return encode_frame(
        orjson.dumps(payload),
        {
            ":event-type": event_type,
            ":content-type": "application/json",
            ":message-type": "event",
        },
    )


def exception_frame(exception_type: str, message: str) -> bytes:
    return encode_frame(
        orjson.dumps({"message": message}),
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
    )


def text_frames(*pieces: str) -> list[bytes]:
    return [event_frame("assistantResponseEvent", {"content": piece}) for piece in pieces]


def tool_frames(name: str, tool_use_id: str, fragments: Sequence[str]) -> list[bytes]:
    """A tool call as Kiro streams it: the input in fragments, then ``stop``."""
    frames = [
        event_frame("toolUseEvent", {"name": name, "toolUseId": tool_use_id, "input": fragment})
        for fragment in fragments
    ]
    frames.append(
        event_frame("toolUseEvent", {"name": name, "toolUseId": tool_use_id, "stop": True})
    )
    return frames


def closing_frames(credits: float = 0.25, context_percent: float = 12.5) -> list[bytes]:
    """What Kiro sends after the answer: metering and context usage."""
    return [
        event_frame("meteringEvent", {"unit": "credit", "unitPlural": "credits", "usage": credits}),
        event_frame("contextUsageEvent", {"contextUsagePercentage": context_percent}),
    ]


EMAIL = "someone@example.com"
"""In every usage answer, as Kiro's is: the gateway must never log or show it."""


def usage_answer(
    used: float = 250.5, limit: float = 1000.0, resets_at: int = 1_796_083_200
) -> dict[str, Any]:
    """A ``getUsageLimits`` answer as Kiro sends it (``resets_at``: epoch seconds)."""
    return {
        "daysUntilReset": 3,
        "nextDateReset": resets_at,
        "subscriptionInfo": {"subscriptionTitle": "KIRO PRO", "type": "Q_DEVELOPER_STANDALONE_PRO"},
        "usageBreakdownList": [
            {
                "resourceType": "CREDIT",
                "currentUsageWithPrecision": used,
                "usageLimitWithPrecision": limit,
                "nextDateReset": resets_at,
                "freeTrialInfo": {
                    "currentUsageWithPrecision": 0.0,
                    "usageLimitWithPrecision": 0.0,
                    "freeTrialStatus": "EXPIRED",
                },
            }
        ],
        "userInfo": {"email": EMAIL, "userId": "user-1"},
    }


@dataclass
class Stream:
    """A 200 answer: ``frames`` written ``chunk`` bytes at a time (whole frames if None)."""

    frames: list[bytes]
    chunk: int | None = None
    hang: bool = False
    """After the frames, send nothing more until the server stops (for read timeouts)."""


@dataclass
class Failure:
    status: int
    message: str = "failure"
    reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


Answer = Stream | Failure


@dataclass
class FakeKiro:
    access_token: str = "access-0"
    refresh_token: str = "refresh-0"
    client_id: str = "client-id"
    client_secret: str = "client-secret"
    profile_arn: str = "arn:aws:codewhisperer:us-east-1:000000000000:profile/FAKE"
    base_url: str = ""
    script: deque[Answer] = field(default_factory=deque)
    refresh_failure: Failure | None = None
    usage: dict[str, Any] | Failure = field(default_factory=lambda: usage_answer())
    """What ``GET /getUsageLimits`` answers."""
    chats: list[Received] = field(default_factory=list)
    refreshes: list[Received] = field(default_factory=list)
    usage_reads: list[Received] = field(default_factory=list)
    _rotations: int = 0
    _stopping: asyncio.Event | None = None

    def queue(self, *answers: Answer) -> None:
        self.script.extend(answers)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/generateAssistantResponse", self._chat)
        app.router.add_post("/refreshToken", self._refresh)
        app.router.add_post("/token", self._refresh)
        app.router.add_get("/getUsageLimits", self._usage)
        return app

    async def _usage(self, request: web.Request) -> web.Response:
        self.usage_reads.append(Received(request.path_qs, dict(request.headers), {}))
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return _failure(Failure(403, "The bearer token included in the request is invalid."))
        if isinstance(self.usage, Failure):
            return _failure(self.usage)
        return web.json_response(self.usage, dumps=lambda data: orjson.dumps(data).decode())

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        self.chats.append(Received(request.path, dict(request.headers), body))
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return _failure(Failure(403, "The bearer token included in the request is invalid."))
        if request.headers.get("x-amz-target") != TARGET:
            return _failure(Failure(400, "unknown operation"))
        answer = self.script.popleft() if self.script else _echo(body)
        if isinstance(answer, Failure):
            return _failure(answer)
        response = web.StreamResponse(
            headers={"Content-Type": "application/vnd.amazon.eventstream"}
        )
        await response.prepare(request)
        data = b"".join(answer.frames)
        step = answer.chunk or 0
        if step:
            for start in range(0, len(data), step):
                await response.write(data[start : start + step])
        else:
            for frame in answer.frames:
                await response.write(frame)
        if answer.hang:
            assert self._stopping is not None
            await self._stopping.wait()
        await response.write_eof()
        return response

    async def _refresh(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        self.refreshes.append(Received(request.path, dict(request.headers), body))
        if self.refresh_failure is not None:
            return _failure(self.refresh_failure)
        if request.path == "/token":
            valid = (
                body.get("grantType") == "refresh_token"
                and body.get("clientId") == self.client_id
                and body.get("clientSecret") == self.client_secret
            )
        else:
            valid = True
        if not valid or body.get("refreshToken") != self.refresh_token:
            return _failure(Failure(401, "Invalid refresh token", "INVALID_GRANT"))
        self._rotations += 1
        self.access_token = f"access-{self._rotations}"
        self.refresh_token = f"refresh-{self._rotations}"
        answer: dict[str, Any] = {
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "expiresIn": 3600,
        }
        if request.path == "/refreshToken":
            answer["profileArn"] = self.profile_arn
        return web.json_response(answer, dumps=lambda data: orjson.dumps(data).decode())


def _failure(failure: Failure) -> web.Response:
    return web.Response(
        status=failure.status,
        headers=failure.headers,
        body=orjson.dumps({"message": failure.message, "reason": failure.reason}),
        content_type="application/json",
    )


def _echo(body: dict[str, Any]) -> Stream:
    """Kiro's default answer: repeat the user's words and count the images it received."""
    message = body["conversationState"]["currentMessage"]["userInputMessage"]
    text = f"echo: {message['content'][-200:]}"
    if message.get("images"):
        text += f" [{len(message['images'])} image(s)]"
    return Stream(text_frames(text[: len(text) // 2], text[len(text) // 2 :]) + closing_frames())


@contextmanager
def running_fake_kiro() -> Iterator[FakeKiro]:
    """Serve a :class:`FakeKiro` on 127.0.0.1 (OS-chosen port) for the ``with`` block."""
    fake = FakeKiro()
    with serving(fake.app(), "fake-kiro") as served:
        fake.base_url = served.base_url
        fake._stopping = served.stopping
        yield fake
