"""Live comments benchmark: idle-subscriber memory and delivery latency (not a test).

    uv run python -m bench.live_bench [--idle 5000] [--subscribers 1000] [--rounds 40]
                                      [--replay 1000] [--replay-only]
                                      [--redis redis://127.0.0.1:6379/6] [--deflate]

Starts one real uvicorn instance (the test app: the real schema plus a `listening`
probe) on a fresh SQLite database holding one user and one post, then:
1. opens `--idle` WebSocket connections, each with a `commentAdded` subscription on the
   post, and reports the server's RSS before and after;
2. opens `--subscribers` `commentAdded` subscriptions on the post, writes `--rounds`
   comments through the real `addComment` over HTTP (the post's author commenting, so no
   notice email is queued), and reports the latency from the mutation's response to
   each delivery (p50, p99);
3. replay: a `commentEvents` subscriber notes its cursor and disconnects, `--replay`
   comments are written while it is away, and it resumes with `after:` that cursor; the
   time from its `subscribe` message to the last missed event received (several times).
It runs once in-process and, with `--redis`, once more through Redis. With `--deflate` the
server accepts permessage-deflate (WS_PER_MESSAGE_DEFLATE), to weigh its memory; with
`--rounds 0` only the idle memory is measured; `--idle-present` holds the idle
subscriptions (on another post) during the latency run instead; `--no-sharing` executes
each event once per subscriber (LIVE_SHARED_EXECUTION=false). The server's CPU time per
event is reported beside the latencies: unlike them, it hardly depends on what else
loads the machine. Clients run in
separate processes; `time.monotonic()` is one clock for all of them on Linux. Comments
are published after the commit but before the response is written, so a delivery can
land before the response: latency from the response is then negative.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from blog_graphql.accounts.models import User
from blog_graphql.accounts.passwords import hash_password_sync
from blog_graphql.accounts.sessions import open_session
from blog_graphql.comments.events import post_channel
from blog_graphql.config.settings import load_settings
from blog_graphql.db import migrate
from blog_graphql.db.database import Database
from blog_graphql.posts import service as posts
from blog_graphql.relay.ids import encode_id
from tests.live_server import clean_environment, live_server

REPO = Path(__file__).resolve().parents[1]
CLIENT_PROCESSES = 4
CONNECT_BATCH = 100
EARLY_SECONDS = 3.0
COMMENT_ADDED = (
    "subscription($post: ID!) { commentAdded(postId: $post) { id content author { username } } }"
)
ADD_COMMENT = (
    "mutation($post: ID!, $content: String!) "
    "{ addComment(input: {postId: $post, content: $content}) { id } }"
)
LISTENING = "query($c: String!) { listening(channel: $c) }"
COMMENT_EVENTS = (
    "subscription($post: ID!, $after: String) { commentEvents(postId: $post, after: $after) "
    "{ kind cursor commentId comment { id content author { username } } } }"
)
REPLAY_WRITERS = 4
REPLAY_TRIES = 3


async def seed(database_url: str) -> tuple[int, int, str]:
    """One author and two posts; the posts' ids (the one written to, and a quiet one for
    idle subscriptions) and the author's `Authorization`."""
    settings = load_settings(database_url=database_url, _env_file=None)
    db = Database.from_url(database_url)
    try:
        async with db.transaction() as session:
            password = hash_password_sync("Bench12345", 4)
            author = User(username="bench", email="bench@example.com", password_hash=password)
            session.add(author)
        post = await posts.create_post(
            db, author, posts.NewPost(title="Live", content="Hi", published=True)
        )
        quiet = await posts.create_post(
            db, author, posts.NewPost(title="Quiet", content="Hi", published=True)
        )
        async with db.transaction() as session:
            pair = open_session(session, settings, user_id=author.id)
    finally:
        await db.dispose()
    return post.id, quiet.id, f"Bearer {pair.access_token}"


async def open_subscriber(url: str, post: str, compression: str | None):
    ws = await connect(
        url, subprotocols=["graphql-transport-ws"], compression=compression, open_timeout=60
    )
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    payload = {"query": COMMENT_ADDED, "variables": {"post": post}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return ws


async def open_many(url: str, post: str, count: int, compression: str | None):
    sockets = []
    for start in range(0, count, CONNECT_BATCH):
        batch = range(start, min(start + CONNECT_BATCH, count))
        sockets += await asyncio.gather(*(open_subscriber(url, post, compression) for _ in batch))
    return sockets


def client_process(url, post, count, rounds, compression, ready, go, results) -> None:
    """Hold `count` subscriptions; after `go`, record when each of `rounds` events lands."""

    async def run() -> None:
        sockets = await open_many(url, post, count, compression)
        refused = [message for message in await asyncio.gather(*map(early, sockets)) if message]
        ready.put(
            f"{len(refused)} subscriptions refused: {refused[0]}" if refused else len(sockets)
        )
        await asyncio.to_thread(go.wait)
        samples = await asyncio.gather(*(receive(ws, rounds) for ws in sockets))
        results.put([sample for per_socket in samples for sample in per_socket])
        for ws in sockets:
            await ws.close()

    try:
        asyncio.run(run())
    except Exception as error:  # tell the parent instead of leaving it waiting
        ready.put(f"client failed: {error!r}")
        results.put(f"client failed: {error!r}")
        raise


async def early(ws) -> str | None:
    """Whatever a subscription says before any comment is written: only a refusal."""
    try:
        return str(await asyncio.wait_for(ws.recv(), EARLY_SECONDS))
    except TimeoutError:
        return None


async def receive(ws, rounds: int) -> list[tuple[int, float]]:
    samples = []
    while len(samples) < rounds:
        message = json.loads(await ws.recv())
        if message.get("type") == "next":
            comment = message["payload"]["data"]["commentAdded"]
            samples.append((int(comment["content"]), time.monotonic()))
    return samples


def wait_listening(server, channel: str, count: int) -> int:
    """Block until `count` subscriptions on `channel` are in place on the server."""
    with httpx.Client(timeout=60) as client:
        for _ in range(1200):
            response = client.post(
                f"{server.url}/graphql", json={"query": LISTENING, "variables": {"c": channel}}
            )
            listening: int = response.json()["data"]["listening"]
            if listening >= count:
                return listening
            time.sleep(0.1)
    raise SystemExit(f"only {listening} of {count} subscriptions ever listened")


def start_clients(url, post, total, rounds, compression):
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    share = [
        total // CLIENT_PROCESSES + (i < total % CLIENT_PROCESSES) for i in range(CLIENT_PROCESSES)
    ]
    processes = [
        context.Process(
            target=client_process, args=(url, post, n, rounds, compression, ready, go, results)
        )
        for n in share
        if n
    ]
    for process in processes:
        process.start()
    opened = sum(checked(ready.get(timeout=600)) for _ in processes)
    return processes, go, results, opened


def checked(result):
    if isinstance(result, str):
        raise SystemExit(result)
    return result


def cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time: what an event costs the server, whatever else
    loads the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def measure_idle(server, post_id: int, count: int, compression: str | None, deflate: bool) -> None:
    before = rss_megabytes(server.process.pid)
    post = encode_id("Post", post_id)
    processes, go, results, opened = start_clients(server.ws_url, post, count, 0, compression)
    opened = wait_listening(server, post_channel(post_id), opened)
    after = rss_megabytes(server.process.pid)
    go.set()
    for _ in processes:
        checked(results.get(timeout=600))
    for process in processes:
        process.join()
    print(
        f"  idle: {opened} subscriptions (client offers {compression or 'nothing'}, "
        f"server deflate {'on' if deflate else 'off'}): "
        f"RSS {before:.0f} MB -> {after:.0f} MB "
        f"({(after - before) * 1024 / max(opened, 1):.1f} KB per subscription)"
    )


def hold_idle(server, post_id: int, count: int):
    """`count` subscriptions on a post nobody writes to, present while latency is measured."""
    post = encode_id("Post", post_id)
    processes, go, results, opened = start_clients(server.ws_url, post, count, 0, "deflate")
    wait_listening(server, post_channel(post_id), opened)
    return processes, go, results, opened


def release(held) -> None:
    processes, go, results, _opened = held
    go.set()
    for _ in processes:
        checked(results.get(timeout=600))
    for process in processes:
        process.join()


def measure_latency(
    server, post_id: int, quiet_id: int, authorization: str, args: argparse.Namespace
) -> None:
    subscribers, rounds, post = args.subscribers, args.rounds, encode_id("Post", post_id)
    idle = hold_idle(server, quiet_id, args.idle) if args.idle_present else None
    processes, go, results, opened = start_clients(server.ws_url, post, subscribers, rounds, None)
    opened = wait_listening(server, post_channel(post_id), opened)
    go.set()
    cpu_before = cpu_seconds(server.process.pid)
    sent: dict[int, float] = {}
    returned: dict[int, float] = {}
    with httpx.Client(timeout=60) as client:
        for n in range(rounds):
            variables = {"post": post, "content": str(n)}
            sent[n] = time.monotonic()
            response = client.post(
                f"{server.url}/graphql",
                json={"query": ADD_COMMENT, "variables": variables},
                headers={"Authorization": authorization},
            )
            returned[n] = time.monotonic()
            assert response.json()["data"]["addComment"]["id"], response.text
            time.sleep(1.0)  # one event at a time: latency, not throughput
    samples = [sample for _ in processes for sample in checked(results.get(timeout=600))]
    cpu = (cpu_seconds(server.process.pid) - cpu_before) * 1000 / max(rounds, 1)
    for process in processes:
        process.join()
    present = f", {idle[3]} idle subscriptions present" if idle else ""
    if idle:
        release(idle)
    print(
        f"  latency: {opened} subscribers x {rounds} events = {len(samples)} deliveries{present}"
        f"; server CPU {cpu:.1f} ms per event (the mutation included)"
    )
    for start, label in ((returned, "response returned"), (sent, "request sent")):
        latencies = sorted((at - start[n]) * 1000 for n, at in samples)
        quantiles = statistics.quantiles(latencies, n=100)
        print(
            f"    from the mutation's {label} to delivery: p50 {quantiles[49]:.1f} ms, "
            f"p99 {quantiles[98]:.1f} ms, max {latencies[-1]:.1f} ms"
        )


async def events_socket(url: str, post: str, after: str | None):
    """A `commentEvents` subscription; the socket and when its `subscribe` was sent."""
    ws = await connect(url, subprotocols=["graphql-transport-ws"], open_timeout=60)
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    payload = {"query": COMMENT_EVENTS, "variables": {"post": post, "after": after}}
    started = time.monotonic()
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return ws, started


async def next_events(ws, count: int) -> list[dict]:
    received = []
    while len(received) < count:
        message = json.loads(await ws.recv())
        assert message.get("type") == "next", message
        received.append(message["payload"]["data"]["commentEvents"])
    return received


async def write_comments(server, post: str, authorization: str, count: int) -> None:
    """`count` comments through the real `addComment`, a few requests at a time."""
    numbers = iter(range(count))
    async with httpx.AsyncClient(timeout=60) as client:

        async def writer() -> None:
            for n in numbers:
                variables = {"post": post, "content": f"missed {n}"}
                response = await client.post(
                    f"{server.url}/graphql",
                    json={"query": ADD_COMMENT, "variables": variables},
                    headers={"Authorization": authorization},
                )
                assert response.json()["data"]["addComment"]["id"], response.text

        await asyncio.gather(*(writer() for _ in range(REPLAY_WRITERS)))


async def one_replay(server, post_id: int, authorization: str, missed: int) -> tuple[float, float]:
    """Milliseconds from a resuming `subscribe` to its first and its last missed event."""
    post = encode_id("Post", post_id)
    ws, _ = await events_socket(server.ws_url, post, None)
    await asyncio.to_thread(wait_listening, server, post_channel(post_id), 1)
    await write_comments(server, post, authorization, 1)
    [seen] = await next_events(ws, 1)
    await ws.close()
    await write_comments(server, post, authorization, missed)
    ws, started = await events_socket(server.ws_url, post, seen["cursor"])
    first = await next_events(ws, 1)
    first_at = time.monotonic()
    rest = await next_events(ws, missed - 1)
    last_at = time.monotonic()
    await ws.close()
    replayed = {event["comment"]["content"] for event in first + rest}
    assert replayed == {f"missed {n}" for n in range(missed)}, "a missed event was not replayed"
    return (first_at - started) * 1000, (last_at - started) * 1000


def measure_replay(server, post_id: int, authorization: str, missed: int) -> None:
    timings = [
        asyncio.run(one_replay(server, post_id, authorization, missed)) for _ in range(REPLAY_TRIES)
    ]
    firsts, lasts = sorted(first for first, _ in timings), sorted(last for _, last in timings)
    print(
        f"  replay: {missed} missed events to a resuming subscriber, {REPLAY_TRIES} times: "
        f"first after {statistics.median(firsts):.1f} ms (median), all after median "
        f"{statistics.median(lasts):.1f} ms, max {lasts[-1]:.1f} ms"
    )


def run(
    label: str, env: dict[str, str], seeded: tuple[int, int, str], args: argparse.Namespace
) -> None:
    print(f"{label}:")
    post_id, quiet_id, authorization = seeded
    if not args.replay_only:
        # Clients offer permessage-deflate, as browsers do; the server declines it unless
        # WS_PER_MESSAGE_DEFLATE (`--deflate`).
        if not args.idle_present:
            with serve(env) as server:
                measure_idle(server, post_id, args.idle, "deflate", args.deflate)
        if args.rounds:
            with serve(env) as server:
                measure_latency(server, post_id, quiet_id, authorization, args)
    if args.replay:
        with serve(env) as server:
            measure_replay(server, post_id, authorization, args.replay)


def serve(env: dict[str, str]):
    return live_server(
        env, cwd=REPO, command=("-m", "tests.live.serve"), extra_args=("--log-level", "warning")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=5000)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--replay", type=int, default=1000, help="missed events (0: skip)")
    parser.add_argument("--replay-only", action="store_true", help="only the replay timing")
    parser.add_argument("--redis", help="also run through this Redis")
    parser.add_argument("--deflate", action="store_true", help="server accepts compression")
    parser.add_argument(
        "--no-sharing", action="store_true", help="one execution per subscriber, to compare"
    )
    parser.add_argument(
        "--idle-present",
        action="store_true",
        help="hold the --idle subscriptions (on another post) while measuring latency, "
        "instead of measuring their memory on a server of their own",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database_url = f"sqlite:///{directory}/bench.db"
        migrate.upgrade(database_url)
        seeded = asyncio.run(seed(database_url))
        env = clean_environment(
            DATABASE_URL=database_url,
            PUBSUB_PREFIX=f"bench-{uuid.uuid4().hex}:",
            WS_MAX_CONNECTIONS_PER_CLIENT=str(args.idle + args.subscribers + 100),
            RATE_LIMIT_ENABLED="false",  # thousands of subscriptions from one address
            WS_PER_MESSAGE_DEFLATE=str(args.deflate).lower(),
            LIVE_SHARED_EXECUTION=str(not args.no_sharing).lower(),
        )
        run("in-process (no REDIS_URL)", env, seeded, args)
        if args.redis:
            run(f"through Redis ({args.redis})", {**env, "REDIS_URL": args.redis}, seeded, args)


if __name__ == "__main__":
    main()
