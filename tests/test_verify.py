"""Verification evidence: turned hashes, classes of generated copies, hard negatives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

from imagegen import photo
from picdup.fingerprint import fingerprint_file
from picdup.fingerprint.hashes import grey, phash, phash_turns, turn
from picdup.model import FileRef, Fingerprint, MatchClass
from picdup.options import Bounds, ScanOptions
from picdup.pipeline import candidate_matches
from picdup.verify import ThumbStack, measure_pairs


def _fp(path: Path) -> Fingerprint:
    st = path.stat()
    fp = fingerprint_file(
        FileRef(str(path), st.st_size, st.st_mtime_ns, str(path.parent)), max_pixels=10**9
    )
    assert fp.ok, fp.error
    return fp


def _save(im: Image.Image, path: Path, quality: int = 90) -> Fingerprint:
    im.save(path, quality=quality)
    return _fp(path)


def _classes(fps: list[Fingerprint], **options: object) -> dict[tuple[str, str], MatchClass]:
    matches = candidate_matches(fps, ScanOptions(jobs=1, **options), None)  # type: ignore[arg-type]
    out = {}
    for m in matches:
        a, b = sorted((Path(fps[m.a].ref.path).stem, Path(fps[m.b].ref.path).stem))
        out[(a, b)] = m.cls
    return out


def test_turn_codes_are_the_eight_symmetries() -> None:
    a = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    turned = [turn(a, k) for k in range(8)]
    assert np.array_equal(turned[0], a)
    assert np.array_equal(turned[1], np.rot90(a, 1, axes=(1, 2)))
    assert np.array_equal(turned[4], a[..., ::-1])
    assert len({t.tobytes() + bytes(t.shape) for t in turned}) == 8


@pytest.mark.parametrize("code", range(8))
def test_turned_phash_equals_hash_of_turned_picture(code: int) -> None:
    g = grey(np.asarray(photo(3, 160, 128)))
    assert phash_turns(g)[code] == phash(np.ascontiguousarray(turn(g[None], code)[0]))


def test_classes_of_generated_copies(tmp_path: Path) -> None:
    base = photo(11, 800, 600)
    fps = [
        _save(base, tmp_path / "orig.jpg"),
        _save(base.resize((400, 300)), tmp_path / "half.jpg", 80),
        _save(ImageEnhance.Brightness(base).enhance(1.2), tmp_path / "bright.jpg"),
        _save(base.crop((40, 30, 760, 570)), tmp_path / "crop.jpg"),
        _save(ImageOps.mirror(base), tmp_path / "flip.jpg"),
        _save(photo(12, 800, 600), tmp_path / "other.jpg"),
    ]
    near = _classes(fps)
    assert near == {("half", "orig"): MatchClass.NEAR}
    edited = _classes(fps, mode="edited")
    assert edited[("half", "orig")] is MatchClass.NEAR
    assert edited[("bright", "orig")] is MatchClass.EDITED
    assert edited[("crop", "orig")] is MatchClass.EDITED
    assert not any("other" in pair for pair in edited)
    assert not any("flip" in pair for pair in edited)
    turned = _classes(fps, rotations=True)
    assert turned[("flip", "orig")] is MatchClass.NEAR


def _meme(base: Image.Image, caption: str) -> Image.Image:
    im = base.copy()
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=40)
    draw.text(
        (30, im.height - 70), caption, font=font, fill="white", stroke_width=2, stroke_fill="black"
    )
    return im


def test_memes_with_other_captions_stay_apart(tmp_path: Path) -> None:
    base = photo(21, 600, 450)
    fps = [
        _save(_meme(base, "WHEN THE BUILD PASSES"), tmp_path / "meme_a.jpg"),
        _save(_meme(base, "MONDAY AGAIN FOREVER"), tmp_path / "meme_b.jpg"),
        _save(
            _meme(base, "WHEN THE BUILD PASSES").resize((420, 315)), tmp_path / "meme_a_copy.jpg"
        ),
    ]
    found = _classes(fps)
    assert found == {("meme_a", "meme_a_copy"): MatchClass.NEAR}


def test_evidence_of_a_copy_is_within_the_default_bounds(tmp_path: Path) -> None:
    base = photo(31, 640, 480)
    fps = [_save(base, tmp_path / "a.jpg"), _save(base.resize((320, 240)), tmp_path / "b.jpg", 70)]
    ev = measure_pairs(ThumbStack.of(fps), np.array([0]), np.array([1]))
    bounds = Bounds()
    assert ev.mean_diff[0] <= bounds.mean_diff
    assert ev.block_diff[0] <= bounds.block_diff
    assert not ev.colour_mismatch[0]


def _small_caption(base: Image.Image, caption: str) -> Image.Image:
    im = base.copy()
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=24)
    box = draw.textbbox((0, 0), caption, font=font, stroke_width=1)
    x = (im.width - (box[2] - box[0])) // 2
    draw.text(
        (x, im.height - 50), caption, font=font, fill="white", stroke_width=1, stroke_fill="black"
    )
    return im


def test_small_thin_captions_on_a_light_photo_stay_apart(tmp_path: Path) -> None:
    # Thin letters shrink to a few faint thumbnail pixels: each block differs by less than
    # ``block_diff``, so only the ratios to the mean difference keep these apart.
    base = ImageEnhance.Brightness(photo(23, 600, 450)).enhance(1.7)
    fps = [
        _save(_small_caption(base, "meeting pass meeting there"), tmp_path / "meme_a.jpg", 95),
        _save(_small_caption(base, "email when done tomorrow"), tmp_path / "meme_b.jpg", 95),
        _save(base, tmp_path / "plain.jpg", 95),
    ]
    ev = measure_pairs(ThumbStack.of(fps), np.array([0]), np.array([1]))
    bounds = Bounds()
    assert ev.block_diff[0] <= bounds.block_diff  # the worst-block test alone misses them
    assert ev.mean_diff[0] <= bounds.mean_diff
    assert ev.peak_ratio[0] > bounds.peak_ratio
    assert _classes(fps) == {}


def test_ratios_of_equal_thumbnails_are_zero(tmp_path: Path) -> None:
    fp = _save(photo(24, 320, 240), tmp_path / "a.jpg")
    ev = measure_pairs(ThumbStack.of([fp, fp]), np.array([0]), np.array([1]))
    assert ev.peak_ratio[0] == 0.0
    assert ev.text_spread[0] == 0.0
