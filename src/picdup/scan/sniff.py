"""Type sniffing by magic bytes, so a file's content decides what it is, not its name."""

from __future__ import annotations

__all__ = ["HEAD_BYTES", "IMAGE_EXTENSIONS", "sniff"]

HEAD_BYTES = 64

IMAGE_EXTENSIONS = frozenset(
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
        "dng",
        "cr2",
        "cr3",
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
    ]
)

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_VIDEO_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"avc1"}


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
        brand = head[8:12]
        if brand in _AVIF_BRANDS:
            return "avif", None
        if brand in _HEIF_BRANDS:
            return "heif", None
        if brand == b"crx ":
            return "raw", None
        if brand in _VIDEO_BRANDS:
            return None, "video"
        return None, "not an image (ISO media)"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"IIRO", b"IIRS", b"IIU\x00"):
        return "tiff", None  # also most RAW formats (DNG, NEF, CR2, ARW, ORF, RW2)
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
    if head[:4] == b"\x1aE\xdf\xa3":
        return None, "video"
    stripped = head.lstrip()
    if stripped.startswith((b"<svg", b"<?xml")) and b"<svg" in head:
        return None, "vector image (SVG)"
    return None, "not an image"
