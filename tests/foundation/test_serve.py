"""`blog-graphql serve` on the embedded default: no earlier command needed."""

import httpx

from tests.live_server import clean_environment, live_server


def test_serve_creates_and_migrates_sqlite_then_answers(tmp_path):
    with live_server(env=clean_environment(), cwd=tmp_path) as server:
        response = httpx.post(f"{server.url}/graphql", json={"query": "{ tags { name } }"})
        ready = httpx.get(f"{server.url}/readyz")
    assert response.status_code == 200
    assert response.json() == {"data": {"tags": []}}
    assert ready.status_code == 200
    assert (tmp_path / "blog_graphql.db").exists()
