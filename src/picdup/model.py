"""The core types that flow through the pipeline (see DESIGN.md, "Data flows one way").

Every stage takes and returns these values; they are frozen so a stage can never change what an
earlier stage produced.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "HASH_BITS",
    "Asset",
    "FileError",
    "FileRef",
    "Fingerprint",
    "Group",
    "ImageHash",
    "ImageInfo",
    "Match",
    "MatchClass",
    "Member",
    "Report",
    "Stats",
]

HASH_BITS = 64


class MatchClass(str, enum.Enum):
    """How alike two files are, strictest first (DESIGN.md, "Vocabulary")."""

    EXACT = "exact"
    PIXEL = "pixel"
    NEAR = "near"
    EDITED = "edited"
    SIMILAR = "similar"

    @property
    def rank(self) -> int:
        """0 for the strictest class; a larger rank is a looser class."""
        return _CLASS_ORDER.index(self)

    def within(self, loosest: MatchClass) -> bool:
        """True when this class is at least as strict as ``loosest``."""
        return self.rank <= loosest.rank


_CLASS_ORDER = list(MatchClass)


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file found by the walk. ``path`` is absolute (or an fsspec URL); ``root`` is the root it
    was found under, as given by the user but made absolute. ``etag`` is the object store's
    version tag (S3 ETag, GCS etag, zip CRC) when the listing gives one: with the size it tells
    a changed object from an unchanged one where modification times are coarse."""

    path: str
    size: int
    mtime_ns: int
    root: str
    device: int | None = None
    inode: int | None = None
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """Facts read from the image header and the one reduced decode.

    ``width``/``height`` are the displayed size (EXIF orientation applied)."""

    format: str
    width: int
    height: int
    orientation: int = 1
    frames: int = 1
    mode: str = ""

    @property
    def pixels(self) -> int:
        return self.width * self.height


class ImageHash:
    """A perceptual hash as a value.

    Subtraction gives the Hamming distance, ``str()`` gives fixed-width hex that
    :meth:`from_hex` parses back, and mixing sizes is an error rather than a silent wrong answer.
    """

    __slots__ = ("bits", "value")

    def __init__(self, value: int, bits: int = HASH_BITS) -> None:
        if bits <= 0:
            raise ValueError(f"hash size must be positive, got {bits}")
        if value < 0 or value >> bits:
            raise ValueError(f"hash value does not fit in {bits} bits")
        self.value = value
        self.bits = bits

    @classmethod
    def from_hex(cls, text: str) -> ImageHash:
        return cls(int(text, 16), len(text) * 4)

    def __sub__(self, other: object) -> int:
        if not isinstance(other, ImageHash):
            return NotImplemented
        if other.bits != self.bits:
            raise ValueError(f"cannot compare a {self.bits}-bit hash with a {other.bits}-bit hash")
        return (self.value ^ other.value).bit_count()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ImageHash) and (self.bits, self.value) == (other.bits, other.value)

    def __hash__(self) -> int:
        return hash((self.bits, self.value))

    def __str__(self) -> str:
        return format(self.value, f"0{self.bits // 4}x")

    def __repr__(self) -> str:
        return f"ImageHash('{self}')"


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What picdup knows about one file after reading it once.

    ``phash``/``dhash`` are 64-bit integers (never hex strings on the hot path). ``thumb`` is a
    small greyscale thumbnail of the image content (borders of a uniform colour trimmed), used to
    verify candidates; ``colour`` is a tiny RGB signature that tells colour from greyscale copies.
    ``content_width``/``content_height`` are the size of the content after trimming, in pixels of
    the original image, and ``content_left``/``content_top`` where it starts (so verification can
    compare two copies whose borders were trimmed differently on the frame they share).
    ``error`` is set, and the rest left empty, when the file could not be read.
    ``phash_turns`` holds the pHash of the 7 flips and quarter turns of the content (7 big-endian
    64-bit words, codes 1–7 of :func:`picdup.fingerprint.hashes.turn`), for ``--rotations``.
    ``stream_digest`` (JPEGs only, else empty) digests the coded picture without its metadata
    and with its orientation: equal stream digests mean equal pixels, so a copy whose metadata
    alone was rewritten is a ``pixel`` match without two full decodes
    (:mod:`picdup.fingerprint.stream`).
    """

    ref: FileRef
    digest: str
    info: ImageInfo | None = None
    phash: int = 0
    dhash: int = 0
    thumb: bytes = b""
    colour: bytes = b""
    content_width: int = 0
    content_height: int = 0
    error: str | None = None
    phash_turns: bytes = b""
    content_left: int = 0
    content_top: int = 0
    stream_digest: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.info is not None


@dataclass(frozen=True, slots=True)
class Match:
    """A verified pair: indexes into the fingerprint list, the class, and the evidence."""

    a: int
    b: int
    cls: MatchClass
    distance: int
    score: float


@dataclass(frozen=True, slots=True)
class Member:
    """One file of a group as the report shows it.

    ``archive`` marks a file of the reference archive of ``scan --against``: it is reported so a
    person sees what a new file duplicates, and actions never touch it."""

    path: str
    size: int
    mtime: str
    width: int
    height: int
    format: str
    cls: str
    distance: int
    score: float
    mtime_ns: int = 0
    digest: str = ""
    archive: bool = False
    etag: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "size": self.size,
            "mtime": self.mtime,
            "mtime_ns": self.mtime_ns,
            "width": self.width,
            "height": self.height,
            "format": self.format,
            "digest": self.digest,
            "class": self.cls,
            "distance": self.distance,
            "score": self.score,
        }
        # Only written when set, so reports of local scans keep their exact shape.
        if self.etag is not None:
            out["etag"] = self.etag
        if self.archive:
            out["archive"] = True
        return out


@dataclass(frozen=True, slots=True)
class Group:
    """Files that all match one keeper. ``cls`` is the loosest class of any member."""

    id: int
    cls: str
    root: str | None
    keep: str
    why: str
    members: tuple[Member, ...]
    weakest: dict[str, Any] | None = None

    @property
    def duplicates(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.path != self.keep)

    @property
    def reclaimable_bytes(self) -> int:
        return sum(m.size for m in self.duplicates)


@dataclass(frozen=True, slots=True)
class FileError:
    """A file that could not be used, and why."""

    path: str
    error: str


@dataclass(frozen=True, slots=True)
class Stats:
    files: int = 0
    images: int = 0
    skipped: int = 0
    groups: int = 0
    duplicates: int = 0
    reclaimable_bytes: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Asset:
    """Files that together are one photo (``--pairs``): a RAW file and the JPEG the camera wrote
    beside it, or a Live Photo's still and its video. ``files`` starts with ``primary``, the
    picture a viewer shows. A group never holds two files of one asset; a member that belongs to
    an asset stands for all of its files."""

    id: int
    kind: str
    primary: str
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Report:
    """The hand-off between finding and acting (report format version 1, DESIGN.md)."""

    roots: tuple[str, ...]
    options: dict[str, Any]
    stats: Stats
    errors: tuple[FileError, ...]
    groups: tuple[Group, ...]
    command: tuple[str, ...] = ()
    created: str = ""
    tool_version: str = ""
    skipped: dict[str, int] = field(default_factory=dict)
    assets: tuple[Asset, ...] = ()
