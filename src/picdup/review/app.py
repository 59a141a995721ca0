"""The review page's web app (Starlette): routes over a :class:`ReviewSession`.

Security, in the order a request meets it:
  1. :class:`TokenGate` answers 404 unless the path starts with ``/<token>/`` (compared in
     constant time), the Host header names this server on 127.0.0.1/localhost (no DNS
     rebinding), and no path segment is ``..`` or holds a backslash or NUL;
  2. images are addressed by group and member number, never by path, so only files listed in
     the report can ever be read; everything else is 404;
  3. the page never builds HTML from data (``textContent`` only) and a strict
     Content-Security-Policy forbids inline script; ``Referrer-Policy: no-referrer`` keeps the
     token out of other sites' logs;
  4. the only writes are the decisions file (and the cache: thumbnails, not-duplicate pairs).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from picdup.errors import DecodeError, InputError, PicdupError
from picdup.report.html import page_asset
from picdup.report.thumbs import cached_thumbnail, make_preview
from picdup.review.apply import ApplyDesk
from picdup.review.session import ReviewSession

__all__ = ["TokenGate", "create_app"]

# Formats every current browser shows as they are; anything else is converted for the page.
_BROWSER_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "AVIF": "image/avif",
}
_STATIC = {"page.css": "text/css; charset=utf-8", "page.js": "text/javascript; charset=utf-8"}
_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        b"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
]


class AsciiJSON(JSONResponse):
    """JSON with every non-ASCII character escaped: a file name that is not valid UTF-8 (a lone
    surrogate in Python) still encodes, and the page's JSON parser reads it back."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _json(content: Any, status: int = 200) -> Response:
    return AsciiJSON(content, status_code=status, headers={"Cache-Control": "no-store"})


def _error(message: str, status: int = 400) -> Response:
    return _json({"error": message}, status)


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


class TokenGate:
    """ASGI middleware: only ``/<token>/…`` on an allowed Host reaches the app, with the token
    stripped; anything else is 404 (a wrong token looks like a missing page)."""

    def __init__(self, app: ASGIApp, token: str, hosts: Iterable[str]) -> None:
        self.app = app
        self.token = token.encode("ascii")
        self.hosts = {h.lower() for h in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return
        inner = self._admit(scope)
        if inner is None:
            await _not_found()(scope, receive, send)
            return
        if inner == "":
            # /<token> without the slash: the page's relative links need the folder form.
            location = "/" + self.token.decode() + "/"
            await Response(status_code=308, headers={"Location": location})(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *_SECURITY_HEADERS]
            await send(message)

        await self.app(
            {**scope, "path": inner, "raw_path": inner.encode()}, receive, send_with_headers
        )

    def _admit(self, scope: Scope) -> str | None:
        """The path inside the token folder, ``""`` for the bare token, ``None`` to refuse."""
        host = ""
        for name, value in scope.get("headers", []):
            if name == b"host":
                host = value.decode("latin-1").lower()
        if host not in self.hosts:
            return None
        raw = scope.get("raw_path") or scope["path"].encode()
        path = unquote(raw.decode("latin-1").split("?", 1)[0])
        segments = path.split("/")
        if any(s in ("..", ".") or "\\" in s or "\0" in s for s in segments):
            return None
        if len(segments) < 2 or not hmac.compare_digest(segments[1].encode(), self.token):
            return None
        if len(segments) == 2:
            return ""
        return "/" + "/".join(segments[2:])


def create_app(
    session: ReviewSession, token: str, hosts: Iterable[str], desk: ApplyDesk | None = None
) -> ASGIApp:
    """The review app for ``session``, reachable only as ``http://HOST/<token>/``."""
    applying = desk if desk is not None else ApplyDesk(session)
    page = (
        page_asset("page.html")
        .replace("{{head}}", '<link rel="stylesheet" href="static/page.css">')
        .replace("{{mode}}", "live")
        .replace("{{tail}}", '<script src="static/page.js"></script>')
    )

    async def index(request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC:
            return _not_found()
        return Response(page_asset(name), media_type=_STATIC[name])

    async def summary(request: Request) -> Response:
        return _json(session.summary())

    async def groups(request: Request) -> Response:
        q = request.query_params
        try:
            offset = max(0, int(q.get("offset", "0")))
            limit = min(200, max(1, int(q.get("limit", "20"))))
            return _json(session.page(offset, limit, q.get("filter", "all")))
        except ValueError:
            return _error("offset and limit must be integers")
        except InputError as exc:
            return _error(str(exc))

    async def body(request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            raise InputError("send JSON (Content-Type: application/json)")
        try:
            data = await request.json()
        except ValueError as exc:
            raise InputError("the body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise InputError("the body must be a JSON object")
        return data

    def integer(data: dict[str, Any], key: str) -> int:
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InputError(f"{key!r} must be an integer")
        return value

    async def decide(request: Request) -> Response:
        try:
            data = await body(request)
            index, k = integer(data, "group"), integer(data, "member")
            verdict = data.get("verdict")
            await run_in_threadpool(session.decide, index, k, verdict)
            return _json({"group": session.group_json(index), "counts": session.counts()})
        except InputError as exc:
            return _error(str(exc))

    async def notdup(request: Request) -> Response:
        try:
            data = await body(request)
            index, a, b = integer(data, "group"), integer(data, "a"), integer(data, "b")
            value = data.get("value", True)
            if not isinstance(value, bool):
                raise InputError("'value' must be true or false")
            await run_in_threadpool(session.mark_not_duplicate, index, a, b, value)
            return _json({"group": session.group_json(index), "counts": session.counts()})
        except InputError as exc:
            return _error(str(exc))

    def thumb(request: Request) -> Response:
        try:
            member = session.member(request.path_params["g"], request.path_params["m"])
            data = cached_thumbnail(member.path, session.cache_dir)
        except (InputError, DecodeError):
            return _not_found()
        return Response(
            data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=600"}
        )

    def full(request: Request) -> Response:
        try:
            member = session.member(request.path_params["g"], request.path_params["m"])
        except InputError:
            return _not_found()
        kind = _BROWSER_TYPES.get(member.format.upper())
        try:
            if kind is not None:
                with open(member.path, "rb"):
                    pass  # FileResponse would fail later, mid-response; find out now
                return FileResponse(
                    member.path, media_type=kind, headers={"Cache-Control": "no-cache"}
                )
            return Response(make_preview(member.path), media_type="image/png")
        except (OSError, DecodeError):
            return _not_found()

    async def apply_options(request: Request) -> Response:
        try:
            return _json(applying.options())
        except PicdupError as exc:
            return _error(str(exc), 501)

    async def plan(request: Request) -> Response:
        try:
            data = await body(request)
            out = await run_in_threadpool(
                applying.preview, data.get("action"), data.get("keep"), data.get("to")
            )
            return _json(out)
        except PicdupError as exc:
            return _error(str(exc))

    async def apply(request: Request) -> Response:
        try:
            data = await body(request)
            out = await run_in_threadpool(applying.run, data.get("plan"), data.get("confirm"))
            return _json(out)
        except PicdupError as exc:
            return _error(str(exc))

    routes = [
        Route("/", index),
        Route("/static/{name}", static),
        Route("/api/summary", summary),
        Route("/api/groups", groups),
        Route("/api/decide", decide, methods=["POST"]),
        Route("/api/notdup", notdup, methods=["POST"]),
        Route("/api/apply-options", apply_options),
        Route("/api/plan", plan, methods=["POST"]),
        Route("/api/apply", apply, methods=["POST"]),
        Route("/thumb/{g:int}/{m:int}", thumb),
        Route("/file/{g:int}/{m:int}", full),
    ]
    return TokenGate(Starlette(routes=routes), token, hosts)
