"""The review page in a real browser (Debian's chromium driven by playwright), end to end:
scan, review with mouse and keyboard, compare, reload, read the decisions file, scan again."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import reviewtree as rt
from picdup.decisions import decisions_path, load_decisions
from picdup.report import load_report


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thumbnails and verdicts of these tests never reach the user's cache folder."""
    monkeypatch.setenv("PICDUP_CACHE_DIR", str(tmp_path / "user-cache"))


ARTIFACTS = rt.REPO / "test-artifacts"


def _browser_or_skip() -> None:
    if not os.path.exists(rt.CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{rt.CHROMIUM} is missing (scripts/test.sh installs it as root)")
        pytest.skip(f"{rt.CHROMIUM} is not installed (apt-get install chromium)")
    pytest.importorskip("playwright")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=rt.CHROMIUM, args=rt.CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 2200})
    pg = context.new_page()
    pg.problems = []  # console errors and dialogs: none may happen
    pg.on("pageerror", lambda e: pg.problems.append(f"error: {e}"))
    pg.on("dialog", lambda d: (pg.problems.append(f"dialog: {d.message}"), d.dismiss()))
    yield pg
    context.close()


def ready(pg: Any) -> None:
    pg.wait_for_selector("body[data-ready='1']")
    pg.wait_for_function(
        "() => [...document.querySelectorAll('.group[data-pos=\"0\"] .thumb img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )


def tile(pg: Any, pos: int, k: int) -> Any:
    return pg.locator(f".group[data-pos='{pos}'] .member[data-m='{k}']")


def wait_class(pg: Any, pos: int, k: int, cls: str, present: bool = True) -> None:
    sel = f".group[data-pos='{pos}'] .member[data-m='{k}']"
    test = "" if present else "!"
    pg.wait_for_function(
        f"() => {test}document.querySelector({json.dumps(sel)})?.classList.contains('{cls}')"
    )


@pytest.fixture
def reviewed(tmp_path: Path) -> Iterator[tuple[rt.ReviewProcess, Path, Path, Path]]:
    tree = rt.make_tree(tmp_path / "photos")
    cache = tmp_path / "cache"
    report = rt.scan_tree(tree, tmp_path / "report.json", cache)
    proc = rt.ReviewProcess(report, cache)
    try:
        yield proc, report, tree, cache
    finally:
        proc.stop()


def test_review_end_to_end(page: Any, reviewed: tuple[rt.ReviewProcess, Path, Path, Path]) -> None:
    proc, report, tree, cache = reviewed
    data = load_report(report)
    pg = page
    pg.goto(proc.url)
    ready(pg)
    pg.wait_for_function(
        "() => [...document.querySelectorAll('.thumb img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )

    # The groups and thumbnails, with every hostile name shown as text.
    assert pg.locator(".group").count() == 3
    assert pg.locator(".member").count() == 8
    names = pg.locator(".member .name").all_text_contents()
    assert {rt.QUOTED, rt.SPACED, rt.IMG_TAG, rt.SCRIPT, "caf\\xe9 small.jpg"} <= set(names)
    assert (
        pg.locator(".group[data-pos='0'] .why")
        .text_content()
        .startswith(f"Suggested keeper: {rt.IMG_TAG} — ")
    )
    facts = tile(pg, 0, 2).locator(".facts").first.text_content()
    assert "320×240" in facts and "JPEG" in facts
    assert pg.evaluate("document.querySelectorAll('script').length") == 1

    # Mouse: keep one copy, remove another.
    tile(pg, 0, 2).locator("[data-act=remove]").click()
    wait_class(pg, 0, 2, "decided-remove")
    tile(pg, 0, 1).locator("[data-act=keep]").click()
    wait_class(pg, 0, 1, "decided-keep")

    # Keyboard: next group, remove the selected copy (the one whose name is not UTF-8).
    pg.keyboard.press("n")
    pg.wait_for_selector(".group[data-pos='1'].current")
    pg.keyboard.press("r")
    wait_class(pg, 1, 1, "decided-remove")
    pg.keyboard.press("n")
    pg.wait_for_selector(".group[data-pos='2'].current")
    pg.keyboard.press("r")  # remove the byte copy …
    wait_class(pg, 2, 1, "decided-remove")
    pg.keyboard.press("u")  # … and take it back
    wait_class(pg, 2, 1, "decided-remove", present=False)
    pg.keyboard.press("ArrowLeft")
    pg.keyboard.press("k")  # keep the keeper explicitly
    wait_class(pg, 2, 0, "decided-keep")

    # Compare the keeper with the smaller copy: zoom and pan move both panes together.
    pg.keyboard.press("ArrowRight")
    pg.keyboard.press("ArrowRight")
    pg.keyboard.press("c")
    pg.wait_for_selector("#compare:not([hidden])")
    pg.wait_for_function(
        "() => [...document.querySelectorAll('#pane-a img:not(.flick), #pane-b img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    labels = pg.locator(".plabel").all_text_contents()
    assert labels[0].startswith(f"A: {rt.PLAIN} · 640×480") and rt.PLAIN_SMALL in labels[1]
    box = pg.locator("#pane-a").bounding_box()
    pg.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
    pg.mouse.wheel(0, -400)
    pg.wait_for_function("() => parseFloat(document.getElementById('compare').dataset.scale) > 1")
    pg.mouse.down()
    pg.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=4)
    pg.mouse.up()
    transforms = pg.eval_on_selector_all(".pane .layer", "ls => ls.map(l => l.style.transform)")
    assert transforms[0] == transforms[1] != "translate(0px, 0px) scale(1)"
    layers = pg.eval_on_selector_all(
        "#pane-a .layer, #pane-b .layer", "ls => ls.map(l => [l.style.width, l.style.height])"
    )
    assert layers[0] == layers[1]  # one picture size in both panes, so the same spot lines up
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "review-compare.png"))
    pg.keyboard.press("2")  # flicker: one pane that shows B now and then
    assert pg.locator("#pane-b").is_hidden()
    pg.wait_for_function("() => !document.querySelector('#pane-a img.flick').hidden")
    pg.keyboard.press("3")  # difference of a resized copy: small, but not zero
    pg.wait_for_selector("#pane-x canvas[data-mean]")
    mean = float(pg.get_attribute("#pane-x canvas", "data-mean"))
    assert 0 < mean < 12
    pg.keyboard.press("d")  # a person says these are not the same picture
    wait_class(pg, 2, 2, "notdup")
    pg.keyboard.press("Escape")
    assert pg.locator("#compare").is_hidden()
    pg.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=True)

    # The decisions file holds exactly what was decided.
    by_name = {os.path.basename(m.path): m.path for g in data.groups for m in g.members}
    saved = load_decisions(decisions_path(report))
    assert saved.files == {
        by_name[rt.QUOTED]: "keep",
        by_name[rt.SPACED]: "remove",
        by_name[rt.NON_UTF8]: "remove",
        by_name[rt.PLAIN]: "keep",
    }
    assert saved.not_duplicates == {(by_name[rt.PLAIN_SMALL], by_name[rt.PLAIN])}

    # Reload: every decision is still there, and the filter finds no undecided group.
    pg.reload()
    ready(pg)
    for pos, k, cls in ((0, 2, "decided-remove"), (0, 1, "decided-keep"), (1, 1, "decided-remove")):
        wait_class(pg, pos, k, cls)
    wait_class(pg, 2, 2, "notdup")
    assert "not a duplicate" in tile(pg, 2, 2).locator(".status").text_content()
    pg.select_option("#filter", "undecided")
    pg.wait_for_function("() => document.getElementById('page-info').textContent === 'no groups'")
    assert pg.problems == []

    # A later scan no longer pairs the two files marked "not a duplicate".
    again = rt.run_cli("scan", str(tree), "-o", str(tree.parent / "again.json"), cache=cache)
    assert again.returncode == 1, again.stderr
    groups = [
        {os.path.basename(m.path) for m in g.members}
        for g in load_report(tree.parent / "again.json").groups
    ]
    assert {rt.PLAIN, rt.PLAIN_COPY} in groups
    assert not any(rt.PLAIN_SMALL in g for g in groups)
    assert len(groups) == 3

    # picdup apply honours the decisions: the kept copy is the keeper, the pair marked "not a
    # duplicate" is left alone, undecided copies follow the policy.
    quarantine = tree.parent / "quarantine"
    done = rt.run_cli(
        "apply", str(report), "--action", "quarantine", "--to", str(quarantine), "--yes",
        cache=cache,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    moved = {os.fsdecode(p.name) for p in quarantine.rglob("*") if p.is_file()}
    assert moved == {rt.IMG_TAG, rt.SPACED, rt.NON_UTF8, rt.PLAIN_COPY}
    left = {os.fsdecode(p.name) for p in tree.iterdir()}
    assert {rt.QUOTED, rt.SCRIPT, rt.PLAIN, rt.PLAIN_SMALL, rt.UNIQUE, rt.SECRET} == left


def test_apply_from_the_page_shows_the_plan_and_needs_confirmation(
    page: Any, reviewed: tuple[rt.ReviewProcess, Path, Path, Path]
) -> None:
    proc, _, tree, _ = reviewed
    pg = page
    pg.goto(proc.url)
    ready(pg)
    tile(pg, 2, 2).locator("[data-act=notdup]").click()
    wait_class(pg, 2, 2, "notdup")
    pg.click("#apply-open")
    pg.wait_for_selector("#apply-dialog[open]")
    pg.select_option("#apply-action", "quarantine")
    quarantine = tree.parent / "q"
    pg.fill("#apply-to", str(quarantine))
    pg.click("#apply-preview")
    pg.wait_for_selector("#apply-confirm-row:not([hidden])")
    plan_text = pg.text_content("#apply-plan")
    assert "Go ahead?" in plan_text and rt.PLAIN_COPY in plan_text
    assert "caf\\xe9 small.jpg" in plan_text
    assert pg.text_content("#apply-phrase") == "quarantine"
    assert pg.is_disabled("#apply-run")
    pg.fill("#apply-confirm", "quarantin")
    assert pg.is_disabled("#apply-run")
    assert not quarantine.exists()  # nothing happens before the confirmation
    pg.fill("#apply-confirm", "quarantine")
    pg.click("#apply-run")
    pg.wait_for_selector("#apply-result[data-ok='1']")
    result = pg.text_content("#apply-result")
    assert result.startswith("4 done, 0 skipped, 0 failed") and "picdup undo " in result
    moved = {os.fsdecode(p.name) for p in quarantine.rglob("*") if p.is_file()}
    assert moved == {rt.QUOTED, rt.SPACED, rt.NON_UTF8, rt.PLAIN_COPY}
    assert (tree / rt.PLAIN_SMALL).exists()
    (ARTIFACTS / "").mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "review-apply.png"))
    # The same plan cannot run twice.
    pg.click("#apply-preview")
    pg.wait_for_function(
        "() => document.getElementById('apply-result').textContent === 'Nothing to do.'"
        " || !document.getElementById('apply-confirm-row').hidden"
    )
    assert pg.problems == []


def test_keyboard_moves_across_pages(page: Any, tmp_path: Path) -> None:
    """45 groups: the page shows 20 at a time and n/p cross page boundaries."""
    from imagegen import photo, save
    from picdup.model import Group, Member, Report, Stats
    from picdup.report import write_report
    from picdup.review import open_review

    img = tmp_path / "a.jpg"
    save(photo(7, 160, 120), img)
    groups = []
    for i in range(45):
        a = tmp_path / f"g{i:02d}a.jpg"
        b = tmp_path / f"g{i:02d}b.jpg"
        for p in (a, b):
            os.link(img, p)
        members = tuple(
            Member(str(p), 100, "2026-01-01T00:00:00.000Z", 160, 120, "JPEG", c, 0, 1.0)
            for p, c in ((a, "keeper"), (b, "exact"))
        )
        groups.append(Group(i + 1, "exact", str(tmp_path), str(a), "shortest path", members))
    report = tmp_path / "many.json"
    write_report(Report((str(tmp_path),), {}, Stats(groups=45), (), tuple(groups)), report)
    server = open_review(report, cache_dir=str(tmp_path / "cache"))
    thread = server.serve_in_thread()
    try:
        page.goto(server.url)
        ready(page)
        assert page.locator(".group").count() == 20
        assert page.text_content("#page-info") == "groups 1–20 of 45"
        for _ in range(20):
            page.keyboard.press("n")
        page.wait_for_function(
            "() => document.getElementById('page-info').textContent === 'groups 21–40 of 45'"
        )
        assert page.text_content(".group.current h2").startswith("Group 21 ")
        page.keyboard.press("p")
        page.wait_for_function(
            "() => document.getElementById('page-info').textContent === 'groups 1–20 of 45'"
        )
        assert page.text_content(".group.current h2").startswith("Group 20 ")
        page.fill("#goto", "45")
        page.press("#goto", "Enter")
        page.wait_for_function(
            "() => document.querySelector('.group.current h2')?.textContent.startsWith('Group 45 ')"
        )
        assert page.problems == []
    finally:
        server.stop()
        thread.join(timeout=10)
