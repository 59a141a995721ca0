"""The review server over real HTTP: the token, path traversal, hostile names, decisions."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import reviewtree as rt
from picdup.decisions import decisions_path, load_decisions
from picdup.errors import ConfigError, InputError, ReportError
from picdup.report import load_report
from picdup.review import ReviewServer, open_review


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thumbnails and verdicts of these tests never reach the user's cache folder."""
    monkeypatch.setenv("PICDUP_CACHE_DIR", str(tmp_path / "user-cache"))


class Client:
    """Raw HTTP to the server: the path is sent exactly as given (no client-side cleaning)."""

    def __init__(self, server: ReviewServer) -> None:
        self.port = server.port
        self.token = server.token
        self.base = urlsplit(server.url).path  # /<token>/

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        data = None
        hdrs = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        res = conn.getresponse()
        out = res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
        conn.close()
        return out

    def get(self, rel: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", self.base + rel, **kw)

    def post(self, rel: str, body: Any, **kw: Any) -> tuple[int, dict[str, str], bytes]:
        return self.request("POST", self.base + rel, body, **kw)

    def json(self, rel: str) -> Any:
        status, _, data = self.get(rel)
        assert status == 200, data
        return json.loads(data)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("review")
    tree = rt.make_tree(base / "photos")
    cache = base / "cache"
    report = rt.scan_tree(tree, base / "report.json", cache)
    return tree, report, cache


@pytest.fixture
def served(
    scanned: tuple[Path, Path, Path], tmp_path: Path
) -> Iterator[tuple[Client, Path, Path, Path]]:
    """A fresh copy of the report (so decisions start empty) served in this process."""
    tree, report, _ = scanned
    (tmp_path / "reports").mkdir()
    copy = tmp_path / "reports" / "report.json"
    copy.write_bytes(report.read_bytes())
    cache = tmp_path / "cache"
    server = open_review(copy, cache_dir=str(cache))
    thread = server.serve_in_thread()
    try:
        yield Client(server), copy, tree, cache
    finally:
        server.stop()
        thread.join(timeout=10)


def test_every_request_needs_the_token(served: tuple[Client, Path, Path, Path]) -> None:
    client, *_ = served
    assert client.get("")[0] == 200
    for path in (
        "/",
        "/api/summary",
        "/static/page.js",
        "/thumb/0/0",
        "/file/0/0",
        "/" + client.token[:-1] + "/",
        "/" + client.token + "x/",
        "/" + client.token.upper() + "/api/summary",
        "/api/summary?token=" + client.token,
        "/x/" + client.token + "/api/summary",
    ):
        status, _, body = client.request("GET", path)
        assert status == 404, path
        assert client.token.encode() not in body
    decision = {"group": 0, "member": 1, "verdict": "keep"}
    status, _, _ = client.request("POST", "/api/decide", decision)
    assert status == 404
    status, headers, _ = client.request("GET", "/" + client.token)
    assert status == 308 and headers["location"] == "/" + client.token + "/"


def test_a_foreign_host_name_is_refused(served: tuple[Client, Path, Path, Path]) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host."""
    client, *_ = served
    for host in ("evil.example", f"evil.example:{client.port}", "127.0.0.1:1"):
        assert client.get("api/summary", headers={"Host": host})[0] == 404
    assert client.get("api/summary", headers={"Host": f"localhost:{client.port}"})[0] == 200


def test_only_the_reports_files_are_served(served: tuple[Client, Path, Path, Path]) -> None:
    client, report, tree, _ = served
    data = load_report(report)
    first = data.groups[0].members[0]
    status, headers, body = client.get("file/0/0")
    assert status == 200
    assert body == Path(first.path).read_bytes()
    assert headers["content-type"] == "image/png"
    t = client.token
    for path in (
        f"/{t}/../{t}/api/summary",
        f"/{t}/static/../../../../etc/passwd",
        f"/{t}/static/%2e%2e/app.py",
        f"/{t}/static/..%2fapp.py",
        f"/{t}/static/page.html",
        f"/{t}/static/session.py",
        f"/{t}/file/0/../../../etc/passwd",
        f"/{t}/file/0/0/..",
        f"/{t}/file/{len(data.groups)}/0",
        f"/{t}/file/0/{len(data.groups[0].members)}",
        f"/{t}/file/-1/0",
        f"/{t}/thumb/0/99",
        f"/{t}/file/0/0%00",
        f"/{t}/file//etc/passwd",
        f"/{t}/{tree}/{rt.SECRET}",
        f"/{t}/file/{tree}/{rt.SECRET}",
        f"/{t}/static/..\\app.py",
    ):
        status, _, body = client.request("GET", path)
        assert status == 404, path
        assert b"not for the page" not in body


def test_security_headers(served: tuple[Client, Path, Path, Path]) -> None:
    client, *_ = served
    _, headers, page = client.get("")
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert b'<script src="static/page.js">' in page
    assert client.get("static/page.js")[1]["content-type"].startswith("text/javascript")


def test_hostile_names_travel_as_escaped_json(served: tuple[Client, Path, Path, Path]) -> None:
    client, *_ = served
    status, headers, body = client.get("api/groups?offset=0&limit=50")
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert body.isascii()  # every non-ASCII character, and every lone surrogate, escaped
    assert b"<" not in body or b"<script>" in body  # JSON text, never served as HTML
    page = json.loads(body)
    names = {m["name"] for g in page["groups"] for m in g["members"]}
    assert {rt.QUOTED, rt.SPACED, rt.IMG_TAG, rt.SCRIPT, "caf\\xe9 small.jpg"} <= names
    # Thumbnails of every hostile name are served through their numbers.
    for g in page["groups"]:
        for m in g["members"]:
            status, headers, data = client.get(m["thumb"])
            assert status == 200 and headers["content-type"] == "image/jpeg"
            assert data[:2] == b"\xff\xd8"


def test_groups_are_paged_and_filtered(served: tuple[Client, Path, Path, Path]) -> None:
    client, *_ = served
    whole = client.json("api/groups?offset=0&limit=200")
    assert whole["total"] == 3
    pages = [client.json(f"api/groups?offset={o}&limit=1")["groups"] for o in range(3)]
    assert [p[0]["id"] for p in pages] == [g["id"] for g in whole["groups"]]
    assert client.json("api/groups?offset=3&limit=1")["groups"] == []
    assert client.get("api/groups?offset=x")[0] == 400
    assert client.get("api/groups?filter=bogus")[0] == 400
    status, _, _ = client.post("api/decide", {"group": 1, "member": 1, "verdict": "remove"})
    assert status == 200
    assert [g["index"] for g in client.json("api/groups?filter=decided")["groups"]] == [1]
    assert [g["index"] for g in client.json("api/groups?filter=undecided")["groups"]] == [0, 2]


def test_decisions_are_saved_after_every_change(served: tuple[Client, Path, Path, Path]) -> None:
    client, report, _, _ = served
    data = load_report(report)
    target = decisions_path(report)
    assert not os.path.exists(target)
    status, _, body = client.post("api/decide", {"group": 0, "member": 1, "verdict": "keep"})
    assert status == 200
    reply = json.loads(body)
    assert reply["group"]["decisions"]["files"] == [None, "keep", None]
    assert reply["counts"] == {"keep": 1, "remove": 0, "notdup": 0}
    assert load_decisions(target).files == {data.groups[0].members[1].path: "keep"}
    client.post("api/decide", {"group": 1, "member": 1, "verdict": "remove"})
    saved = load_decisions(target)
    assert saved.files[data.groups[1].members[1].path] == "remove"  # the non-UTF-8 name
    assert saved.report == "report.json" and saved.report_created == data.created
    client.post("api/decide", {"group": 0, "member": 1, "verdict": None})
    assert data.groups[0].members[1].path not in load_decisions(target).files


def test_not_duplicate_goes_to_the_file_and_the_cache(
    served: tuple[Client, Path, Path, Path],
) -> None:
    client, report, _, cache = served
    from picdup.cache.verdicts import VerdictStore

    g = load_report(report).groups[2]  # plain.jpg, plain copy.jpg (exact), plain small.jpg
    keeper, copy, small = g.members
    status, _, body = client.post("api/notdup", {"group": 2, "a": 0, "b": 2, "value": True})
    assert status == 200
    assert json.loads(body)["group"]["decisions"]["notdup"] == [[0, 2]]
    assert load_decisions(decisions_path(report)).is_not_duplicate(keeper.path, small.path)
    with VerdictStore(cache) as store:
        assert len(store.pairs()) == 1
        assert store.is_not_duplicate((small.path, small.digest), (keeper.path, keeper.digest))
    # Byte-identical files are the same picture whatever anyone says.
    status, _, body = client.post("api/notdup", {"group": 2, "a": 0, "b": 1, "value": True})
    assert status == 400 and b"byte-identical" in body
    client.post("api/notdup", {"group": 2, "a": 2, "b": 0, "value": False})
    assert not load_decisions(decisions_path(report)).not_duplicates
    with VerdictStore(cache) as store:
        assert store.pairs() == set()
    assert copy.digest == keeper.digest


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ({"group": 0, "member": 1, "verdict": "delete"}, "application/json"),
        ({"group": 0, "member": 9, "verdict": "keep"}, "application/json"),
        ({"group": 99, "member": 0, "verdict": "keep"}, "application/json"),
        ({"group": "0", "member": 0, "verdict": "keep"}, "application/json"),
        ({"group": True, "member": 0, "verdict": "keep"}, "application/json"),
        ([0, 1], "application/json"),
        (b"{not json", "application/json"),
        ({"group": 0, "member": 1, "verdict": "keep"}, "text/plain"),  # a cross-site form
    ],
)
def test_bad_requests_change_nothing(
    served: tuple[Client, Path, Path, Path], body: Any, content_type: str
) -> None:
    client, report, _, _ = served
    status, _, reply = client.post("api/decide", body, headers={"Content-Type": content_type})
    assert status == 400
    assert "error" in json.loads(reply)
    assert not os.path.exists(decisions_path(report))


def test_the_page_writes_nothing_but_the_decisions_file(
    served: tuple[Client, Path, Path, Path],
) -> None:
    client, report, tree, _ = served

    def snapshot() -> dict[bytes, tuple[int, int]]:
        out = {}
        for folder in (os.fsencode(tree), os.fsencode(report.parent)):
            for name in os.listdir(folder):
                st = os.stat(os.path.join(folder, name))
                out[os.path.join(folder, name)] = (st.st_size, st.st_mtime_ns)
        return out

    before = snapshot()
    page = client.json("api/groups")
    for g in page["groups"]:
        for m in g["members"]:
            assert client.get(m["thumb"])[0] == 200
            assert client.get(m["full"])[0] == 200
    client.post("api/decide", {"group": 0, "member": 2, "verdict": "remove"})
    client.post("api/notdup", {"group": 1, "a": 0, "b": 1, "value": True})
    after = snapshot()
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {os.fsencode(decisions_path(report))}


def test_decisions_are_loaded_again(scanned: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, report, _ = scanned
    copy = tmp_path / "report.json"
    copy.write_bytes(report.read_bytes())
    first = open_review(copy, cache_dir=str(tmp_path / "cache"))
    thread = first.serve_in_thread()
    Client(first).post("api/decide", {"group": 2, "member": 2, "verdict": "keep"})
    first.stop()
    thread.join(timeout=10)
    second = open_review(copy, cache_dir=str(tmp_path / "cache"))
    thread = second.serve_in_thread()
    try:
        page = Client(second).json("api/groups")
        assert page["groups"][2]["decisions"]["files"] == [None, None, "keep"]
        assert second.token != first.token
    finally:
        second.stop()
        thread.join(timeout=10)


def test_a_broken_report_or_port_fails_before_serving(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    with pytest.raises(ReportError):
        open_review(bad)
    with pytest.raises(ConfigError):
        open_review(bad, port=70000)
    good = tmp_path / "empty.json"
    good.write_text(
        json.dumps({"format": "picdup-report", "version": 1, "groups": [], "stats": {}})
    )
    holder = open_review(good, cache_dir=str(tmp_path / "c"))
    try:
        with pytest.raises(InputError, match="in use"):
            open_review(good, port=holder.port, cache_dir=str(tmp_path / "c"))
    finally:
        holder.sock.close()


def test_cli_review_help_and_errors(tmp_path: Path) -> None:
    done = rt.run_cli("review", "--help", cache=tmp_path)
    assert done.returncode == 0 and "Examples:" in done.stdout and "--no-browser" in done.stdout
    done = rt.run_cli("review", str(tmp_path / "missing.json"), "--no-browser", cache=tmp_path)
    assert done.returncode == 2
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    done = rt.run_cli("review", str(bad), "--no-browser", cache=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("picdup: error: not a picdup report")
    assert "Traceback" not in done.stderr


def test_cli_review_serves_until_interrupted(scanned: tuple[Path, Path, Path]) -> None:
    _, report, cache = scanned
    proc = rt.ReviewProcess(report, cache)
    try:
        parts = urlsplit(proc.url)
        assert parts.hostname == "127.0.0.1"
        token = parts.path.strip("/")
        assert len(token) >= 20
        conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=30)
        conn.request("GET", parts.path + "api/summary")
        res = conn.getresponse()
        assert res.status == 200 and json.loads(res.read())["groups"] == 3
        conn.close()
    finally:
        code = proc.stop()
    assert code == 0


@pytest.fixture
def own_tree(tmp_path: Path) -> Iterator[tuple[Client, Path]]:
    """A tree of this test's own, for tests that act on the files."""
    cache = tmp_path / "cache"
    report = rt.scan_tree(rt.make_tree(tmp_path / "photos"), tmp_path / "report.json", cache)
    server = open_review(report, cache_dir=str(cache))
    thread = server.serve_in_thread()
    try:
        yield Client(server), report
    finally:
        server.stop()
        thread.join(timeout=10)


def test_apply_goes_through_the_plan_and_its_confirmation(
    own_tree: tuple[Client, Path], tmp_path: Path
) -> None:
    client, report = own_tree
    options = client.json("api/apply-options")
    assert "trash" in options["actions"] and options["keep"].startswith("suggested")
    client.post("api/decide", {"group": 0, "member": 1, "verdict": "keep"})
    status, _, body = client.post("api/plan", {"action": "shred", "keep": "suggested"})
    assert status == 400 and b"unknown action" in body
    status, _, body = client.post("api/plan", {"action": "quarantine", "keep": "suggested"})
    assert status == 400 and b"--to" in body
    to = str(tmp_path / "q")
    status, _, body = client.post("api/plan", {"action": "quarantine", "keep": "size", "to": to})
    assert status == 200
    shown = json.loads(body)
    assert shown["phrase"] == "quarantine" and shown["actions"] == 5
    assert "review decisions" in shown["text"] and shown["question"].endswith("Go ahead?")
    for wrong in (
        {"plan": shown["plan"], "confirm": "yes"},
        {"plan": "nope", "confirm": "quarantine"},
    ):
        status, _, body = client.post("api/apply", wrong)
        assert status == 400
    assert not os.path.exists(to)  # nothing changed without the confirmation
    status, _, body = client.post("api/apply", {"plan": shown["plan"], "confirm": "quarantine"})
    assert status == 200
    done = json.loads(body)
    assert (
        done["ok"] and done["text"].startswith("5 done") and done["undo"].startswith("picdup undo")
    )
    kept = load_report(report).groups[0].members[1].path
    assert os.path.exists(kept)  # the copy decided "keep" in the page
    status, _, _ = client.post("api/apply", {"plan": shown["plan"], "confirm": "quarantine"})
    assert status == 400  # a plan runs once
    undone = rt.run_cli("undo", done["journal"], cache=tmp_path)
    assert undone.returncode == 0, undone.stderr
    assert sum(1 for _ in Path(to).rglob("*.jpg")) == 0


def test_missing_web_packages_give_an_install_hint(scanned: tuple[Path, Path, Path]) -> None:
    """Without the review extra, ``picdup review`` says what to install (no traceback)."""
    _, report, cache = scanned
    code = (
        "import sys; sys.modules['starlette'] = None; sys.modules['uvicorn'] = None\n"
        "from picdup.cli import main\n"
        f"sys.argv = ['picdup', 'review', {str(report)!r}, '--no-browser']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=rt.cli_env(cache), capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "picdup: error: the review page needs starlette and uvicorn: pip install 'picdup[review]'"
    )


def test_a_decision_that_cannot_be_saved_is_not_shown_as_made(
    served: tuple[Client, Path, Path, Path],
) -> None:
    client, report, _, _ = served
    os.mkdir(decisions_path(report))  # the rename onto it fails, as on a full or read-only disk
    status, _, body = client.post("api/decide", {"group": 0, "member": 1, "verdict": "keep"})
    assert status == 400 and b"cannot save" in body
    status, _, body = client.post("api/notdup", {"group": 0, "a": 0, "b": 1, "value": True})
    assert status == 400 and b"cannot save" in body
    group = client.json("api/groups")["groups"][0]
    assert group["decisions"] == {"files": [None, None, None], "notdup": []}
    assert client.json("api/summary")["counts"] == {"keep": 0, "remove": 0, "notdup": 0}
