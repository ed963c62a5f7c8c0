"""What wraps every API request (not the `/_sandbox/*` control routes): latency, faults, request log.

It runs outside Starlette's own middleware so that it sees the server's raw `send`, which it needs to drop
a connection: under uvicorn the transport is closed before any byte of a response is written, so the
client sees the server disconnect without a response (httpx: RemoteProtocolError). In-process (httpx's
ASGITransport) there is no transport, so it raises httpx.RemoteProtocolError into the caller instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from idconsole.sandbox.faults import Fault
from idconsole.sandbox.web import ITEMS_KEY

CONTROL_PREFIX = "/_sandbox"


async def drop_connection(send: Any) -> None:
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    transport.close()
    # let uvicorn see the disconnect before we return, so it neither answers 500 nor logs an error
    await asyncio.sleep(0)


async def drain(receive: Any) -> None:
    """Read the rest of the request. Closing a socket whose request body is still arriving makes the
    kernel answer the late bytes with a reset (the client sees ECONNRESET, not a clean disconnect)."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def send_fault(send: Any, fault: Fault) -> None:
    body = fault.body.encode("utf-8")
    headers = [(b"content-type", f"{fault.content_type}; charset=utf-8".encode("latin-1"))]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in fault.headers.items()]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": fault.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def handle(app: Any, sandbox: Any, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Run one API request through `app` with the sandbox's latency, faults and logging."""
    method, path = scope["method"], scope["path"]
    seen: dict[str, Any] = {"status": None, "body_bytes": 0}

    async def counting_receive() -> Any:
        message = await receive()
        seen["body_bytes"] += len(message.get("body", b""))
        return message

    async def logging_send(message: Any) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
        await send(message)

    async def swallow(message: Any) -> None:
        if message["type"] == "http.response.start":
            seen["handler_status"] = message["status"]

    def log(status: int | None, fault: Fault | None) -> None:
        sandbox.log.add(method, path, scope.get("query_string", b""), status, seen["body_bytes"],
                        scope.get(ITEMS_KEY), fault.describe() if fault else None)  # fmt: skip

    fault = sandbox.faults.pick(method, path)
    if sandbox.config.latency_ms:
        await asyncio.sleep(sandbox.config.latency_ms / 1000)
    if fault is None or (fault.status is None and not fault.reset):
        if fault is not None and fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        try:
            await app(scope, counting_receive, logging_send)
        finally:
            log(seen["status"], fault)
        return
    if fault.after_apply:
        await app(scope, counting_receive, swallow)
    else:
        await drain(counting_receive)
    if fault.delay_ms:
        await asyncio.sleep(fault.delay_ms / 1000)
    log(None if fault.reset else fault.status, fault)
    if fault.reset:
        await drop_connection(send)
    else:
        await send_fault(send, fault)
