"""picdup on the real labelled sets in ../shared/data (skipped when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from picdup import find_duplicates

pytestmark = pytest.mark.shared_data

# Copies that are edits, not near copies: found by the looser presets, not by near mode.
EDIT_SUFFIXES = ("_hflip", "_rotation", "_gray")


def test_imagededup_near_mode(shared_data: Path) -> None:
    labeled = shared_data / "labeled"
    truth = json.loads((labeled / "imagededup-truth.json").read_text())
    source_of = {str(labeled / p): k for k, grp in enumerate(truth["groups"]) for p in grp}
    report = find_duplicates([labeled / "imagededup"], jobs=2)

    # No group mixes two different source photos.
    for g in report.groups:
        assert len({source_of[m.path] for m in g.members}) == 1, g

    # Resized, re-encoded and format-changed copies are in one group with their source.
    group_of = {m.path: g.id for g in report.groups for m in g.members}
    for grp in truth["groups"]:
        paths = [str(labeled / p) for p in grp]
        wanted = [p for p in paths if not Path(p).stem.endswith(EDIT_SUFFIXES)]
        if len(wanted) > 1:
            assert len({group_of.get(p) for p in wanted}) == 1, wanted
            assert group_of.get(wanted[0]) is not None

    # The corrupt files are reported with a reason, not grouped.
    errors = {Path(e.path).name for e in report.errors}
    assert errors == {"ukbench09268_corrupt.jpg"}
    assert len(report.errors) == 2
