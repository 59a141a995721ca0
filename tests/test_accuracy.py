"""Accuracy on real photos: the imagededup labelled set, and a small synth set of shared photos.

The full two-seed calibration run is ``bench/accuracy.py``; this keeps a small, fast check.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from picdup import find_duplicates
from picdup.evaluate import evaluate_report, load_truth, synthesize

RunCli = Callable[..., CompletedProcess[str]]


def _groups_by_name(root: Path, **options: object) -> list[set[str]]:
    report = find_duplicates([root], jobs=1, **options)  # type: ignore[arg-type]
    return [{str(Path(m.path).relative_to(root)) for m in g.members} for g in report.groups]


@pytest.mark.shared_data
def test_imagededup_copies_found_in_the_mode_they_need(shared_data: Path) -> None:
    root = shared_data / "labeled" / "imagededup"
    truth = json.loads((shared_data / "labeled" / "imagededup-truth.json").read_text())
    source_of = {p.removeprefix("imagededup/"): k for k, g in enumerate(truth["groups"]) for p in g}
    base = "base_images/ukbench00120.jpg"

    def group_of(groups: list[set[str]], name: str) -> set[str]:
        return next((g for g in groups if name in g), {name})

    for mode, rotations, expected in [
        ("near", False, ["mixed_images/ukbench00120_resize.jpg", "alpha_channel_image.png"]),
        ("near", True, ["mixed_images/ukbench00120_hflip.jpg"]),
        ("edited", False, ["ukbench00120_gray.jpg"]),
        # Turned by 30° about the centre on the same canvas: a tilted copy.
        (
            "edited",
            True,
            [
                "mixed_images/ukbench00120_rotation.jpg",
                "mixed_nested_images/lvl1/lvl2a/ukbench00120_rotation.jpg",
                "mixed_images/ukbench00120_hflip.jpg",
                "ukbench00120_gray.jpg",
            ],
        ),
    ]:
        groups = _groups_by_name(root, mode=mode, rotations=rotations)
        for g in groups:  # no group mixes two source photos
            assert len({source_of[p] for p in g}) == 1, g
        assert set(expected) <= group_of(groups, base), (mode, rotations)
        formats = group_of(groups, "base_images/ukbench09380.jpg")
        assert "formats_images/ukbench09380.webp" in formats


@pytest.mark.shared_data
@pytest.mark.slow
def test_small_synth_set_of_shared_photos(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "set"
    synthesize(shared_data / "photos", out, seed=11, limit=12, max_side=800, jobs=2)
    truth = load_truth(out / "truth.json")
    near = evaluate_report(find_duplicates([out], jobs=2), truth)
    families = ("exact", "pixel", "resize50", "resize25", "resize1280", "recompress", "png")
    for name in families:
        assert near.recall_by_transform[name]["recall"] >= 0.9, name
    assert near.precision >= 0.97
    assert near.hard_negatives_by_kind.get("shifted_crop", 0) == 0
    turned = evaluate_report(find_duplicates([out], jobs=2, rotations=True), truth)
    for name in ("flip", "rotate90"):
        assert turned.recall_by_transform[name]["recall"] >= 0.9, name
    tilted = evaluate_report(find_duplicates([out], jobs=2, mode="edited", rotations=True), truth)
    assert tilted.recall_by_transform["tilt"]["recall"] >= 0.9
    assert tilted.precision >= 0.97
