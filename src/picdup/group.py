"""Clustering verified matches into groups that never chain.

Transitive closure (A~B and B~C, so A, B, C together) is what makes other tools report giant
groups of unrelated images. picdup builds stars instead: nodes are taken in a fixed order of
preference (best copy first, ties broken by path, so the input order never matters); each node
not yet placed becomes a group's centre and takes every unplaced node it matches *directly*.
Every member therefore matches the group's keeper with its own evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence

from picdup.model import Match

__all__ = ["star_clusters", "verified_stars"]


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


def verified_stars(
    candidates: Iterable[tuple[int, int]],
    rank: Callable[[int], Hashable],
    verify: Callable[[int, list[int]], list[Match]],
) -> list[Match]:
    """Build the same stars as :func:`star_clusters`, verifying only the pairs a star needs.

    ``candidates`` are unverified pairs; ``verify(centre, others)`` returns the confirmed matches
    between ``centre`` and some of ``others``. Nodes are taken in rank order; an unplaced node
    verifies its candidates among the unplaced nodes and, if any is confirmed, becomes a centre.
    A pair between two members of one star is never measured, so a group of k copies costs k - 1
    verifications instead of k(k - 1)/2. Feeding the returned matches to :func:`star_clusters`
    gives the stars (every returned match joins a centre to one of its members).
    """
    adjacent: dict[int, set[int]] = {}
    for a, b in candidates:
        if a == b:
            continue
        adjacent.setdefault(a, set()).add(b)
        adjacent.setdefault(b, set()).add(a)
    placed: set[int] = set()
    matches: list[Match] = []
    for centre in sorted(adjacent, key=rank):  # type: ignore[arg-type]
        if centre in placed:
            continue
        free = sorted((n for n in adjacent[centre] if n not in placed), key=rank)  # type: ignore[arg-type]
        if not free:
            continue
        confirmed = verify(centre, free)
        if not confirmed:
            continue
        placed.add(centre)
        for m in confirmed:
            placed.add(m.b if m.a == centre else m.a)
        matches.extend(confirmed)
    return matches
