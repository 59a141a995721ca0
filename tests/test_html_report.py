"""The self-contained HTML report: ``picdup report --html`` and ``scan -o x.html``."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import reviewtree as rt
from picdup.errors import InputError
from picdup.model import Group, Member, Report, Stats
from picdup.report import load_report, write_report
from picdup.report.html import display_path, render_html, script_json
from picdup.report.json import OUTPUT_SUFFIXES, check_output_path


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thumbnails and verdicts of these tests never reach the user's cache folder."""
    monkeypatch.setenv("PICDUP_CACHE_DIR", str(tmp_path / "user-cache"))


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("html")
    tree = rt.make_tree(base / "photos")
    cache = base / "cache"
    return tree, rt.scan_tree(tree, base / "report.json", cache), cache


def embedded(html: str) -> Any:
    found = re.search(r'<script type="application/json" id="picdup-data">(.*?)</script>', html)
    assert found is not None
    return json.loads(found.group(1))


def test_pinned_escapes() -> None:
    assert display_path(os.fsdecode(b"/p/caf\xe9.jpg")) == "/p/caf\\xe9.jpg"
    assert display_path("/p/\u00e9t\u00e9.jpg") == "/p/\u00e9t\u00e9.jpg"
    text = script_json({"n": "</script><script>alert(1)</script><!--&"})
    assert text == (
        '{"n":"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e'
        '\\u003c!--\\u0026"}'
    )
    assert json.loads(text) == {"n": "</script><script>alert(1)</script><!--&"}


def test_html_is_self_contained_and_escaped(
    scanned: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, report, cache = scanned
    out = tmp_path / "report.html"
    done = rt.run_cli("report", str(report), "--html", str(out), cache=cache)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"3 groups written to {out}"
    html = out.read_text("utf-8")
    # Nothing is fetched: no external script, style, image or link.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", html)
    assert "<link" not in html
    # No file name appears as markup; each is JSON text inside the one data block.
    for name in (rt.SCRIPT.removesuffix(".jpg"), rt.IMG_TAG.removesuffix(".png")):
        assert name not in html
    data = embedded(html)
    names = {m["name"] for g in data["groups"] for m in g["members"]}
    assert {rt.QUOTED, rt.SPACED, rt.IMG_TAG, rt.SCRIPT, "caf\\xe9 small.jpg"} <= names
    assert data["summary"]["groups"] == 3
    # Every thumbnail is an embedded JPEG no larger than 160 px, orientation as displayed.
    for g in data["groups"]:
        for m in g["members"]:
            assert m["thumb"].startswith("data:image/jpeg;base64,")
            im = Image.open(io.BytesIO(base64.b64decode(m["thumb"].split(",", 1)[1])))
            assert max(im.size) == 160
            assert abs(im.size[0] / im.size[1] - m["width"] / m["height"]) < 0.02
            assert "full" not in m


def test_scan_writes_html_directly(scanned: tuple[Path, Path, Path], tmp_path: Path) -> None:
    tree, report, cache = scanned
    assert ".html" in OUTPUT_SUFFIXES
    out = tmp_path / "x.html"
    done = rt.run_cli("scan", str(tree), "-o", str(out), cache=cache)
    assert done.returncode == 1, done.stderr
    from_scan = embedded(out.read_text("utf-8"))
    from_report = embedded(render_html(load_report(report), title="x.html", cache_dir=str(cache)))
    assert from_scan["groups"] == from_report["groups"]
    with pytest.raises(InputError, match=r"\.html"):
        check_output_path(tmp_path / "x.txt")


def test_bad_arguments(scanned: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, report, cache = scanned
    done = rt.run_cli("report", "--help", cache=cache)
    assert done.returncode == 0 and "Examples:" in done.stdout
    done = rt.run_cli("report", str(report), "--html", str(tmp_path / "x.json"), cache=cache)
    assert done.returncode == 2 and "must end in .html" in done.stderr
    done = rt.run_cli("report", str(tmp_path / "nope.json"), "--html", "x.html", cache=cache)
    assert done.returncode == 2 and "no such report" in done.stderr
    assert not (tmp_path / "x.html").exists()


def _report_with(members: list[tuple[Path, str]], groups: int, root: Path) -> Report:
    out = []
    for i in range(groups):
        ms = tuple(
            Member(str(p), 1000, "2026-01-01T00:00:00.000Z", 64, 48, "JPEG", c, 0, 1.0)
            for p, c in members
        )
        out.append(Group(i + 1, "exact", str(root), str(members[0][0]), "shortest path", ms))
    return Report((str(root),), {}, Stats(groups=groups), (), tuple(out))


def test_a_missing_file_gets_an_empty_thumbnail(tmp_path: Path) -> None:
    from imagegen import photo, save

    there = tmp_path / "there.jpg"
    save(photo(5, 64, 48), there)
    report = _report_with([(there, "keeper"), (tmp_path / "gone.jpg", "exact")], 1, tmp_path)
    data = embedded(render_html(report, cache_dir=str(tmp_path / "cache")))
    thumbs = [m["thumb"] for m in data["groups"][0]["members"]]
    assert thumbs[0].startswith("data:image/jpeg") and thumbs[1] == ""


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    if not os.path.exists(rt.CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{rt.CHROMIUM} is missing (scripts/test.sh installs it as root)")
        pytest.skip(f"{rt.CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=rt.CHROMIUM, args=rt.CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 1600})
        pg.problems = []
        pg.on("pageerror", lambda e: pg.problems.append(str(e)))
        pg.on("dialog", lambda d: (pg.problems.append(d.message), d.dismiss()))
        local = ("data:", "file:")
        pg.on("request", lambda r: r.url.startswith(local) or pg.problems.append(r.url))
        yield pg
        browser.close()


def test_the_page_shows_groups_read_only(
    page: Any, scanned: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, report, cache = scanned
    out = tmp_path / "report.html"
    done = rt.run_cli("report", str(report), "--html", str(out), cache=cache)
    assert done.returncode == 0
    page.goto(out.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.thumb img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert page.locator(".group").count() == 3
    names = page.locator(".member .name").all_text_contents()
    assert {rt.SCRIPT, rt.IMG_TAG, rt.QUOTED, "caf\\xe9 small.jpg"} <= set(names)
    # Read-only: no decision buttons, no apply; comparing still works on the thumbnails.
    assert page.locator("[data-act=keep]:visible, [data-act=remove]:visible").count() == 0
    assert page.locator("#apply-open").is_hidden()
    page.keyboard.press("c")
    page.wait_for_selector("#compare:not([hidden])")
    page.keyboard.press("3")
    page.wait_for_selector("#pane-x canvas[data-mean]")
    page.keyboard.press("Escape")
    (rt.REPO / "test-artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(rt.REPO / "test-artifacts" / "html-report.png"))
    assert page.problems == []


def test_the_page_pages_through_many_groups(page: Any, tmp_path: Path) -> None:
    from imagegen import photo, save

    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    save(photo(6, 64, 48), a)
    save(photo(6, 64, 48), b)
    out = tmp_path / "many.html"
    write_report(_report_with([(a, "keeper"), (b, "exact")], 45, tmp_path), out)
    page.goto(out.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    assert page.text_content("#page-info") == "groups 1–20 of 45"
    page.click("#next-page")
    page.click("#next-page")
    page.wait_for_function(
        "() => document.getElementById('page-info').textContent === 'groups 41–45 of 45'"
    )
    assert page.locator(".group").count() == 5
    assert page.problems == []
