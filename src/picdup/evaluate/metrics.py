"""Scoring a report against ground truth (``picdup evaluate``).

Pairwise metrics: every two files of one predicted group form a predicted pair, every two files of
one truth group a true pair. Precision is the share of predicted pairs that are true, recall the
share of true pairs that were predicted. Recall per transform counts, for each derived file, whether
it was grouped with the file it was derived from (the first file of its truth group).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from picdup.errors import InputError, ReportError
from picdup.model import Report

__all__ = ["Evaluation", "Truth", "evaluate_groups", "evaluate_report", "load_truth"]


@dataclass(frozen=True, slots=True)
class Truth:
    """Ground truth: groups of paths (relative to ``base``), transforms, hard-negative pairs."""

    base: str
    groups: tuple[tuple[str, ...], ...]
    transforms: dict[str, str] = field(default_factory=dict)
    families: dict[str, str] = field(default_factory=dict)
    hard_negatives: tuple[tuple[str, str, str], ...] = ()


def load_truth(path: str | os.PathLike[str]) -> Truth:
    """Read ``truth.json`` (from ``picdup synth``, or the shared ``*-truth.json`` files).

    Paths in it are relative to the truth file's folder.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    except FileNotFoundError as exc:
        raise InputError(f"truth file not found: {path}") from exc
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read truth file {path}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("groups"), list):
        raise InputError(f"{path} is not a truth file (no 'groups' list)")
    negatives = tuple(
        (str(p[0]), str(p[1]), str(p[2]) if len(p) > 2 else "hard negative")
        for p in raw.get("hard_negatives", [])
    )
    return Truth(
        base=os.path.dirname(os.path.abspath(path)),
        groups=tuple(tuple(str(p) for p in g) for g in raw["groups"]),
        transforms={str(k): str(v) for k, v in raw.get("transforms", {}).items()},
        families={str(k): str(v) for k, v in raw.get("families", {}).items()},
        hard_negatives=negatives,
    )


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The scores of one report against one truth."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    groups: int
    largest_group: int
    recall_by_transform: dict[str, dict[str, float]]
    hard_negatives_grouped: int
    hard_negatives_total: int
    hard_negatives_by_kind: dict[str, int]
    hard_negative_examples: list[list[str]]
    false_pair_examples: list[list[str]]
    missed_examples: dict[str, list[str]]
    unknown_files: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pairs(groups: Iterable[Iterable[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for g in groups:
        members = sorted(set(g))
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                out.add((members[a], members[b]))
    return out


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def evaluate_groups(predicted: Iterable[Iterable[str]], truth: Truth) -> Evaluation:
    """Score predicted groups of paths relative to ``truth.base`` (others are ignored)."""
    known = {p for g in truth.groups for p in g}
    given = [list(g) for g in predicted]
    unknown = sum(1 for g in given for p in g if p not in known)
    pred_groups = [[p for p in g if p in known] for g in given]
    pred_groups = [g for g in pred_groups if len(g) > 1]
    pred = _pairs(pred_groups)
    true = _pairs(truth.groups)
    correct = len(pred & true)
    precision = correct / len(pred) if pred else 1.0
    recall = correct / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed: dict[str, list[str]] = {}
    for g in truth.groups:
        head = g[0]
        for p in g[1:]:
            t = truth.transforms.get(p, "copy")
            total[t] += 1
            if _key(head, p) in pred:
                found[t] += 1
            else:
                missed.setdefault(t, []).append(p)
    by_transform = {
        t: {"recall": round(found[t] / total[t], 4), "found": found[t], "total": total[t]}
        for t in sorted(total)
    }
    wrong = [(a, b, k) for a, b, k in truth.hard_negatives if _key(a, b) in pred]
    by_kind = Counter(k for _, _, k in wrong)
    false_pairs = sorted(pred - true)
    return Evaluation(
        precision=round(precision, 5),
        recall=round(recall, 5),
        f1=round(f1, 5),
        true_pairs=len(true),
        predicted_pairs=len(pred),
        correct_pairs=correct,
        groups=len(pred_groups),
        largest_group=max((len(g) for g in pred_groups), default=0),
        recall_by_transform=by_transform,
        hard_negatives_grouped=len(wrong),
        hard_negatives_total=len(truth.hard_negatives),
        hard_negatives_by_kind=dict(sorted(by_kind.items())),
        hard_negative_examples=[[a, b, k] for a, b, k in wrong[:20]],
        false_pair_examples=[list(p) for p in false_pairs[:20]],
        missed_examples={t: sorted(ps)[:10] for t, ps in sorted(missed.items())},
        unknown_files=unknown,
    )


def evaluate_report(report: Report, truth: Truth) -> Evaluation:
    """Score a picdup report; its absolute paths are made relative to the truth's folder."""
    base = os.path.realpath(truth.base)
    if not truth.groups:
        raise ReportError("the truth file lists no files")
    groups = [
        [os.path.relpath(os.path.realpath(m.path), base).replace(os.sep, "/") for m in g.members]
        for g in report.groups
    ]
    return evaluate_groups(groups, truth)
