"""Ground truth, metrics, and the transformed-copy generator used for calibration."""

from picdup.evaluate.metrics import Evaluation, Truth, evaluate_groups, evaluate_report, load_truth
from picdup.evaluate.synth import FAMILIES, TRANSFORMS, SynthResult, synthesize

__all__ = [
    "FAMILIES",
    "TRANSFORMS",
    "Evaluation",
    "SynthResult",
    "Truth",
    "evaluate_groups",
    "evaluate_report",
    "load_truth",
    "synthesize",
]
