"""Tilted copies (turned about the centre by an angle that is no quarter turn)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from imagegen import photo
from picdup import find_duplicates
from picdup.edited import _hash_of
from picdup.fingerprint import fingerprint_file
from picdup.fingerprint.hashes import _phash_of
from picdup.model import FileRef, Fingerprint, MatchClass
from picdup.options import Bounds
from picdup.tilt import MIN_TILT, _sample, middle_hashes, tilted_pairs
from picdup.verify import ThumbStack


def _tilted(im: Image.Image, angle: float) -> Image.Image:
    return im.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(0, 0, 0))


def _fingerprints(tmp_path: Path, images: dict[str, Image.Image]) -> list[Fingerprint]:
    fps = []
    for name, im in sorted(images.items()):
        path = tmp_path / f"{name}.jpg"
        im.save(path, quality=88)
        st = path.stat()
        ref = FileRef(str(path), st.st_size, st.st_mtime_ns, str(tmp_path))
        fps.append(fingerprint_file(ref, max_pixels=100_000_000))
    return fps


def _pairs(fps: list[Fingerprint], mode: MatchClass = MatchClass.EDITED) -> set[tuple[str, str]]:
    found = tilted_pairs(ThumbStack.of(fps), set(), Bounds(), mode)
    names = [Path(fp.ref.path).stem for fp in fps]
    return {tuple(sorted((names[a], names[b]))) for a, b, _, _ in found}  # type: ignore[misc]


def test_batch_phash_equals_the_fingerprint_phash() -> None:
    rng = np.random.default_rng(3)
    small = rng.uniform(0, 255, size=(20, 32, 32)).astype(np.float32)
    smooth = np.cumsum(small, axis=2) / 32  # gradients, like real pictures
    for batch in (small, smooth):
        assert _hash_of(batch).tolist() == [_phash_of(s) for s in batch]


def test_middle_square_samples_the_middle_of_the_content() -> None:
    # A horizontal ramp: each thumbnail pixel holds its column, so a sample's value is where
    # it was taken. A 2:1 content squashed to 128 columns: the middle square spans 1/sqrt(2)
    # of the short side, which is half the thumbnail's width.
    ramp = np.tile(np.arange(128, dtype=np.uint8), (1, 128, 1))
    n = 32
    t = (np.arange(n) + 0.5) / n * 2 - 1
    half = 0.5 / np.sqrt(2.0)
    for log_aspect, width in ((0.0, 1.0), (np.log(2.0), 2.0)):
        out = _sample(ramp, np.array([log_aspect]), np.zeros(1), n)
        expected = (t * half / width + 0.5) * 128 - 0.5
        assert np.allclose(out[0], np.broadcast_to(expected, (n, n)), atol=1e-3)
    # Turned by 90°, the ramp runs up the rows instead.
    turned = _sample(ramp, np.zeros(1), np.array([90.0]), n)
    assert np.allclose(
        turned[0], np.broadcast_to(((-t * half + 0.5) * 128 - 0.5)[:, None], (n, n)), atol=1e-3
    )


def test_a_turned_middle_is_the_middle_of_the_turned_picture() -> None:
    im = photo(5, 480, 480)
    turned = _tilted(im, 30.0)
    fps = [
        np.asarray(x.convert("L").resize((128, 128), Image.Resampling.BOX), dtype=np.uint8)
        for x in (im, turned)
    ]
    thumbs = np.stack(fps)
    a = _sample(thumbs[:1], np.zeros(1), np.array([30.0]), 48)
    b = _sample(thumbs[1:], np.zeros(1), np.array([0.0]), 48)
    wrong = _sample(thumbs[:1], np.zeros(1), np.array([-30.0]), 48)
    assert np.abs(a - b).mean() < 4.0
    assert np.abs(wrong - b).mean() > 3 * np.abs(a - b).mean()


@pytest.mark.parametrize("angle", [-37.0, -22.5, -11.0, 6.0, 17.3, 30.0, 43.0])
def test_a_tilted_copy_is_found_at_its_angle(tmp_path: Path, angle: float) -> None:
    im = photo(11)
    fps = _fingerprints(tmp_path, {"a": im, "b": _tilted(im, angle), "c": photo(12)})
    found = tilted_pairs(ThumbStack.of(fps), set(), Bounds(), MatchClass.EDITED)
    assert [(a, b) for a, b, _, _ in found] in ([(0, 1)], [(1, 0)])
    a, _, measured, _ = found[0]
    # The angle turns side a onto side b: the copy's tilt, or its opposite.
    assert abs(measured - (angle if a == 0 else -angle)) <= 0.5


def test_no_tilt_below_the_minimum_and_no_known_pair_again(tmp_path: Path) -> None:
    im = photo(21)
    fps = _fingerprints(
        tmp_path, {"a": im, "small": _tilted(im, MIN_TILT / 2), "resized": im.resize((320, 240))}
    )
    assert _pairs(fps) == set()
    fps = _fingerprints(tmp_path, {"a": im, "b": _tilted(im, 20.0)})
    assert tilted_pairs(ThumbStack.of(fps), {(0, 1)}, Bounds(), MatchClass.EDITED) == []


def _meme(base: Image.Image, caption: str) -> Image.Image:
    out = base.copy()
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=34)
    draw.text(
        (60, 210), caption, font=font, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0)
    )
    return out


def test_tilted_pictures_with_other_text_or_content_stay_apart(tmp_path: Path) -> None:
    base = photo(31)
    images = {
        "meme_a": _meme(base, "WHEN THE CODE WORKS"),
        "meme_b_tilted": _tilted(_meme(base, "NOBODY KNOWS WHY"), 20.0),
        "other_tilted": _tilted(photo(32), 25.0),
        "flat": Image.new("RGB", (640, 480), (120, 130, 140)),
        "flat_tilted": _tilted(Image.new("RGB", (640, 480), (120, 130, 140)), 15.0),
    }
    assert _pairs(_fingerprints(tmp_path, images)) == set()


def test_elongated_and_flat_pictures_are_not_searched(tmp_path: Path) -> None:
    fps = _fingerprints(
        tmp_path,
        {
            "strip": photo(41, 1600, 200),
            "flat": Image.new("RGB", (400, 300), (90, 90, 90)),
            "photo": photo(42),
        },
    )
    usable, _, turned = middle_hashes(ThumbStack.of(fps))
    names = [Path(fp.ref.path).stem for fp in fps]
    assert dict(zip(names, usable.tolist(), strict=True)) == {
        "flat": False,
        "photo": True,
        "strip": False,
    }
    assert turned.shape == (3, 10)


def test_scan_groups_a_tilted_copy_only_in_edited_mode_with_rotations(tmp_path: Path) -> None:
    im = photo(51, 800, 600)
    im.save(tmp_path / "original.jpg", quality=90)
    _tilted(im, -26.0).save(tmp_path / "tilted.jpg", quality=80)
    photo(52, 800, 600).save(tmp_path / "other.jpg", quality=90)

    def grouped(**options: object) -> list[list[tuple[str, str]]]:
        report = find_duplicates([tmp_path], jobs=1, **options)  # type: ignore[arg-type]
        return [sorted((Path(m.path).name, m.cls) for m in g.members) for g in report.groups]

    assert grouped(mode="edited", rotations=True) == [
        [("original.jpg", "keeper"), ("tilted.jpg", "edited")]
    ]
    assert grouped(mode="near", rotations=True) == []
    assert grouped(mode="edited") == []
