"""The ASGI front of ``nbmlops serve``: MLflow's scoring app plus nbmlops routes and middleware.

Every request gets an ``x-request-id`` response header (the client's own when
it sent a sane one) and a body-size limit (413). ``POST /invocations`` and
MLflow's ``/ping``, ``/health`` and ``/version`` go to the MLflow scoring app
of the versions serving now; nbmlops adds:

- ``POST /feedback`` — late labels (one object, a list, or ``{"labels": [...]}``);
- ``POST /reload`` — re-read the aliases now;
- ``GET /metrics`` — Prometheus text format.

``/feedback`` and ``/reload`` require ``Authorization: Bearer TOKEN`` when the
service has a token. A request whose input does not fit the signature is
answered 400 with a message naming the column; a full log queue under the
``block`` policy is answered 503; neither is logged as a prediction.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from nbmlops.serving.service import CAPTURE, Capture, Service

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_RID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 404: "NOT_FOUND",
          413: "REQUEST_TOO_LARGE", 503: "TEMPORARILY_UNAVAILABLE"}


class TooLargeError(Exception):
    """The request body is over the limit."""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def request_id(scope: Scope) -> str:
    """The client's ``x-request-id`` when it is short and plain, else a new one."""
    given = _header(scope, b"x-request-id")
    return given if given and _RID.match(given) else uuid.uuid4().hex


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole request body, or :class:`TooLargeError` once it passes ``limit`` bytes."""
    declared = _header(scope, b"content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLargeError
    chunks, size = [], 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            break
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLargeError
        chunks.append(chunk)
        if not msg.get("more_body"):
            break
    return b"".join(chunks)


def error_body(status: int, message: str, **extra: Any) -> bytes:
    """An error in MLflow's shape (``error_code`` + ``message``)."""
    return json.dumps({"error_code": _CODES.get(status, "INTERNAL_ERROR"), "message": message,
                       **extra}).encode()


async def respond(send: Send, status: int, body: bytes, ctype: str = "application/json",
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send one complete response."""
    head = [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode()),
            *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


async def call_buffered(app: Any, scope: Scope, body: bytes) -> tuple[int, list[Any], bytes]:
    """Run an ASGI app on a known body; return its status, headers and body."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # no more body: wait for the app to finish
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    out: dict[str, Any] = {"status": 500, "headers": [], "body": []}

    async def send(msg: dict[str, Any]) -> None:
        if msg["type"] == "http.response.start":
            out["status"], out["headers"] = msg["status"], list(msg.get("headers", []))
        elif msg["type"] == "http.response.body":
            out["body"].append(msg.get("body", b""))

    await app(scope, receive, send)
    return out["status"], out["headers"], b"".join(out["body"])


class ServingApp:
    """The ASGI application of one :class:`~nbmlops.serving.service.Service`."""

    def __init__(self, service: Service, on_shutdown: Callable[[], Any] | None = None) -> None:
        self.service = service
        self.opts = service.opts
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one ASGI connection (lifespan, HTTP)."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self.on_shutdown)
            return
        if scope["type"] != "http":
            return
        rid = request_id(scope)
        tagged = _tagging(send, rid)
        path, method = scope["path"], scope["method"]
        if path == "/invocations" and method == "POST":
            await self._invoke(scope, receive, tagged, rid)
        elif path == "/metrics" and method == "GET":
            body, ctype = self.service.metrics.render()
            await respond(tagged, 200, body, ctype)
        elif path in ("/feedback", "/reload") and method == "POST":
            await self._admin(scope, receive, tagged, path)
        else:  # /ping, /health, /version, and MLflow's own 404/405
            await self.service.current.app(scope, receive, tagged)

    async def _invoke(self, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
        cap = Capture(rid, time.perf_counter())
        current = self.service.current  # this request stays on these versions
        cap.version = current.routing.primary.ref.version
        try:
            body = await read_body(scope, receive, self.opts.max_body)
        except TooLargeError:
            cap.status, cap.message = 413, f"request body over {self.opts.max_body} bytes"
            body = b""
        status, out = cap.status or 0, b""
        headers: list[Any] = []
        if not cap.status:
            token = CAPTURE.set(cap)
            try:
                status, headers, out = await call_buffered(current.app, scope, body)
            finally:
                CAPTURE.reset(token)
        if cap.status:  # nbmlops' own verdict replaces MLflow's wrapped message
            status = cap.status
            extra = {"column": cap.column} if cap.column else {}
            out, headers = error_body(status, cap.message or "", **extra), []
        self._count(cap, status)
        if headers:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": out})
        else:
            await respond(send, status, out)

    def _count(self, cap: Capture, status: int) -> None:
        m, name = self.service.metrics, self.service.name
        m.requests.labels(name, cap.version, str(status)).inc()
        m.latency.labels(name, cap.version).observe(time.perf_counter() - cap.t0)
        if status >= 400:
            kind = ("unavailable" if status == 503 else "bad_request" if status < 500
                    else "server")
            m.errors.labels(name, cap.version, kind).inc()

    async def _admin(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        token = self.opts.token
        given = _header(scope, b"authorization") or ""
        if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            await respond(send, 401, error_body(401, f"{path} needs Authorization: Bearer "
                                                "<token>"),
                          headers=[(b"www-authenticate", b"Bearer")])
            return
        try:
            body = await read_body(scope, receive, self.opts.max_body)
        except TooLargeError:
            await respond(send, 413, error_body(413, "request body too large"))
            return
        if path == "/reload":
            try:
                result = await asyncio.to_thread(self.service.reload)
            except Exception as exc:  # the registry is down or the new version does not load
                await respond(send, 503, error_body(503, f"reload failed, still serving "
                                                    f"{self.service.current.routing.versions()}: "
                                                    f"{exc}"))
                return
            await respond(send, 200, json.dumps(result).encode())
            return
        status, result = await asyncio.to_thread(self._feedback, body)
        await respond(send, status, json.dumps(result).encode())

    def _feedback(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            data = json.loads(body or b"null")
        except ValueError as exc:
            return 400, {"error_code": "BAD_REQUEST", "message": f"invalid JSON: {exc}"}
        items = data.get("labels") if isinstance(data, dict) and "labels" in data else data
        items = [items] if isinstance(items, dict) else items
        if not isinstance(items, list) or not items:
            return 400, {"error_code": "BAD_REQUEST", "message": "send {\"request_id\": ..., "
                         "\"label\": ...}, a list of them, or {\"labels\": [...]}"}
        try:
            n = self.service.feedback(items)
        except ValueError as exc:
            return 400, {"error_code": "BAD_REQUEST", "message": str(exc)}
        except Exception as exc:  # the labels queue is full
            return 503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": str(exc)}
        return 200, {"accepted": n}


def _tagging(send: Send, rid: str) -> Send:
    """``send`` that adds ``x-request-id`` to the response head."""
    header = (b"x-request-id", rid.encode())

    async def tagged(msg: dict[str, Any]) -> None:
        if msg["type"] == "http.response.start":
            msg = {**msg, "headers": [*msg.get("headers", []), header]}
        await send(msg)

    return tagged


async def _lifespan(receive: Receive, send: Send, on_shutdown: Callable[[], Any] | None) -> None:
    """Startup: nothing (the service is built first); shutdown: ``on_shutdown`` (flush the logs).

    uvicorn sends shutdown after the requests in flight have finished, and
    re-raises the signal it caught right after: the logs must be flushed here.
    """
    while True:
        msg = await receive()
        if msg["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif msg["type"] == "lifespan.shutdown":
            if on_shutdown is not None:
                await asyncio.to_thread(on_shutdown)
            await send({"type": "lifespan.shutdown.complete"})
            return
