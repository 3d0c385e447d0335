"""`GET /media/...`: processed image variants, from local disk or the S3 bucket.

Names are immutable (a variant's file never changes under its name: a new upload gets a
new random token), so answers may be cached for a year. Only variant names are served:
an upload waiting to be processed (`u/...`) still carries its metadata, and never is.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

from blog_graphql.media.storage import CONTENT_TYPES, SERVED_KEY, LocalStorage, storage_for

IMMUTABLE = "public, max-age=31536000, immutable"


async def media_file(request: Request) -> Response:
    key = request.path_params["key"]
    if not SERVED_KEY.fullmatch(key):
        return Response("Not found.", status_code=404, media_type="text/plain")
    storage = storage_for(request.app.state.blog.settings)
    headers = {"Cache-Control": IMMUTABLE}
    media_type = CONTENT_TYPES[key.rsplit(".", 1)[1]]
    if isinstance(storage, LocalStorage):
        path = storage.path_of(key)
        if not path.is_file():
            return Response("Not found.", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type=media_type, headers=headers)
    stored = await storage.open(key)
    if stored is None:
        return Response("Not found.", status_code=404, media_type="text/plain")
    headers["Content-Length"] = str(stored.size)
    if request.method == "HEAD":
        await stored.chunks.aclose()  # type: ignore[attr-defined]
        return Response(headers=headers, media_type=media_type)
    return StreamingResponse(stored.chunks, media_type=media_type, headers=headers)


def media_routes() -> list[Route]:
    return [Route("/media/{key:path}", media_file, methods=["GET", "HEAD"])]
