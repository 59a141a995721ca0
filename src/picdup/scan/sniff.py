"""Type sniffing by magic bytes, so a file's content decides what it is, not its name."""

from __future__ import annotations

__all__ = ["HEAD_BYTES", "IMAGE_EXTENSIONS", "RAW_EXTENSIONS", "VIDEO_EXTENSIONS", "sniff"]

# Enough for the longest signature picdup looks at: an ISO media brand list, or an SVG root
# element after an XML declaration, a DOCTYPE and a comment.
HEAD_BYTES = 512

# Camera RAW formats (read through the optional ``raw`` extra).
RAW_EXTENSIONS = frozenset(
    [
        "dng",
        "cr2",
        "cr3",
        "crw",
        "nef",
        "nrw",
        "arw",
        "srf",
        "sr2",
        "orf",
        "rw2",
        "raf",
        "pef",
        "srw",
        "x3f",
        "erf",
        "kdc",
        "mrw",
        "3fr",
        "iiq",
        "rwl",
    ]
)

IMAGE_EXTENSIONS = (
    frozenset(
        [
            "jpg",
            "jpeg",
            "jpe",
            "jfif",
            "png",
            "apng",
            "gif",
            "webp",
            "avif",
            "heic",
            "heif",
            "hif",
            "bmp",
            "dib",
            "tif",
            "tiff",
            "mpo",
            "ppm",
            "pgm",
            "pbm",
            "pnm",
            "ico",
            "jxl",
            "jp2",
            "j2k",
            "tga",
        ]
    )
    | RAW_EXTENSIONS
)

# The moving half of a Live Photo and other clips that sit beside photos.
VIDEO_EXTENSIONS = frozenset(
    ["mov", "mp4", "m4v", "3gp", "avi", "mkv", "webm", "mts", "m2ts", "wmv"]
)

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A "}


def sniff(head: bytes) -> tuple[str | None, str | None]:
    """Return ``(image_kind, None)`` for an image, ``(None, reason)`` for something else.

    ``head`` is the first :data:`HEAD_BYTES` bytes of the file. ``image_kind`` is a short name
    (``"jpeg"``, ``"png"``, ``"heif"`` …); ``reason`` says what the file is when it is not an
    image picdup reads (``"empty file"``, ``"video"``, ``"not an image"`` …).
    """
    if not head:
        return None, "empty file"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg", None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", None
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif", None
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp", None
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return None, "video"
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if head[:4] in (b"IIRO", b"IIRS", b"IIU\x00"):
        return "raw", None  # Olympus ORF, Panasonic RW2: TIFF-like, but RAW only
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff", None  # also most RAW formats (DNG, NEF, CR2, ARW): told apart later
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "raw", None
    if head[:2] == b"BM" and len(head) >= 14:
        return "bmp", None
    if len(head) >= 3 and head[0:1] == b"P" and head[1:2] in b"123456" and head[2:3] in b" \t\r\n#":
        return "pnm", None
    if head[:4] == b"\x00\x00\x01\x00":
        return "ico", None
    if head[:2] == b"\xff\x0a" or head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "jxl", None
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head[:4] == b"\xffO\xffQ":
        return "jpeg2000", None
    if head.startswith(b"%PDF"):
        return None, "PDF document"
    if head[:4] in _VIDEO_MAGIC:
        return None, "video"
    if head[:3] == b"FWS" or head[:3] == b"CWS":
        return None, "not an image (Flash)"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<svg") or (
        stripped.startswith((b"<?xml", b"<!")) and (b"<svg" in head or b"DOCTYPE svg" in head)
    ):
        return None, "vector image (SVG)"
    if head[:2] == b"\x1f\x8b":
        return None, "not an image (gzip; perhaps a compressed SVG)"
    return None, "not an image"


# Matroska/WebM, MPEG program stream, ASF/WMV, FLV.
_VIDEO_MAGIC = (b"\x1aE\xdf\xa3", b"\x00\x00\x01\xba", b"0&\xb2u", b"FLV\x01")


def _iso_media(head: bytes) -> tuple[str | None, str | None]:
    """ISO base media (HEIF, AVIF, CR3, MP4, MOV): decided by the major and compatible brands."""
    box_size = int.from_bytes(head[:4], "big")
    end = min(len(head), box_size if box_size >= 16 else len(head))
    brands = [head[8:12]] + [head[k : k + 4] for k in range(16, end - 3, 4)]
    if brands[0] == b"crx ":
        return "raw", None
    if any(b in _AVIF_BRANDS for b in brands):
        return "avif", None
    if any(b in _HEIF_BRANDS for b in brands):
        return "heif", None
    if any(b in _AUDIO_BRANDS for b in brands):
        return None, "audio"
    return None, "video"
