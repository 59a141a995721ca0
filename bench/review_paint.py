"""Time to first paint of the review page on a 10,000-group report, against peers in the same run.

    python bench/review_paint.py [--groups 10000] [--runs 3]

Builds a report of GROUPS groups (two hard-linked copies of small photos each), starts
``picdup review`` as a real subprocess and opens it in Debian's chromium (playwright), then
prints, for the big report and for a 100-group peer:

  * start: from launching ``picdup review`` to the URL being printed (import + load report);
  * fcp: the browser's first contentful paint after navigation;
  * groups: the page's own mark after the first page of groups is in the DOM;
  * thumbs: when every thumbnail of the first screen has loaded (cold: made on demand; warm:
    from the on-disk thumbnail cache);
  * step: milliseconds per "next group" key press over 60 presses (crossing pages).

and a third peer: the self-contained HTML report of 1,000 groups opened from disk. The ratios
big/peer show whether the page's cost grows with the report (it should not: 20 groups a page).
It fails only when the page is broken (wrong counts), never on time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]

from imagegen import photo, save  # noqa: E402
from picdup.model import Group, Member, Report, Stats  # noqa: E402
from picdup.report import load_report, write_report  # noqa: E402
from picdup.report.html import write_html  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def build_report(folder: Path, groups: int, bases: list[Path]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(groups):
        base = bases[i % len(bases)]
        paths = [folder / f"g{i:05d}-{k}.jpg" for k in range(2)]
        for p in paths:
            os.link(base, p)
        size = base.stat().st_size
        members = tuple(
            Member(str(p), size, "2026-01-01T00:00:00.000Z", 320, 240, "JPEG", c, 0, 1.0, 0, "d")
            for p, c in zip(paths, ("keeper", "exact"), strict=True)
        )
        out.append(Group(i + 1, "exact", str(folder), str(paths[0]), "shortest path", members))
    stats = Stats(groups=groups, duplicates=groups, reclaimable_bytes=groups * size)
    report = folder.parent / f"{folder.name}.json"
    write_report(Report((str(folder),), {}, stats, (), tuple(out)), report)
    return report


def start_review(report: Path, cache: Path) -> tuple[subprocess.Popen[str], str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "PICDUP_CACHE_DIR": str(cache)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "picdup", "review", str(report), "--no-browser"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    started = time.perf_counter() - t0
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"picdup review did not start: {line!r}")
    return proc, line[line.index("http://") :].strip(), started


_FIRST_SCREEN = """() => {
  const imgs = [...document.querySelectorAll('.thumb img')].filter(
    (i) => i.getBoundingClientRect().top < innerHeight);
  return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
}"""


def measure(page: Any, url: str, groups: int) -> dict[str, float]:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function(_FIRST_SCREEN)
    thumbs = page.evaluate("performance.now()")
    fcp = page.evaluate(
        "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN"
    )
    rendered = page.evaluate("performance.getEntriesByName('picdup-groups-rendered')[0].startTime")
    shown = page.locator(".group").count()
    info = page.text_content("#page-info")
    if shown != min(20, groups) or not info.endswith(f"of {groups}"):
        raise SystemExit(f"the page is broken: {shown} groups shown, page info {info!r}")
    return {"fcp": fcp, "groups": rendered, "thumbs": thumbs}


def steps(page: Any, presses: int = 60) -> float:
    t0 = time.perf_counter()
    for _ in range(presses):
        page.keyboard.press("n")
    want = f"Group {presses + 1} "
    page.wait_for_function(
        f"() => document.querySelector('.group.current h2')?.textContent.startsWith({want!r})"
    )
    return (time.perf_counter() - t0) * 1000 / presses


def run_review(browser: Any, report: Path, cache: Path, groups: int, runs: int) -> dict[str, Any]:
    proc, url, started = start_review(report, cache)
    try:
        results = []
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            results.append(measure(page, url, groups))
            context.close()
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        measure(page, url, groups)
        step = steps(page)
        context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    warm = results[1:] or results
    return {
        "start": started * 1000,
        "fcp": statistics.median(r["fcp"] for r in warm),
        "groups": statistics.median(r["groups"] for r in warm),
        "thumbs_cold": results[0]["thumbs"],
        "thumbs": statistics.median(r["thumbs"] for r in warm),
        "step": step,
    }


def run_static(browser: Any, html: Path, groups: int, runs: int) -> dict[str, Any]:
    results = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        results.append(measure(page, html.as_uri(), groups))
        context.close()
    return {k: statistics.median(r[k] for r in results) for k in ("fcp", "groups", "thumbs")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="picdup-bench-") as tmp:
        base = Path(tmp)
        bases = []
        for s in range(24):
            p = base / f"base{s}.jpg"
            save(photo(s, 320, 240), p)
            bases.append(p)
        t0 = time.perf_counter()
        big = build_report(base / "big", args.groups, bases)
        small = build_report(base / "small", 100, bases)
        mid = build_report(base / "mid", 1000, bases)
        built = time.perf_counter() - t0
        html = base / "mid.html"
        t0 = time.perf_counter()
        write_html(load_report(mid), html, cache_dir=str(base / "cache"))
        html_s = time.perf_counter() - t0
        print(
            f"reports built in {built:.1f} s; {big.stat().st_size / 1e6:.1f} MB JSON for "
            f"{args.groups} groups; HTML of 1,000 groups: {html.stat().st_size / 1e6:.1f} MB "
            f"written in {html_s:.1f} s"
        )
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            r_big = run_review(browser, big, base / "cache", args.groups, args.runs)
            r_small = run_review(browser, small, base / "cache", 100, args.runs)
            r_html = run_static(browser, html, 1000, args.runs)
            browser.close()

    def row(name: str, r: dict[str, Any]) -> str:
        cells = [
            f"{r.get(k, float('nan')):8.0f}"
            for k in ("start", "fcp", "groups", "thumbs_cold", "thumbs", "step")
        ]
        return f"{name:<26}" + "".join(cells)

    print(
        f"{'(milliseconds)':<26}{'start':>8}{'fcp':>8}{'groups':>8}{'cold':>8}"
        f"{'thumbs':>8}{'step':>8}"
    )
    print(row(f"review, {args.groups} groups", r_big))
    print(row("review, 100 groups", r_small))
    print(row("static HTML, 1000 groups", r_html))
    for key in ("start", "fcp", "thumbs", "step"):
        print(f"ratio {args.groups}/100 groups, {key}: {r_big[key] / r_small[key]:.2f}")
    print(f"ratio review {args.groups} / static HTML 1000, fcp: {r_big['fcp'] / r_html['fcp']:.2f}")


if __name__ == "__main__":
    main()
