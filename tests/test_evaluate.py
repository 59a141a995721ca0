"""Metrics (pinned values), the synth generator and the CLI round trip."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

from PIL import Image

from imagegen import photo
from picdup.evaluate import Truth, evaluate_groups

RunCli = Callable[..., CompletedProcess[str]]


def test_pairwise_metrics_pinned() -> None:
    truth = Truth(
        base="/x",
        groups=(("a", "a1", "a2"), ("b", "b1"), ("c",), ("d",)),
        transforms={"a1": "resize50", "a2": "crop", "b1": "resize50"},
        hard_negatives=(("c", "d", "meme"),),
    )
    ev = evaluate_groups([["a", "a1", "c"], ["b", "b1"], ["d"], ["zz", "b"]], truth)
    # predicted pairs: (a,a1) (a,c) (a1,c) (b,b1); true pairs: (a,a1) (a,a2) (a1,a2) (b,b1)
    assert (ev.predicted_pairs, ev.true_pairs, ev.correct_pairs) == (4, 4, 2)
    assert ev.precision == 0.5 and ev.recall == 0.5 and ev.f1 == 0.5
    assert ev.recall_by_transform["resize50"] == {"recall": 1.0, "found": 2, "total": 2}
    assert ev.recall_by_transform["crop"]["recall"] == 0.0
    assert ev.hard_negatives_grouped == 0
    assert ev.groups == 2 and ev.largest_group == 3
    assert ev.unknown_files == 1


def test_hard_negative_counted() -> None:
    truth = Truth("/x", (("c",), ("d",)), hard_negatives=(("c", "d", "meme"),))
    ev = evaluate_groups([["d", "c"]], truth)
    assert ev.hard_negatives_grouped == 1 and ev.hard_negatives_by_kind == {"meme": 1}
    assert ev.precision == 0.0


def test_synth_scan_evaluate_round_trip(tmp_path: Path, run_cli: RunCli) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for k in range(6):
        photo(100 + k, 480, 360).save(src / f"p{k}.jpg", quality=92)
    out = tmp_path / "set"
    done = run_cli("synth", str(src), str(out), "--seed", "3", "--copies", "4", "--max-side", "480")
    assert done.returncode == 0, done.stderr
    truth = json.loads((out / "truth.json").read_text())
    files = [p for g in truth["groups"] for p in g]
    assert all((out / p).is_file() for p in files)
    assert set(truth["transforms"]) == set(files)
    assert {k for _, _, k in truth["hard_negatives"]} == {"meme", "screenshot", "shifted_crop"}
    photo_groups = [g for g in truth["groups"] if g[0].startswith("photos/")]
    assert all(len(g) == 5 for g in photo_groups)
    # The same seed gives the same set; another seed other parameters.
    again = tmp_path / "again"
    run_cli("synth", str(src), str(again), "--seed", "3", "--copies", "4", "--max-side", "480")
    assert json.loads((again / "truth.json").read_text())["groups"] == truth["groups"]

    report = tmp_path / "r.json"
    scan = run_cli("scan", str(out), "-o", str(report), "-q", "-j", "1")
    assert scan.returncode == 1, scan.stderr
    ev = run_cli("evaluate", str(report), "--truth", str(out / "truth.json"), "--json")
    assert ev.returncode == 0, ev.stderr
    scores = json.loads(ev.stdout)
    near_family = [t for t in scores["recall_by_transform"] if truth["families"].get(t) == "near"]
    assert near_family
    found = sum(scores["recall_by_transform"][t]["found"] for t in near_family)
    total = sum(scores["recall_by_transform"][t]["total"] for t in near_family)
    assert found / total >= 0.85
    assert "shifted_crop" not in scores["hard_negatives_by_kind"]
    assert scores["groups"] >= 4 and scores["largest_group"] >= 2
    text = run_cli("evaluate", str(report), "--truth", str(out / "truth.json"))
    assert "precision" in text.stdout and "recall by transform" in text.stdout


def _left_out_as_alike(
    tmp_path: Path, run_cli: RunCli, seed: int, extra: Image.Image, name: str
) -> list[str]:
    """The "looks the same" reasons of a synth run over four distinct photos (``seed`` …
    ``seed + 3``, saved as ``p0.jpg`` …) and ``extra`` saved as ``name``."""
    src = tmp_path / "src"
    src.mkdir()
    for k in range(4):
        photo(seed + k, 480, 360).save(src / f"p{k}.jpg", quality=92)
    extra.save(src / name, quality=92)
    out = tmp_path / "set"
    done = run_cli("synth", str(src), str(out), "--seed", "1", "--copies", "2", "--max-side", "480")
    assert done.returncode == 0, done.stderr
    truth = json.loads((out / "truth.json").read_text())
    return [s for s in truth["skipped"] if "looks the same" in s]


def test_synth_leaves_out_a_source_that_is_a_reframed_exposure_of_another(
    tmp_path: Path, run_cli: RunCli
) -> None:
    """Two tripod shots of one scene, the second zoomed 4 % off-centre and exposed brighter, are
    what an edit would make: the truth must not call them different pictures."""
    reshot = photo(120, 480, 360).crop((19, 4, 480 - 0, 360 - 10)).resize((480, 360))
    reshot = reshot.point(lambda v: min(255, int(v * 1.15)))
    alike = _left_out_as_alike(tmp_path, run_cli, 120, reshot, "p9-reshot.jpg")
    # Only the reshot is left out; the four distinct pictures all stay.
    assert len(alike) == 1 and "p9-reshot.jpg" in alike[0] and "p0.jpg" in alike[0]


def test_synth_leaves_out_a_source_that_is_a_turned_exposure_of_another(
    tmp_path: Path, run_cli: RunCli
) -> None:
    """A chart shot upright and shot again turned a quarter and darker is, to ``--rotations``,
    a turned copy with a brightness edit: one of the two is left out."""
    turned = photo(141, 480, 360).transpose(Image.Transpose.ROTATE_90)
    turned = turned.point(lambda v: int(v * 0.8))
    alike = _left_out_as_alike(tmp_path, run_cli, 140, turned, "p9-turned.jpg")
    assert len(alike) == 1 and "p9-turned.jpg" in alike[0] and "p1.jpg" in alike[0]


def test_synth_and_evaluate_fail_cleanly(tmp_path: Path, run_cli: RunCli) -> None:
    missing = run_cli("synth", str(tmp_path / "nope"), str(tmp_path / "out"))
    assert missing.returncode == 2 and "not found" in missing.stderr
    bad = run_cli("evaluate", str(tmp_path / "r.json"), "--truth", str(tmp_path / "t.json"))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_help_has_examples(run_cli: RunCli) -> None:
    for command in ("synth", "evaluate", "scan"):
        assert "Examples:" in run_cli(command, "--help").stdout
