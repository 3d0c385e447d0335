"""Headless Chromium driven over the DevTools protocol, with every non-loopback request blocked.

Debian's `chromium` runs with a fresh profile; the DevTools `Fetch` domain sees each
request the page makes, lets loopback ones through and fails (and records) the rest, and
DNS resolves nothing but loopback, so a page that needs the internet shows it here.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
DEVTOOLS_URL = re.compile(r"DevTools listening on (ws://\S+)")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--remote-debugging-port=0",
]


@dataclass
class Page:
    """One tab: send DevTools commands, collect what the page complained about."""

    socket: ClientConnection
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _waiting: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _replies: set[asyncio.Task[dict[str, Any]]] = field(default_factory=set)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = future
        await self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        return await asyncio.wait_for(future, 30)

    async def evaluate(self, expression: str) -> Any:
        reply = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return reply.get("result", {}).get("value")

    async def wait_for(self, expression: str, seconds: float = 30) -> Any:
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.2)
        raise TimeoutError(f"page never satisfied: {expression}")

    async def click(self, selector: str) -> None:
        box = await self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )

    async def press(self, key: str, code: int, modifiers: int = 0) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=f"Key{key.upper()}" if len(key) == 1 else key,
                windowsVirtualKeyCode=code,
                modifiers=modifiers,
            )

    async def listen(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if "id" in message:
                self._waiting.pop(message["id"]).set_result(message.get("result", {}))
            else:
                await self._on_event(message["method"], message.get("params", {}))

    async def _on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Fetch.requestPaused":
            await self._filter(params)
        elif method == "Runtime.exceptionThrown":
            self.console_errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.console_errors.append(params["entry"]["text"])
        elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
            self.console_errors.append(str(params.get("args")))

    async def _filter(self, params: dict[str, Any]) -> None:
        url = params["request"]["url"]
        request_id = params["requestId"]
        host = urlsplit(url).hostname or ""
        if host in LOOPBACK:
            reply = self.send("Fetch.continueRequest", requestId=request_id)
        else:
            self.blocked.append(url)
            reply = self.send(
                "Fetch.failRequest", requestId=request_id, errorReason="BlockedByClient"
            )
        # Answered from a task: this runs inside the loop that reads the replies.
        task = asyncio.create_task(reply)
        self._replies.add(task)
        task.add_done_callback(self._replies.discard)


async def _devtools_url(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    for _ in range(200):
        line = await asyncio.to_thread(process.stderr.readline)
        if match := DEVTOOLS_URL.search(line):
            return match.group(1)
    raise RuntimeError("chromium did not start its DevTools server")


def _start_chromium(profile: str) -> subprocess.Popen[str]:
    assert CHROMIUM, "install Debian's chromium"
    return subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its helper processes end with it, by process group
    )


@asynccontextmanager
async def offline_page() -> AsyncIterator[Page]:
    """A blank tab in a fresh headless Chromium that can reach loopback only."""
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = _start_chromium(profile)
        try:
            browser_url = await _devtools_url(process)
            port = urlsplit(browser_url).port
            async with httpx.AsyncClient() as http:
                targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
            page_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with connect(page_url, max_size=None) as socket:
                page = Page(socket)
                listener = asyncio.create_task(page.listen())
                for domain in ("Page", "Runtime", "Log"):
                    await page.send(f"{domain}.enable")
                await page.send("Fetch.enable", patterns=[{"urlPattern": "*"}])
                try:
                    yield page
                finally:
                    listener.cancel()
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
            if process.stderr:
                process.stderr.close()


def requires_chromium(test: Any) -> Any:
    """Like `requires_postgres`: CI installs chromium and runs with FAIL_ON_SKIP=1."""
    import pytest

    return pytest.mark.skipif(not CHROMIUM, reason="install Debian's chromium to run this")(test)
