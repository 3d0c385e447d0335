"""`blog-graphql serve` on the embedded default: no earlier command needed."""

import httpx
import pytest

from tests.live_server import clean_environment, free_port, live_server


def test_serve_creates_and_migrates_sqlite_then_answers(tmp_path):
    with live_server(env=clean_environment(), cwd=tmp_path) as server:
        response = httpx.post(f"{server.url}/graphql", json={"query": "{ tags { name } }"})
        ready = httpx.get(f"{server.url}/readyz")
    assert response.status_code == 200
    assert response.json() == {"data": {"tags": []}}
    assert ready.status_code == 200
    assert (tmp_path / "blog_graphql.db").exists()


def test_serve_listens_on_port_and_host_from_the_environment(tmp_path):
    env = clean_environment(HOST="127.0.0.2")
    with live_server(env=env, cwd=tmp_path, port_from_env=True) as server:
        answer = httpx.get(f"http://127.0.0.2:{server.port}/healthz")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{server.port}/healthz")
    assert answer.status_code == 200


def test_serve_flags_win_over_port_and_host(tmp_path):
    unused = free_port()
    env = clean_environment(HOST="127.0.0.2", PORT=str(unused))
    with live_server(env=env, cwd=tmp_path, extra_args=("--host", "127.0.0.1")) as server:
        # live_server passes --port too: the flags, not the variables, say where it listens.
        answer = httpx.get(f"http://127.0.0.1:{server.port}/healthz")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.2:{unused}/healthz")
    assert answer.status_code == 200
