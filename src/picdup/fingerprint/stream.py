"""The stream digest: a JPEG's coded picture without its metadata, so that two files that differ
only in EXIF, XMP, comments or JFIF density are known to decode to the same pixels without
decoding either in full.

A pixel copy is otherwise confirmed by two full decodes (tens of milliseconds each for a photo),
and the commonest pixel copy of all is a JPEG whose metadata a tool rewrote: a rating, a tag, a
stripped location, a sync client's comment. Its entropy-coded data, tables and frame header are
untouched, and those decide the decoded pixels, together with:

- the EXIF orientation picdup applies (part of the digest, as the value it reads);
- the colour transform the decoder assumes, which libjpeg takes from an Adobe (APP14) segment
  (kept in the digest), a JFIF (APP0) marker, or the component ids (the JFIF marker is part of
  the digest unless the ids alone decide: three components numbered 1, 2, 3 and no Adobe
  segment, which every camera writes).

Equal digests therefore mean equal pixels; different digests mean nothing (a lossless
re-encode, such as a progressive conversion, changes the coded data but not the pixels), and
the full decode still decides those pairs.
"""

from __future__ import annotations

import xxhash

__all__ = ["stream_digest"]

_SOI = b"\xff\xd8"
_SOS = 0xDA
_APP0, _APP14, _APP15, _COM = 0xE0, 0xEE, 0xEF, 0xFE
# Frame headers (SOF0–SOF15 except DHT, JPG and DAC, which share the range).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length (TEM, RST0–7, SOI, EOI): none belongs before the first scan.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xDA)})
# YCbCr by the component ids alone, whatever the markers say (libjpeg's last rule, and the
# one JFIF would give too).
_PLAIN_IDS = (1, 2, 3)


def stream_digest(data: bytes, orientation: int) -> str:
    """xxh3-128 of the JPEG ``data`` without its metadata segments, with ``orientation``; ``""``
    when ``data`` is not a JPEG whose segments up to the first scan parse cleanly (then no
    shortcut is taken, which is always safe)."""
    if not data.startswith(_SOI):
        return ""
    view = memoryview(data)
    kept: list[memoryview] = []
    saw_jfif = saw_adobe = False
    ids: tuple[int, ...] = ()
    pos, end_of_data = 2, len(data)
    while True:
        if pos + 4 > end_of_data or data[pos] != 0xFF:
            return ""
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte before the marker
            pos += 1
            continue
        if marker in _STANDALONE:
            # No length field: framed otherwise than here, and never in a sane file's header.
            return ""
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > end_of_data:
            return ""
        if marker == _SOS:
            # The scans, any tables between them, and whatever follows the end of the image
            # (an MPO's second picture, a phone's trailer): all of it, to stay on the safe side.
            kept.append(view[pos:])
            break
        if _APP0 <= marker <= _APP15 or marker == _COM:
            payload = data[pos + 4 : end]
            if marker == _APP0 and payload.startswith(b"JFIF\x00"):
                saw_jfif = True
            elif marker == _APP14 and payload.startswith(b"Adobe"):
                saw_adobe = True
                kept.append(view[pos:end])
        else:
            if marker in _SOF and length >= 8:
                count = data[pos + 9]
                ids = tuple(data[pos + 10 + 3 * c] for c in range(count) if pos + 10 + 3 * c < end)
            kept.append(view[pos:end])
        pos = end
    jfif = saw_jfif and not (ids == _PLAIN_IDS and not saw_adobe)
    hasher = xxhash.xxh3_128()
    hasher.update(f"jpeg;orientation={orientation};jfif={jfif};".encode())
    for part in kept:
        hasher.update(part)
    return hasher.hexdigest()
