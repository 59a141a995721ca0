"""Finding the files to compare: walking roots, filtering, and sniffing types."""

from picdup.scan.sniff import sniff
from picdup.scan.walk import WalkResult, resolve_roots, walk

__all__ = ["WalkResult", "resolve_roots", "sniff", "walk"]
