"""Invariants of every plan, whatever the policies, folders and review decisions."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import picdup
from act_tree import make_tree, scan
from picdup.act.policy import POLICIES, under
from picdup.decisions import Decisions


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Path]:
    base = tmp_path_factory.mktemp("inv")
    root = base / "tree"
    make_tree(root)
    report = base / "report.json"
    r = scan(root, report)
    members = sorted(m.path for g in r.groups for m in g.members)
    return root, members, report


ORDERS = st.lists(
    st.sampled_from([p for p in POLICIES if p != "newest"]), unique=True, max_size=6
) | st.lists(st.sampled_from([p for p in POLICIES if p != "oldest"]), unique=True, max_size=6)
FOLDERS = st.lists(st.sampled_from(["a", "b", "c", "c/deep", "s"]), unique=True, max_size=2)


@settings(max_examples=60, deadline=None)
@given(
    keep=ORDERS,
    prefer=FOLDERS,
    protect=FOLDERS,
    verdicts=st.lists(st.sampled_from([None, "keep", "remove"]), min_size=6, max_size=6),
    action=st.sampled_from(["trash", "delete", "quarantine", "move", "hardlink", "symlink"]),
)
def test_every_plan_keeps_one_copy_per_group_and_respects_protect(
    tree: tuple[Path, list[str], Path],
    keep: list[str],
    prefer: list[str],
    protect: list[str],
    verdicts: list[str | None],
    action: str,
) -> None:
    root, members, report = tree
    decisions = Decisions()
    for path, verdict in zip(members, verdicts, strict=True):
        decisions.set_file(path, verdict)
    to = root.parent / "dest" if action in ("quarantine", "move") else None
    p = picdup.plan(
        report,
        action=action,
        keep=keep,
        prefer=[root / f for f in prefer],
        protect=[root / f for f in protect],
        to=to,
        decisions=decisions,
    )
    report_groups = picdup.load_report(report).groups
    assert len(p.groups) == len(report_groups)
    for g, rg in zip(p.groups, report_groups, strict=True):
        acted = {s.path for s in g.steps}
        left = {k.path for k in g.kept}
        everyone = {m.path for m in rg.members}
        assert g.keep in everyone and g.keep not in acted  # never the keeper
        assert acted | left | {g.keep} == everyone and not acted & left  # each member once
        assert len(acted) < len(everyone)  # never the last copy
        for path in acted:
            assert not any(under(path, str(root / f)) for f in protect)
            assert decisions.files.get(path) != "keep"
        if any(v == "keep" for path, v in decisions.files.items() if path in everyone):
            assert decisions.files.get(g.keep) == "keep"
    targets = [s.target for s in p.steps if s.op == "move"]
    assert len(targets) == len(set(targets))  # no two files go to one name
    assert picdup.Plan.from_dict(p.to_dict()) == p
