"""The GraphQL multipart request spec (jaydenseric/graphql-multipart-request-spec) on
`POST /graphql`: `operations` and `map` fields, then the files, streamed by Starlette's
parser (python-multipart) into temporary files that spill to disk past 1 MiB.

Only with a preflight header: a browser page can post a multipart form to any origin
without asking first, but never with a custom header (Apollo Server's CSRF rule).
The body's size is capped while it streams (`BodySizeLimitMiddleware`), each file's here.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from strawberry.file_uploads.utils import replace_placeholders_with_files

from blog_graphql.http.protocol import GraphQLParams, RequestRefused, params_of

PREFLIGHT_HEADERS = ("graphql-preflight", "apollo-require-preflight")
MAX_FILES = 4
MAX_FIELDS = 2  # operations, map
MAX_FIELD_BYTES = 1024 * 1024


def is_multipart(request: Request) -> bool:
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return media == "multipart/form-data"


async def read_multipart(request: Request, max_file_bytes: int) -> GraphQLParams:
    if not any(request.headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        raise RequestRefused(
            400, "Uploads need a `GraphQL-Preflight: 1` (or `Apollo-Require-Preflight: true`) "
            "header: it keeps other sites' pages from posting forms here (CSRF).",
        )  # fmt: skip
    parser = MultiPartParser(
        request.headers,
        request.stream(),
        max_files=MAX_FILES,
        max_fields=MAX_FIELDS,
        max_part_size=MAX_FIELD_BYTES,
    )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise RequestRefused(400, f"Malformed multipart request: {error.message}") from None
    files = {name: value for name, value in form.multi_items() if isinstance(value, UploadFile)}
    try:
        for file in files.values():
            if (file.size or 0) > max_file_bytes:
                raise RequestRefused(413, f"A file is larger than {max_file_bytes} bytes.")
        operations = _json_field(form.get("operations"), "operations", dict)
        mapping = _json_field(form.get("map"), "map", dict)
        return params_of(_with_files(operations, mapping, files), tuple(files.values()))
    except BaseException:
        await form.close()
        raise


def _json_field(value: object, name: str, kind: type) -> Any:
    if not isinstance(value, str):
        raise RequestRefused(400, f"The multipart request needs an `{name}` field.")
    try:
        decoded = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise RequestRefused(400, f"The `{name}` field is not valid JSON.") from None
    if not isinstance(decoded, kind):
        raise RequestRefused(400, f"The `{name}` field must be a JSON object.")
    return decoded


def _with_files(
    operations: dict[str, Any], mapping: dict[str, Any], files: dict[str, UploadFile]
) -> dict[str, Any]:
    for name, paths in mapping.items():
        if name not in files:
            raise RequestRefused(400, f"The map names a file `{name}` that was not sent.")
        if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
            raise RequestRefused(400, "Each map entry must be a list of object paths.")
        if not all(path.startswith("variables.") for path in paths):
            raise RequestRefused(400, "Files may only go into `variables`.")
    try:
        return replace_placeholders_with_files(operations, mapping, files)
    except (KeyError, IndexError, TypeError, ValueError):
        raise RequestRefused(400, "A map path does not name a variable of the operation.") from None
