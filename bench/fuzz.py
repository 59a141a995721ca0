"""Long fuzz run of picdup's decoders: mutated image bytes must only ever raise DecodeError.

Usage:
  python bench/fuzz.py --seconds 600
  python bench/fuzz.py --seconds 60 --seeds ../shared/data/labeled/imagededup --save-dir /tmp/fz

Seeds are small generated files of every format picdup reads (plus any image files found under
``--seeds``). Each iteration applies 1-8 random mutations (bit flips, byte overwrites, inserts,
deletes, truncation, duplicated runs) and runs probe, the reduced decode and the full decode.
An input that raises anything other than DecodeError is saved under ``--save-dir`` and counted;
the exit status is 1 when there was any. With ``--save-dir`` the input being decoded is also
written to ``current.bin`` first, so a crash inside a C decoder leaves its input behind.
The report prints iterations per second per format family and the share of inputs that were
refused (DecodeError) against those that still decoded.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from picdup.decode import decode_full, decode_reduced, jxl_available, probe
from picdup.errors import DecodeError
from picdup.scan.sniff import HEAD_BYTES, sniff

MAXPX = 4_000_000


def _picture(seed: int, w: int = 96, h: int = 72) -> Image.Image:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    arr = np.stack(
        [
            128 + 100 * np.sin(xx / rng.uniform(4, 12) + c) * np.cos(yy / rng.uniform(4, 12))
            for c in range(3)
        ],
        axis=2,
    )
    arr += rng.normal(0, 8, size=arr.shape)
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8))


def _save(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)  # type: ignore[arg-type]
    return buf.getvalue()


def generated_seeds() -> dict[str, bytes]:
    import pillow_heif

    pillow_heif.register_heif_opener()
    im, other = _picture(1), _picture(2)
    rgba = im.convert("RGBA")
    rgba.putalpha(100)
    seeds = {
        "jpeg": _save(im, "JPEG"),
        "jpeg-progressive": _save(im, "JPEG", progressive=True),
        "jpeg-cmyk": _save(im.convert("CMYK"), "JPEG"),
        "png": _save(im, "PNG"),
        "png-palette": _save(im.quantize(32), "PNG"),
        "png-rgba": _save(rgba, "PNG"),
        "png-16": _save(
            Image.fromarray(np.asarray(im.convert("L")).astype(np.uint16) * 257), "PNG"
        ),
        "gif": _save(im, "GIF", save_all=True, append_images=[other]),
        "webp": _save(im, "WEBP"),
        "webp-lossless-animated": _save(
            im, "WEBP", lossless=True, save_all=True, append_images=[other]
        ),
        "avif": _save(im, "AVIF"),
        "heif": _save(im, "HEIF"),
        "tiff": _save(im, "TIFF", save_all=True, append_images=[other]),
        "tiff-lzw": _save(im, "TIFF", compression="tiff_lzw"),
        "bmp": _save(im, "BMP"),
        "ppm": _save(im, "PPM"),
        "ico": _save(im, "ICO"),
        "mpo": _save(im, "MPO", save_all=True, append_images=[other]),
    }
    if jxl_available():
        seeds["jxl"] = _save(im, "JXL")
    return seeds


def folder_seeds(folder: Path, limit_bytes: int = 2_000_000) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.stat().st_size <= limit_bytes:
            data = path.read_bytes()
            if sniff(data[:HEAD_BYTES])[0] is not None:
                out[str(path.relative_to(folder))] = data
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not buf:
            break
        pos = rng.randrange(len(buf))
        op = rng.choice("fbidtr")
        if op == "f":
            buf[pos] ^= 1 << rng.randrange(8)
        elif op == "b":
            buf[pos] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        elif op == "i":
            buf[pos:pos] = rng.randbytes(rng.randint(1, 32))
        elif op == "d":
            del buf[pos : pos + rng.randint(1, 128)]
        elif op == "t":
            del buf[pos:]
        else:
            end = min(len(buf), pos + rng.randint(1, 512))
            buf[pos:pos] = buf[pos:end]
    return bytes(buf)


def run_one(data: bytes) -> str:
    """'ok' when every decoder returned, 'refused' when one raised DecodeError."""
    outcome = "ok"
    for fn in (probe, decode_reduced, decode_full):
        try:
            fn(data, max_pixels=MAXPX)
        except DecodeError:
            outcome = "refused"
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=Path, help="a folder of extra seed images")
    parser.add_argument("--save-dir", type=Path, help="where failing inputs are written")
    args = parser.parse_args()
    seeds = generated_seeds()
    if args.seeds is not None:
        seeds.update(folder_seeds(args.seeds))
    for name, data in seeds.items():
        if run_one(data) != "ok":
            print(f"note: seed {name} does not decode cleanly", file=sys.stderr)
    if args.save_dir is not None:
        args.save_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    names = sorted(seeds)
    outcomes: Counter[tuple[str, str]] = Counter()
    spent: Counter[str] = Counter()
    failures = 0
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        name = rng.choice(names)
        data = mutate(seeds[name], rng)
        if args.save_dir is not None:
            (args.save_dir / "current.bin").write_bytes(data)
        t0 = time.perf_counter()
        try:
            outcome = run_one(data)
        except Exception:  # the finding this tool exists for: report it, keep going
            outcome = "UNHANDLED"
            failures += 1
            print(f"UNHANDLED on a mutation of {name}:", file=sys.stderr)
            traceback.print_exc()
            if args.save_dir is not None:
                (args.save_dir / f"fail-{failures:04d}-{os.path.basename(name)}.bin").write_bytes(
                    data
                )
        spent[name] += int((time.perf_counter() - t0) * 1e6)
        outcomes[(name, outcome)] += 1
    total = sum(outcomes.values())
    print(f"{total} mutated inputs in {args.seconds:.0f} s; unhandled exceptions: {failures}")
    print(f"{'seed':<28}{'inputs':>8}{'refused':>9}{'decoded':>9}{'µs/input':>10}")
    for name in names:
        n = outcomes[(name, "ok")] + outcomes[(name, "refused")] + outcomes[(name, "UNHANDLED")]
        if n:
            print(
                f"{name[:27]:<28}{n:>8}{outcomes[(name, 'refused')] / n:>9.0%}"
                f"{outcomes[(name, 'ok')] / n:>9.0%}{spent[name] / n:>10.0f}"
            )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
