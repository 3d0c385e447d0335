"""Media figures: upload latency (5 MB JPEG), time to READY, API RSS under 10 uploads of 10 MiB.

    ./dev run python -m bench.media_upload [--redis-url redis://127.0.0.1:6379/1]

Starts `blog-graphql serve` on a fresh SQLite database in a temporary directory (and, with
`--redis-url`, a `blog-graphql worker` beside it, so processing runs outside the API process,
as in production). Prints one line per figure, with the issue's target.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from PIL import Image

from tests.live_server import clean_environment, free_port

UPLOAD = "mutation($file: Upload!) { uploadImage(file: $file) { id status } }"
STATUS = "query($id: ID!) { node(id: $id) { ... on Image { status } } }"


def noise_jpeg(target_bytes: int) -> bytes:
    """A JPEG of random pixels, about `target_bytes` long (noise does not compress)."""
    width = 1000
    while True:
        height = width * 3 // 4
        buffer = io.BytesIO()
        Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(
            buffer, "JPEG", quality=92
        )
        if len(buffer.getvalue()) >= target_bytes * 0.97:
            return buffer.getvalue()
        width = int(width * (target_bytes / len(buffer.getvalue())) ** 0.5) + 8


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def token_for(client: httpx.AsyncClient) -> str:
    register = """mutation { register(input: {email: "bench@example.com", username: "bench",
      password: "Bench-pass-1"}) { id } }"""
    login = """mutation { login(input: {login: "bench", password: "Bench-pass-1"}) {
      accessToken } }"""
    await client.post("/graphql", json={"query": register})
    body = (await client.post("/graphql", json={"query": login})).json()
    return str(body["data"]["login"]["accessToken"])


async def upload(client: httpx.AsyncClient, token: str, data: bytes) -> tuple[float, str]:
    files = {
        "operations": (None, orjson.dumps({"query": UPLOAD, "variables": {"file": None}})),
        "map": (None, orjson.dumps({"0": ["variables.file"]})),
        "0": ("photo.jpg", data, "image/jpeg"),
    }
    headers = {"Authorization": f"Bearer {token}", "GraphQL-Preflight": "1"}
    started = time.perf_counter()
    response = await client.post("/graphql", files=files, headers=headers)
    elapsed = time.perf_counter() - started
    body = response.json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return elapsed, str(body["data"]["uploadImage"]["id"])


async def wait_ready(client: httpx.AsyncClient, token: str, image_id: str) -> float:
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    while True:
        body = (await client.post("/graphql", json={"query": STATUS, "variables": {"id": image_id}},
                                  headers=headers)).json()  # fmt: skip
        status = body["data"]["node"]["status"]
        if status != "PROCESSING":
            if status != "READY":
                raise RuntimeError(f"image {image_id}: {status}")
            return time.perf_counter() - started
        await asyncio.sleep(0.02)


async def measure(base_url: str, pid: int) -> None:
    five = noise_jpeg(5 * 1000 * 1000)
    ten = noise_jpeg(int(9.8 * 1024 * 1024))
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        token = await token_for(client)
        latencies, processing = [], []
        for _ in range(5):
            latency, image_id = await upload(client, token, five)
            latencies.append(latency)
            processing.append(latency + await wait_ready(client, token, image_id))
        print(f"5 MB JPEG ({len(five) / 1e6:.1f} MB) upload: median "
              f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
              " (target < 300 ms)")  # fmt: skip
        print(f"upload to READY: median {statistics.median(processing):.2f} s, "
              f"max {max(processing):.2f} s (target < 3 s)")  # fmt: skip
        before = rss_mib(pid)
        peak = before
        done = asyncio.Event()

        async def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_mib(pid))
                await asyncio.sleep(0.01)

        sampler = asyncio.create_task(sample())
        started = time.perf_counter()
        results = await asyncio.gather(*(upload(client, token, ten) for _ in range(10)))
        done.set()
        await sampler
        print(f"10 concurrent uploads of {len(ten) / 2**20:.1f} MiB: "
              f"{time.perf_counter() - started:.2f} s; API RSS {before:.0f} -> peak {peak:.0f} MiB "
              f"(+{peak - before:.1f} MiB, target < 30)")  # fmt: skip
        await asyncio.gather(*(wait_ready(client, token, image_id) for _, image_id in results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis-url", help="process in a separate worker over this Redis")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        env = clean_environment(
            DATABASE_URL=f"sqlite:///{root / 'bench.db'}",
            MEDIA_ROOT=str(root / "media"),
            RATE_LIMIT_ENABLED="false",
            LOG_LEVEL="WARNING",
            **({"REDIS_URL": args.redis_url} if args.redis_url else {}),
        )
        subprocess.run([sys.executable, "-m", "blog_graphql", "migrate"], env=env, cwd=root,
                       check=True)  # fmt: skip
        worker = None
        if args.redis_url:
            worker = subprocess.Popen(
                [sys.executable, "-m", "blog_graphql", "worker", "--processes", "1"],
                env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "blog_graphql", "serve", "--port", str(port)],
            env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url)
            asyncio.run(measure(url, server.pid))
        finally:
            for process in (server, worker):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=30)


def wait_healthy(url: str, seconds: float = 180) -> None:
    """A patient wait: on a loaded machine a cold start takes a while."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


if __name__ == "__main__":
    main()
