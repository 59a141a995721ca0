"""Clustering verified matches into groups that never chain.

Transitive closure (A~B and B~C, so A, B, C together) is what makes other tools report giant
groups of unrelated images. picdup builds stars instead: nodes are taken in a fixed order of
preference (best copy first, ties broken by path, so the input order never matters); each node
not yet placed becomes a group's centre and takes every unplaced node it matches *directly*.
Every member therefore matches the group's keeper with its own evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from picdup.model import Match

__all__ = ["star_clusters"]


def star_clusters(
    matches: Sequence[Match], rank: Callable[[int], Hashable]
) -> list[tuple[int, list[Match]]]:
    """Group the nodes of ``matches`` into stars.

    ``rank(node)`` orders nodes by preference (smallest first) and must be total, e.g. end with
    the path. Returns ``(centre, matches from the centre to each member)`` per group, in rank
    order of the centres; member matches are in rank order of the members.
    """
    adjacent: dict[int, dict[int, Match]] = {}
    for m in matches:
        adjacent.setdefault(m.a, {})[m.b] = m
        adjacent.setdefault(m.b, {})[m.a] = m
    placed: set[int] = set()
    groups: list[tuple[int, list[Match]]] = []
    for centre in sorted(adjacent, key=rank):  # type: ignore[arg-type]
        if centre in placed:
            continue
        free = [n for n in adjacent[centre] if n not in placed]
        if not free:
            continue
        free.sort(key=rank)  # type: ignore[arg-type]
        placed.add(centre)
        placed.update(free)
        groups.append((centre, [adjacent[centre][n] for n in free]))
    return groups
