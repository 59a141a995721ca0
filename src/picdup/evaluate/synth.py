"""A labelled test set made from a folder of the user's own photos (``picdup synth``).

For each source photo the generator writes an ``original`` and copies made by named transforms
(byte copy, metadata-only re-save, resizes, recompression, other formats, letterbox, crop,
brightness, watermark, flip, quarter turn, tilt by an angle, greyscale). It also writes hard
negatives that must never be grouped: memes that share a photo and differ only in their caption,
chat screenshots with identical chrome and different text, and two crops of one photo shifted by
a third of its width. Every file is listed in ``truth.json`` with its group and transform, and
the hard-negative pairs are listed too.

Everything random comes from ``numpy.random.default_rng`` seeded by ``seed`` and the source's
position, so one seed always gives the same set, and two seeds give different parameters
(crop margins, qualities, captions, watermark text and place) on the same photos.
"""

from __future__ import annotations

import io
import json
import os
import struct
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

from picdup._atomic import atomic_write_bytes, encode_text
from picdup.decode import heif_available
from picdup.errors import ConfigError, InputError
from picdup.fingerprint.hashes import turn
from picdup.scan.sniff import IMAGE_EXTENSIONS

__all__ = [
    "FAMILIES",
    "TRANSFORMS",
    "SynthResult",
    "synthesize",
]

TRUTH_FORMAT = "picdup-truth"

# Transform name -> the family it belongs to: the loosest mode (and option) that must find it.
FAMILIES: dict[str, str] = {
    "exact": "near",
    "pixel": "near",
    "resize50": "near",
    "resize25": "near",
    "resize1280": "near",
    "recompress": "near",
    "png": "near",
    "webp": "near",
    "heic": "near",
    "letterbox": "near",
    "crop": "edited",
    "brightness": "edited",
    "watermark": "edited",
    "grey": "edited",
    "flip": "rotations",
    "rotate90": "rotations",
    # Last, so adding it left every other copy of a seed as it was.
    "tilt": "tilt",
}
TRANSFORMS: tuple[str, ...] = tuple(FAMILIES)

_WORDS = [
    "when",
    "the",
    "code",
    "works",
    "first",
    "time",
    "nobody",
    "believes",
    "me",
    "monday",
    "again",
    "cat",
    "dog",
    "coffee",
    "deploy",
    "friday",
    "production",
    "bug",
    "feature",
    "weekend",
    "meeting",
    "could",
    "have",
    "been",
    "an",
    "email",
    "finally",
    "done",
    "almost",
    "there",
    "just",
    "one",
    "more",
    "thing",
    "boss",
    "said",
    "yes",
    "no",
    "maybe",
    "later",
    "tomorrow",
    "never",
    "forever",
    "my",
    "face",
    "reading",
    "the",
    "logs",
    "wait",
    "what",
    "how",
    "did",
    "that",
    "pass",
    "review",
]


@dataclass(frozen=True, slots=True)
class SynthResult:
    """What :func:`synthesize` wrote: counts and where the truth file is."""

    truth_path: Path
    files: int
    groups: int
    hard_negative_pairs: int
    sources: int
    skipped_sources: tuple[str, ...]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: the same glyphs on every machine, no system fonts needed.
    return ImageFont.load_default(size=size)


def _load_source(path: str, max_side: int) -> Image.Image:
    with Image.open(path) as im:
        im.draft("RGB", (max_side, max_side))
        im = ImageOps.exif_transpose(im)
        im = im.convert("RGB")
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return im


def _jpeg(im: Image.Image, quality: int, **params: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, **params)
    return buf.getvalue()


def _encode(im: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def _metadata_resave(data: bytes, rng: np.random.Generator) -> bytes:
    """The same JPEG entropy data with another JFIF density and a comment: pixels unchanged."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    pos = 2
    segments: list[bytes] = []
    while pos < len(data) and data[pos + 1] != 0xDA:
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if data[pos + 1] != 0xE0:  # drop the old JFIF header
            segments.append(data[pos : pos + 2 + length])
        pos += 2 + length
    dpi = int(rng.choice([1, 96, 300]))
    jfif = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x01"
    jfif += struct.pack(">HH", dpi, dpi) + b"\x00\x00"
    comment = f"re-saved by a sync client {int(rng.integers(1_000_000))}".encode()
    com = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return data[:2] + jfif + com + b"".join(segments) + data[pos:]


def _resize(im: Image.Image, scale: float) -> Image.Image:
    w, h = im.size
    return im.resize((max(8, round(w * scale)), max(8, round(h * scale))), Image.Resampling.LANCZOS)


def _letterbox(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A screenshot of the photo shown full-width on an upright phone: bars above and below."""
    w, h = im.size
    cw, ch = 540, 1170
    scale = min(cw / w, ch / h)
    pic = im.resize((round(w * scale), round(h * scale)), Image.Resampling.LANCZOS)
    colour = (0, 0, 0) if rng.random() < 0.7 else (255, 255, 255)
    canvas = Image.new("RGB", (cw, ch), colour)
    canvas.paste(pic, ((cw - pic.width) // 2, (ch - pic.height) // 2))
    return canvas


def _crop(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    w, h = im.size
    left, top, right, bottom = rng.uniform(0.03, 0.08, size=4)
    return im.crop(
        (round(w * left), round(h * top), round(w * (1 - right)), round(h * (1 - bottom)))
    )


def _brightness(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    sign = 1 if rng.random() < 0.5 else -1
    out = ImageEnhance.Brightness(im).enhance(1 + sign * float(rng.uniform(0.1, 0.25)))
    return ImageEnhance.Contrast(out).enhance(float(rng.uniform(0.85, 1.2)))


def _watermark(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    out = im.copy()
    w, h = out.size
    size = max(10, round(min(w, h) * float(rng.uniform(0.035, 0.05))))
    text = (
        f"© {rng.choice(['Anna', 'J. Smith', 'photostock', 'Kim Lee'])} {rng.integers(2000, 2027)}"
    )
    font = _font(size)
    box = ImageDraw.Draw(out).textbbox((0, 0), text, font=font)
    tw, th = box[2] - box[0], box[3] - box[1]
    margin = round(size * 0.8)
    x = margin if rng.random() < 0.5 else w - tw - margin
    y = margin if rng.random() < 0.3 else h - th - margin
    draw = ImageDraw.Draw(out)
    draw.text((x, y), text, font=font, fill=(255, 255, 255), stroke_width=1, stroke_fill=(0, 0, 0))
    return out


def _tilt(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Turned about the centre by 10–35° either way on the same canvas, corners black (what
    a "rotate" without "expand" or a straightening tool that does not crop gives)."""
    angle = float(rng.uniform(10.0, 35.0)) * (1 if rng.random() < 0.5 else -1)
    return im.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(0, 0, 0))


def _copies(
    im: Image.Image, original: bytes, rng: np.random.Generator, names: Sequence[str]
) -> list[tuple[str, str, bytes]]:
    """``(transform, extension, bytes)`` for each transform in ``names``."""
    out: list[tuple[str, str, bytes]] = []
    for name in names:
        q = int(rng.integers(75, 92))
        if name == "exact":
            out.append((name, "jpg", original))
        elif name == "pixel":
            out.append((name, "jpg", _metadata_resave(original, rng)))
        elif name == "resize50":
            out.append((name, "jpg", _jpeg(_resize(im, 0.5), q)))
        elif name == "resize25":
            out.append((name, "jpg", _jpeg(_resize(im, 0.25), q)))
        elif name == "resize1280":
            out.append((name, "jpg", _jpeg(_resize(im, 1280 / max(im.size)), q)))
        elif name == "recompress":
            out.append((name, "jpg", _jpeg(im, int(rng.integers(12, 25)))))
        elif name == "png":
            out.append((name, "png", _encode(im, "PNG", compress_level=1)))
        elif name == "webp":
            out.append((name, "webp", _encode(im, "WEBP", quality=int(rng.integers(60, 85)))))
        elif name == "heic":
            # x265's default preset takes seconds per photo; ultrafast is what phones trade for.
            heic = _encode(
                im, "HEIF", quality=int(rng.integers(50, 80)), enc_params={"preset": "ultrafast"}
            )
            out.append((name, "heic", heic))
        elif name == "letterbox":
            out.append((name, "jpg", _jpeg(_letterbox(im, rng), q)))
        elif name == "crop":
            out.append((name, "jpg", _jpeg(_crop(im, rng), q)))
        elif name == "brightness":
            out.append((name, "jpg", _jpeg(_brightness(im, rng), q)))
        elif name == "watermark":
            out.append((name, "jpg", _jpeg(_watermark(im, rng), q)))
        elif name == "grey":
            out.append((name, "jpg", _jpeg(im.convert("L"), q)))
        elif name == "flip":
            out.append((name, "jpg", _jpeg(ImageOps.mirror(im), q)))
        elif name == "rotate90":
            turn = Image.Transpose.ROTATE_90 if rng.random() < 0.5 else Image.Transpose.ROTATE_270
            out.append((name, "jpg", _jpeg(im.transpose(turn), q)))
        elif name == "tilt":
            out.append((name, "jpg", _jpeg(_tilt(im, rng), q)))
        else:  # pragma: no cover - names are validated by synthesize()
            raise ConfigError(f"unknown transform {name!r}")
    return out


# --- hard negatives -------------------------------------------------------------------------


def _caption(rng: np.random.Generator, words: int) -> str:
    return " ".join(str(w) for w in rng.choice(_WORDS, size=words)).upper()


def _draw_centered(
    draw: ImageDraw.ImageDraw, text: str, y: int, width: int, size: int, stroke: int
) -> None:
    font = _font(size)
    box = draw.textbbox((0, 0), text, font=font, stroke_width=stroke)
    x = (width - (box[2] - box[0])) // 2
    draw.text(
        (x, y), text, font=font, fill=(255, 255, 255), stroke_width=stroke, stroke_fill=(0, 0, 0)
    )


def _memes(template: Image.Image, rng: np.random.Generator) -> list[Image.Image]:
    """Four memes on one photo: two with big top/bottom captions, two with one small caption."""
    base = template.resize((600, max(300, round(600 * template.height / template.width))))
    base = base.crop((0, 0, 600, min(base.height, 800)))
    out: list[Image.Image] = []
    for _ in range(2):
        im = base.copy()
        draw = ImageDraw.Draw(im)
        _draw_centered(draw, _caption(rng, 3), 12, im.width, 40, 2)
        _draw_centered(draw, _caption(rng, 3), im.height - 60, im.width, 40, 2)
        out.append(im)
    y = base.height - 40 - int(rng.integers(0, 20))
    for _ in range(2):
        im = base.copy()
        _draw_centered(ImageDraw.Draw(im), _caption(rng, 4).lower(), y, im.width, 24, 1)
        out.append(im)
    return out


def _screenshots(rng: np.random.Generator, count: int) -> list[Image.Image]:
    """Chat screenshots of one app: identical chrome and bubble layout, different message text."""
    w, h = 720, 1520
    accent = tuple(int(v) for v in rng.integers(30, 200, size=3))
    contact = _caption(rng, 2).title()
    bubbles: list[tuple[bool, int, int]] = []  # (outgoing, top, lines)
    y = 200
    while y < h - 220:
        lines = int(rng.integers(1, 4))
        bubbles.append((bool(rng.random() < 0.5), y, lines))
        y += 40 + lines * 34
    shots: list[Image.Image] = []
    font = _font(24)
    for _ in range(count):
        im = Image.new("RGB", (w, h), (236, 229, 221))
        draw = ImageDraw.Draw(im)
        draw.rectangle((0, 0, w, 50), fill=(20, 20, 20))
        draw.text((20, 12), "12:34", font=font, fill=(255, 255, 255))
        for k in range(3):
            draw.rectangle((w - 40 - 30 * k, 18, w - 20 - 30 * k, 34), fill=(255, 255, 255))
        draw.rectangle((0, 50, w, 150), fill=accent)
        draw.ellipse((20, 65, 90, 135), fill=(200, 200, 200))
        draw.text((110, 85), contact, font=_font(30), fill=(255, 255, 255))
        for outgoing, top, lines in bubbles:
            left = 260 if outgoing else 20
            colour = (220, 248, 198) if outgoing else (255, 255, 255)
            draw.rounded_rectangle((left, top, left + 440, top + 20 + lines * 34), 12, fill=colour)
            for line in range(lines):
                draw.text(
                    (left + 14, top + 10 + line * 34),
                    _caption(rng, 4).lower(),
                    font=font,
                    fill=(30, 30, 30),
                )
        draw.rectangle((0, h - 90, w, h), fill=(245, 245, 245))
        draw.rounded_rectangle((20, h - 75, w - 100, h - 15), 30, fill=(255, 255, 255))
        draw.ellipse((w - 80, h - 80, w - 20, h - 20), fill=accent)
        shots.append(im)
    return shots


def _shifted_crops(im: Image.Image) -> tuple[Image.Image, Image.Image]:
    w, h = im.size
    return im.crop((0, 0, 2 * w // 3, h)), im.crop((w // 3, 0, w, h))


# --- the generator -------------------------------------------------------------------------


def _list_sources(src: Path) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            ext = name.rpartition(".")[2].lower()
            if "." in name and ext in IMAGE_EXTENSIONS and not name.startswith("."):
                found.append(os.path.join(dirpath, name))
    return sorted(found)


# Sources smaller than this are icons or logos, not photos; copies of them at 25% are meaningless.
_MIN_SOURCE_SIDE = 200


# The crops at which two sources are compared again when their whole pictures are close: cut
# ``zoom`` of the width and height in all, placed anywhere from one side to the other. Up to
# the 10 % per side that picdup's edited mode allows, so a tripod shot zoomed or reframed a
# little counts as the same picture.
_SCREEN_ZOOMS = tuple(k / 100 for k in range(1, 21))
_SCREEN_PLACES = (0.0, 0.25, 0.5, 0.75, 1.0)
# Whole pictures further apart than this (worst 4×4 block) are not searched for a crop.
_SCREEN_NEAR = 64.0
_SCREEN_SAME = 16.0


def _normalised_32(grey: Image.Image, box: tuple[float, float, float, float]) -> np.ndarray:
    small = np.asarray(grey.resize((32, 32), Image.Resampling.BOX, box=box), np.float32)
    # Brightness and contrast normalised: an exposure bracket looks like a brightness edit.
    out: np.ndarray = (small - small.mean()) / max(float(small.std()), 4.0) * 50.0
    return out


def _signature(source: str) -> tuple[np.ndarray, np.ndarray] | str:
    """A source's brightness-normalised 32×32 greyscale thumbnail and its greyscale picture
    at 256 pixels (for crops), or why it cannot be used."""
    try:
        im = _load_source(source, 512)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return f"{source}: {exc}"
    if min(im.size) < _MIN_SOURCE_SIDE * min(1.0, 512 / max(im.size)):
        return f"{source}: smaller than {_MIN_SOURCE_SIDE} pixels"
    grey = im.convert("L")
    grey.thumbnail((256, 256), Image.Resampling.BOX)
    w, h = grey.size
    return _normalised_32(grey, (0, 0, w, h)), np.asarray(grey)


def _crops(picture: np.ndarray) -> np.ndarray:
    """Normalised 32×32 views of every crop of :data:`_SCREEN_ZOOMS` × :data:`_SCREEN_PLACES`."""
    grey = Image.fromarray(picture)
    h, w = picture.shape
    views = []
    for zoom in _SCREEN_ZOOMS:
        cw, ch = zoom * w, zoom * h
        for fy in _SCREEN_PLACES:
            for fx in _SCREEN_PLACES:
                left, top = fx * cw, fy * ch
                views.append(_normalised_32(grey, (left, top, left + w - cw, top + h - ch)))
    return np.stack(views)


def _worst_block(a: np.ndarray, b: np.ndarray) -> float:
    """The smallest, over the views in ``a`` (…, 32, 32), of the worst 4×4-block difference."""
    diff = np.abs(a.reshape(-1, 32, 32) - b[None])
    return float(diff.reshape(-1, 8, 4, 8, 4).mean(axis=(2, 4)).max(axis=(1, 2)).min())


def _same_picture(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> float:
    """How far apart two sources are at best (worst-block difference), a crop of either and a
    flip or quarter turn of ``b`` allowed (``--rotations`` could not tell a colour chart shot
    upright from a turned copy of the same chart shot across)."""
    best = np.inf
    for code in range(8):
        b_small = np.ascontiguousarray(turn(b[0], code))
        whole = _worst_block(a[0], b_small)
        if _SCREEN_SAME <= whole < _SCREEN_NEAR:
            b_picture = np.ascontiguousarray(turn(b[1], code))
            whole = min(
                whole, _worst_block(_crops(a[1]), b_small), _worst_block(_crops(b_picture), a[0])
            )
        best = min(best, whole)
        if best < _SCREEN_SAME:
            break
    return float(best)


def _distinct_sources(sources: list[str], jobs: int) -> tuple[list[str], list[str]]:
    """Sources that are pictures of their own, and the reasons the others were left out.

    A folder of photos may already hold copies (the same shot twice, a tripod series of one colour
    chart, an exposure bracket, the same framing zoomed or moved a little). The truth would call
    them different pictures although nothing can tell them apart from a copy (or a brightness
    edit and a small crop), so of sources whose brightness-normalised 32×32 thumbnails agree in
    every 4×4 block, with a crop of up to 10 % per side of either and a flip or quarter turn
    allowed, only the first is used.
    """
    if jobs > 1 and len(sources) > 2 * jobs:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            sigs = list(pool.map(_signature, sources, chunksize=4))
    else:
        sigs = [_signature(s) for s in sources]
    kept: list[str] = []
    kept_sigs: list[tuple[np.ndarray, np.ndarray]] = []
    skipped: list[str] = []
    for source, sig in zip(sources, sigs, strict=True):
        if isinstance(sig, str):
            skipped.append(sig)
            continue
        apart = [_same_picture(sig, other) for other in kept_sigs]
        if apart and min(apart) < _SCREEN_SAME:
            skipped.append(f"{source}: looks the same as {kept[int(np.argmin(apart))]}")
            continue
        kept.append(source)
        kept_sigs.append(sig)
    return kept, skipped


def _rng(seed: int, index: int, salt: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, index, salt]))


def _write(out: Path, rel: str, data: bytes) -> None:
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _make_photo_group(
    job: tuple[int, str],
    *,
    out: Path,
    seed: int,
    names: tuple[str, ...],
    copies: int,
    max_side: int,
) -> tuple[list[str], dict[str, str]] | str:
    """One source's original and copies; returns ``(group, transforms)`` or the skip reason."""
    index, source = job
    try:
        im = _load_source(source, max_side)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return f"{source}: {exc}"
    rng = _rng(seed, index, 1)
    chosen = list(names) if copies >= len(names) else list(rng.choice(names, copies, replace=False))
    folder = f"photos/p{index:04d}"
    original = _jpeg(im, 92, dpi=(72, 72))
    group = [f"{folder}/original.jpg"]
    transforms = {group[0]: "original"}
    _write(out, group[0], original)
    for name, ext, data in _copies(im, original, rng, chosen):
        rel = f"{folder}/{name}.{ext}"
        _write(out, rel, data)
        group.append(rel)
        transforms[rel] = name
    return group, transforms


def synthesize(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    copies: int | None = None,
    max_side: int = 1600,
    limit: int | None = None,
    jobs: int = 1,
    transforms: Sequence[str] | None = None,
) -> SynthResult:
    """Write a labelled test set made from the photos under ``src`` into ``out``.

    Input: a folder of photos (searched recursively; the type is taken from the extension);
    ``copies`` transforms per source (default: every transform), drawn per source from the seeded
    generator; ``max_side`` bounds the size the sources are reduced to first; ``limit`` uses only
    the first sources in a seeded shuffle; ``transforms`` restricts the transform names.

    Output: the files under ``out`` and ``out/truth.json``: ``groups`` (lists of paths relative to
    ``out``; the first path of a group is the one the others were derived from), ``transforms``
    (the transform of each file), ``families`` (transform -> the mode that should find it) and
    ``hard_negatives`` (pairs that must never be grouped, with their kind).

    Errors: :class:`~picdup.errors.InputError` when ``src`` is not a folder with at least three
    readable photos or ``out`` exists and is not empty; :class:`~picdup.errors.ConfigError` for
    bad counts or unknown transform names. An unreadable source is skipped and listed.

    Performance: one decode per source (reduced to ``max_side``) and one encode per copy; HEIC
    encoding dominates. Sources are processed by ``jobs`` worker processes.
    """
    src_path, out_path = Path(src), Path(out)
    names = tuple(transforms) if transforms is not None else TRANSFORMS
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise ConfigError(f"unknown transform(s): {', '.join(unknown)}")
    if "heic" in names and not heif_available():
        raise ConfigError("the heic transform needs pillow-heif: pip install pillow-heif")
    if copies is not None and copies < 1:
        raise ConfigError(f"--copies must be at least 1, got {copies}")
    if max_side < 64:
        raise ConfigError(f"max_side must be at least 64, got {max_side}")
    if not src_path.is_dir():
        raise InputError(f"source folder not found: {src_path}")
    if out_path.exists() and (not out_path.is_dir() or any(out_path.iterdir())):
        raise InputError(f"output folder exists and is not empty: {out_path}")
    sources = _list_sources(src_path)
    order = np.random.default_rng(np.random.SeedSequence([seed, 0, 0])).permutation(len(sources))
    sources = [sources[k] for k in order]
    sources, skipped = _distinct_sources(sources, jobs)
    if limit is not None:
        sources = sources[:limit]
    if len(sources) < 3:
        raise InputError(f"need at least 3 photos under {src_path}, found {len(sources)}")
    out_path.mkdir(parents=True, exist_ok=True)

    # A few sources are kept apart as templates for the hard negatives, so a meme's clean
    # template never sits in the set as a group of its own.
    n_memes = max(1, len(sources) // 25)
    n_crops = max(1, len(sources) // 30)
    meme_sources = sources[:n_memes]
    crop_sources = sources[n_memes : n_memes + n_crops]
    photo_sources = sources[n_memes + n_crops :]

    groups: list[list[str]] = []
    file_transforms: dict[str, str] = {}
    negatives: list[tuple[str, str, str]] = []

    work = partial(
        _make_photo_group,
        out=out_path,
        seed=seed,
        names=names,
        copies=copies if copies is not None else len(names),
        max_side=max_side,
    )
    jobs_list = list(enumerate(photo_sources))
    results: list[tuple[list[str], dict[str, str]] | str]
    if jobs > 1 and len(jobs_list) > 2 * jobs:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(work, jobs_list, chunksize=4))
    else:
        results = [work(j) for j in jobs_list]
    photo_groups = 0
    for result in results:
        if isinstance(result, str):
            skipped.append(result)
            continue
        group, tr = result
        photo_groups += 1
        groups.append(group)
        file_transforms.update(tr)

    def add_negatives(kind: str, rels: list[str]) -> None:
        for a in range(len(rels)):
            for b in range(a + 1, len(rels)):
                negatives.append((rels[a], rels[b], kind))

    def add_single_with_copy(
        rel: str, im: Image.Image, kind: str, rng: np.random.Generator
    ) -> None:
        _write(out_path, rel, _jpeg(im, 90))
        copy_rel = rel.replace(".jpg", "-copy.jpg")
        _write(out_path, copy_rel, _jpeg(_resize(im, float(rng.uniform(0.5, 0.8))), 80))
        groups.append([rel, copy_rel])
        file_transforms[rel] = kind
        file_transforms[copy_rel] = f"{kind}_copy"

    for t, source in enumerate(meme_sources):
        rng = _rng(seed, t, 2)
        try:
            template = _load_source(source, max_side)
        except (OSError, ValueError) as exc:
            skipped.append(f"{source}: {exc}")
            continue
        rels = []
        for k, meme in enumerate(_memes(template, rng)):
            rel = f"memes/m{t:02d}/meme{k}.jpg"
            add_single_with_copy(rel, meme, "meme", rng)
            rels.append(rel)
        add_negatives("meme", rels)

    for app in range(max(2, len(sources) // 40)):
        rng = _rng(seed, app, 3)
        rels = []
        for k, shot in enumerate(_screenshots(rng, 3)):
            rel = f"screenshots/app{app:02d}/shot{k}.jpg"
            # Screenshots are saved as PNG by phones; a chat app re-shares them as JPEG.
            _write(out_path, rel.replace(".jpg", ".png"), _encode(shot, "PNG", compress_level=1))
            copy_rel = rel.replace(".jpg", "-copy.jpg")
            _write(out_path, copy_rel, _jpeg(_resize(shot, float(rng.uniform(0.5, 0.8))), 80))
            rel = rel.replace(".jpg", ".png")
            groups.append([rel, copy_rel])
            file_transforms[rel] = "screenshot"
            file_transforms[copy_rel] = "screenshot_copy"
            rels.append(rel)
        add_negatives("screenshot", rels)

    for t, source in enumerate(crop_sources):
        try:
            im = _load_source(source, max_side)
        except (OSError, ValueError) as exc:
            skipped.append(f"{source}: {exc}")
            continue
        rels = []
        for k, part in enumerate(_shifted_crops(im)):
            rel = f"crops/c{t:02d}/part{k}.jpg"
            _write(out_path, rel, _jpeg(part, 90))
            groups.append([rel])
            file_transforms[rel] = "shifted_crop"
            rels.append(rel)
        add_negatives("shifted_crop", rels)

    truth = {
        "format": TRUTH_FORMAT,
        "version": 1,
        "description": f"picdup synth of {src_path.name} (seed {seed})",
        "seed": seed,
        "sources": photo_groups,
        "families": {**FAMILIES, "meme_copy": "near", "screenshot_copy": "near"},
        "groups": groups,
        "transforms": file_transforms,
        "hard_negatives": [list(p) for p in negatives],
        "skipped": skipped,
    }
    truth_path = out_path / "truth.json"
    atomic_write_bytes(truth_path, encode_text(json.dumps(truth, indent=1, ensure_ascii=False)))
    return SynthResult(
        truth_path=truth_path,
        files=len(file_transforms),
        groups=len(groups),
        hard_negative_pairs=len(negatives),
        sources=photo_groups,
        skipped_sources=tuple(skipped),
    )
