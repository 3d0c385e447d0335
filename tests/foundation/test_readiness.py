"""`/readyz` names what is down instead of failing."""

import httpx

from blog_graphql.app import create_app
from blog_graphql.config.settings import load_settings
from blog_graphql.state import AppState


async def test_readyz_is_503_naming_the_database_when_it_is_unreachable():
    settings = load_settings(_env_file=None, database_url="postgresql://nobody@127.0.0.1:1/missing")
    state = AppState.create(settings)
    transport = httpx.ASGITransport(app=create_app(state=state))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
    await state.close()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "down": ["database"]}
