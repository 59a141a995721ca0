"""Verification evidence: turned hashes, classes of generated copies, hard negatives."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

from imagegen import photo
from picdup.cli import EXIT_DUPLICATES
from picdup.fingerprint import fingerprint_file
from picdup.fingerprint.hashes import grey, phash, phash_turns, turn
from picdup.model import FileRef, Fingerprint, Match, MatchClass
from picdup.options import Bounds, ScanOptions
from picdup.pipeline import candidate_matches, run_scan
from picdup.report import load_report
from picdup.verify import PairEvidence, ThumbStack, measure_pairs, reframe


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
    # Sides that are whole multiples of the 32×32 reduction's: Pillow's box filter then
    # averages whole blocks, which turning the picture only moves.
    g = grey(np.asarray(photo(3, 256, 128)))
    assert phash_turns(g)[code] == phash(np.ascontiguousarray(turn(g[None], code)[0]))
    # Other sides: the box filter's pixel windows are not symmetric, so a few bits move.
    g = grey(np.asarray(photo(3, 160, 117)))
    turned = phash(np.ascontiguousarray(turn(g[None], code)[0]))
    assert (phash_turns(g)[code] ^ turned).bit_count() <= 4


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


def _letterbox(im: Image.Image, colour: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """The picture shown full-width on an upright phone screen, as ``picdup synth`` makes it."""
    cw, ch = 540, 1170
    scale = min(cw / im.width, ch / im.height)
    pic = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (cw, ch), colour)
    canvas.paste(pic, ((cw - pic.width) // 2, (ch - pic.height) // 2))
    return canvas


def _margin(im: Image.Image, size: int, colour: tuple[int, int, int]) -> Image.Image:
    out = Image.new("RGB", (im.width + 2 * size, im.height + 2 * size), colour)
    out.paste(im, (size, size))
    return out


@pytest.mark.parametrize("canvas", [(0, 0, 0), (255, 255, 255)])
def test_letterboxed_copy_is_near(tmp_path: Path, canvas: tuple[int, int, int]) -> None:
    base = photo(41, 900, 600)
    fps = [_save(base, tmp_path / "orig.jpg"), _save(_letterbox(base, canvas), tmp_path / "lb.jpg")]
    assert _classes(fps) == {("lb", "orig"): MatchClass.NEAR}


def test_letterboxed_copy_of_a_picture_with_a_white_margin_is_near(tmp_path: Path) -> None:
    # Two borders, one inside the other: the black bar and the picture's own white margin.
    base = _margin(photo(42, 800, 500), 60, (255, 255, 255))
    fps = [_save(base, tmp_path / "orig.jpg"), _save(_letterbox(base), tmp_path / "lb.jpg", 85)]
    assert _classes(fps) == {("lb", "orig"): MatchClass.NEAR}


def _light_band(base: Image.Image, rows: int, noise: float, seed: int) -> Image.Image:
    """``base`` with its top rows a near-white band, grainy (``noise`` > 0) or flat."""
    arr = np.asarray(base).astype(np.float32)
    band = np.full((rows, base.width, 3), 240.0, dtype=np.float32)
    band += np.random.default_rng(seed).normal(0, noise, size=band.shape).astype(np.float32)
    arr[:rows] = band
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8))


def test_copies_trimmed_differently_are_compared_on_their_shared_frame(tmp_path: Path) -> None:
    # The original's grainy white band is part of the picture; the copy's compression flattened
    # it into a border that is trimmed. Each thumbnail then shows another region.
    base = photo(43, 640, 480)
    fps = [
        _save(_light_band(base, 10, 3.0, 1), tmp_path / "orig.png"),
        _save(_light_band(base, 10, 0.0, 1).resize((480, 360)), tmp_path / "copy.jpg", 90),
    ]
    assert fps[0].content_top == 0 and fps[1].content_top > 0
    stack = ThumbStack.of(fps)
    i, j, turns = np.array([0]), np.array([1]), np.zeros(1, dtype=np.int64)
    ev = measure_pairs(stack, i, j)
    bounds = Bounds()
    assert ev.block_diff[0] > bounds.block_diff  # as trimmed, the thumbnails disagree
    framed = reframe(stack, i, j, turns, ev, bounds)
    assert framed.mean_diff[0] <= bounds.mean_diff
    assert framed.block_diff[0] <= bounds.block_diff
    assert _classes(fps) == {("copy", "orig"): MatchClass.NEAR}


def test_memes_with_other_captions_stay_apart_in_every_frame(tmp_path: Path) -> None:
    # A letterboxed copy of one meme is compared with the other meme on their shared frames
    # too (their trimmed boxes differ): the caption still tells them apart.
    base = _margin(photo(44, 600, 400), 20, (255, 255, 255))
    meme_a = _meme(base, "WHEN THE BUILD PASSES")
    meme_b = _meme(base, "MONDAY AGAIN FOREVER")
    fps = [
        _save(meme_a, tmp_path / "meme_a.jpg"),
        _save(meme_b, tmp_path / "meme_b.jpg"),
        _save(_letterbox(meme_b), tmp_path / "meme_b_lb.jpg"),
    ]
    assert _classes(fps) == {("meme_b", "meme_b_lb"): MatchClass.NEAR}


def test_reframing_only_replaces_disagreeing_evidence_with_agreeing(tmp_path: Path) -> None:
    base = photo(45, 640, 420)
    ims = {
        "orig": base,
        "half": base.resize((320, 210)),
        "lb": _letterbox(base),
        "band": _light_band(base, 40, 3.0, 2),
        "flat": _light_band(base, 40, 0.0, 2),
        "other": photo(46, 640, 420),
        "meme": _meme(base, "NOBODY BELIEVES ME"),
    }
    fps = [_save(im, tmp_path / f"{name}.jpg") for name, im in ims.items()]
    n = len(fps)
    i, j = (a.ravel() for a in np.triu_indices(n, 1))
    stack, bounds = ThumbStack.of(fps), Bounds()
    turns = np.zeros(len(i), dtype=np.int64)
    ev = measure_pairs(stack, i, j)
    framed = reframe(stack, i, j, turns, ev, bounds)
    fields = ("mean_diff", "block_diff", "peak_ratio", "text_spread")
    changed = np.zeros(len(i), dtype=bool)
    for name in fields:
        changed |= getattr(framed, name) != getattr(ev, name)
    agree_before = (ev.mean_diff <= bounds.mean_diff) & (ev.block_diff <= bounds.block_diff)
    agree_before &= (ev.peak_ratio <= bounds.peak_ratio) & (ev.text_spread <= bounds.text_spread)
    assert not (changed & agree_before).any()
    assert (framed.mean_diff[changed] <= bounds.mean_diff).all()
    assert (framed.block_diff[changed] <= bounds.block_diff).all()
    equal_boxes = np.all(stack.boxes[i] == stack.boxes[j], axis=1)
    assert not (changed & equal_boxes).any()
    names = list(ims)
    pairs = {
        tuple(sorted((names[a], names[b]))) for a, b in zip(i[changed], j[changed], strict=True)
    }
    assert not any("other" in p or "meme" in p for p in pairs)


def test_letterbox_that_took_the_pictures_dark_edge_is_near(tmp_path: Path) -> None:
    # The picture's own bottom rows are nearly black and grainy: not a border in the picture
    # (its outer row is not flat), but on a black bar they pass for more bar. No box tells how
    # much went; the contents' aspects do, and the rows lost at the bottom are searched.
    base = np.asarray(photo(47, 900, 600)).copy()
    grain = np.random.default_rng(3).uniform(0, 10, size=(4, 225, 1))
    base[-16:] = np.kron(grain, np.ones((4, 4, 3))).astype(np.uint8)  # coarse: survives reduction
    im = Image.fromarray(base)
    fps = [_save(im, tmp_path / "orig.jpg", 95), _save(_letterbox(im), tmp_path / "lb.jpg", 90)]
    assert fps[0].content_height == 600
    assert fps[1].content_width / fps[1].content_height > 1.51  # the dark rows went
    stack = ThumbStack.of(fps)
    i, j, turns = np.array([0]), np.array([1]), np.zeros(1, dtype=np.int64)
    ev = measure_pairs(stack, i, j)
    framed = reframe(stack, i, j, turns, ev, Bounds())
    assert framed.block_diff[0] < ev.block_diff[0]
    assert _classes(fps) == {("lb", "orig"): MatchClass.NEAR}


def test_scan_groups_letterboxed_copies_and_keeps_small_caption_memes_apart(
    tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    plain = photo(48, 900, 600)
    plain.save(tree / "beach.jpg", quality=92)
    _letterbox(plain).save(tree / "beach-screen.jpg", quality=85)
    framed = _margin(photo(49, 800, 500), 50, (255, 255, 255))
    framed.save(tree / "card.jpg", quality=92)
    _letterbox(framed).save(tree / "card-screen.jpg", quality=85)  # white margin, black bars
    light = ImageEnhance.Brightness(photo(23, 600, 450)).enhance(1.7)
    _small_caption(light, "meeting pass meeting there").save(tree / "meme_a.jpg", quality=95)
    _small_caption(light, "email when done tomorrow").save(tree / "meme_b.jpg", quality=95)
    out = tmp_path / "report.json"
    res = run_cli("scan", str(tree), "-o", str(out), "-q", "--jobs", "1")
    assert res.returncode == EXIT_DUPLICATES, res.stderr
    report = load_report(out)
    groups = {frozenset(Path(m.path).name for m in g.members): g.cls for g in report.groups}
    assert groups == {
        frozenset({"beach.jpg", "beach-screen.jpg"}): "near",
        frozenset({"card.jpg", "card-screen.jpg"}): "near",
    }


@pytest.mark.parametrize("code", range(8))
def test_turned_boxes_follow_the_turned_picture(code: int) -> None:
    from picdup.verify import _turn_boxes

    box = np.array([[0.125, 0.75, 0.25, 0.5]])
    mask = np.zeros((1, 64, 64), dtype=np.uint8)
    mask[0, 8:48, 16:32] = 1
    rows, cols = np.nonzero(turn(mask, code)[0])
    seen = [rows.min() / 64, (rows.max() + 1) / 64, cols.min() / 64, (cols.max() + 1) / 64]
    assert np.allclose(_turn_boxes(box, code)[0], seen)


def test_pixel_files_foreseen_in_star_order() -> None:
    from picdup.pipeline import _in_star_order

    # 0 ranks best. The first pass confirmed 0–2 without pixels and wants pixels compared for
    # 0–1 and 1–2. As stars, 0 takes 1 and 2: 0–1 is compared, 1–2 never is.
    wanted = {(0, 1), (2, 1)}
    assert _in_star_order(wanted, [(0, 2)], lambda k: k) == [0, 1]
    # Ranked the other way round, with 3–4 wanted too: 4's star comes first, then 2 takes 0
    # and 1, so 2–1 is compared and 0–1 never is.
    wanted |= {(4, 3)}
    assert _in_star_order(wanted, [(0, 2)], lambda k: -k) == [3, 4, 1, 2]
    # Without stars every wanted pair is compared.
    assert _in_star_order(wanted, [(0, 2)], None) == [0, 1, 2, 3, 4]


def test_stars_decode_only_the_pairs_they_compare(tmp_path: Path, full_decodes: list[str]) -> None:
    # One picture four ways: a lossless PNG (the keeper: the largest file), a JPEG, a lossy WebP
    # and a HEIC. Each lossy copy is within a rounding of the PNG and of the JPEG, and decodes
    # along another path than the JPEG, so pixels could be equal: the first pass wants the JPEG
    # compared with each. The star of the PNG compares it with the JPEG only (the WebP and the
    # HEIC decode along the PNG's path, to other thumbnails), so only those two are full_decodes.
    from picdup.decode.registry import heif_available

    if not heif_available():
        pytest.skip("pillow-heif is not installed")
    tree = tmp_path / "t"
    tree.mkdir()
    src = photo(11, 800, 600)
    src.save(tree / "a.png")
    src.save(tree / "b.jpg", quality=92)
    src.save(tree / "c.webp", quality=85)
    src.save(tree / "d.heic", format="HEIF", quality=80)
    report = run_scan([str(tree)], ScanOptions(jobs=1, use_cache=False), progress=None, command=[])
    (group,) = report.groups
    assert {Path(m.path).name: m.cls for m in group.members} == {
        "a.png": "keeper",
        "b.jpg": "near",
        "c.webp": "near",
        "d.heic": "near",
    }
    assert sorted(full_decodes) == ["a.png", "b.jpg"]


def test_full_decodes_only_where_the_thumbnails_allow_equal_pixels(
    tmp_path: Path, full_decodes: list[str]
) -> None:
    # Two exposures of one scene (a burst) agree to a fraction of a level, but their reduced
    # JPEG decodes differ, so their pixels cannot be equal: no full decode. A PNG of the first
    # shot decodes along another path, so it is checked in full and found pixel-equal. A JPEG
    # whose metadata alone changed has the same stream digest: pixel-equal without a decode.
    # One with a stray byte between segments (which decoders skip, and the stream digest does
    # not parse) has the same coefficients and thumbnail: checked in full, and pixel-equal.
    rng = np.random.default_rng(5)
    base = np.asarray(photo(21, 1200, 900), dtype=np.int16)
    shot1 = Image.fromarray(
        np.clip(base + rng.integers(-2, 3, base.shape), 0, 255).astype(np.uint8)
    )
    shot2 = Image.fromarray(
        np.clip(base + rng.integers(-2, 3, base.shape), 0, 255).astype(np.uint8)
    )
    a = _save(shot1, tmp_path / "burst1.jpg", 92)
    b = _save(shot2, tmp_path / "burst2.jpg", 92)
    with Image.open(tmp_path / "burst1.jpg") as im:
        im.save(tmp_path / "burst1.png")
    data = (tmp_path / "burst1.jpg").read_bytes()
    # A comment segment after SOI: other bytes, the same coefficients.
    (tmp_path / "tagged.jpg").write_bytes(data[:2] + b"\xff\xfe\x00\x08picdup" + data[2:])
    # The same, its length one short: the comment's last byte is left between segments.
    (tmp_path / "stray.jpg").write_bytes(data[:2] + b"\xff\xfe\x00\x07picdup" + data[2:])
    fps = [a, b, _fp(tmp_path / "burst1.png"), _fp(tmp_path / "tagged.jpg")]
    stray = _fp(tmp_path / "stray.jpg")
    assert fps[3].stream_digest == a.stream_digest != "" and stray.stream_digest == ""

    burst = _classes(fps[:2] + fps[3:], use_cache=False)
    assert burst[("burst1", "burst2")] is MatchClass.NEAR
    assert burst[("burst1", "tagged")] is MatchClass.PIXEL
    assert full_decodes == []
    assert _classes([a, stray], use_cache=False) == {("burst1", "stray"): MatchClass.PIXEL}
    assert sorted(full_decodes) == ["burst1.jpg", "stray.jpg"]
    full_decodes.clear()
    converted = _classes(fps[:3], use_cache=False)
    assert converted[("burst1", "burst1")] is MatchClass.PIXEL
    assert "burst1.png" in full_decodes


def test_a_greyscale_copy_costs_no_full_decode(tmp_path: Path, full_decodes: list[str]) -> None:
    # A greyscale copy's thumbnail is the original's luma, so its thumbnails agree as closely
    # as a format change's; its colour signature says it cannot have the same pixels.
    fps = [_save(photo(22, 900, 600), tmp_path / "colour.jpg", 95)]
    with Image.open(tmp_path / "colour.jpg") as im:
        im.convert("L").convert("RGB").save(tmp_path / "grey.png")
    fps.append(_fp(tmp_path / "grey.png"))
    classes = _classes(fps, use_cache=False, mode="edited")
    assert classes[("colour", "grey")] is MatchClass.EDITED
    assert full_decodes == []


def test_a_stack_of_some_rows_holds_only_those_thumbnails(tmp_path: Path) -> None:
    fps = [_save(photo(300 + k), tmp_path / f"p{k}.jpg") for k in range(4)]
    whole, some = ThumbStack.of(fps), ThumbStack.of(fps, rows=np.array([1, 3]))
    assert np.array_equal(some.thumbs[[1, 3]], whole.thumbs[[1, 3]])
    assert not some.thumbs[[0, 2]].any() and whole.thumbs[[0, 2]].any()
    # Everything else about the pictures is kept for all of them.
    for name in ("colours", "log_aspect", "palette", "boxes", "frame_log_aspect"):
        assert np.array_equal(getattr(some, name), getattr(whole, name), equal_nan=True), name


def _thumb_pairs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of THUMB_SIZE² uint8 thumbnails: noise, smooth shading, flat, extremes, and a side
    with its shifted, noisy copy, so floors of every size come up."""
    from picdup.fingerprint import THUMB_SIZE

    shape = (n, THUMB_SIZE, THUMB_SIZE)
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    b = rng.integers(0, 256, shape, dtype=np.uint8)
    ramp = np.linspace(0, 255, THUMB_SIZE, dtype=np.float32)
    a[0::5] = np.broadcast_to(ramp, shape[1:]).astype(np.uint8)
    b[0::5] = np.broadcast_to(ramp[::-1], shape[1:]).astype(np.uint8)
    a[1::5], b[1::5] = 0, 255
    shifted = np.roll(a[2::5], 1, axis=2).astype(np.int16)
    b[2::5] = (shifted + rng.integers(-30, 31, shifted.shape)).clip(0, 255).astype(np.uint8)
    b[3::5] = (a[3::5].astype(np.int16) // 2 + 100).astype(np.uint8)
    return a, b


def test_the_mean_floor_never_exceeds_the_measured_mean(tmp_path: Path) -> None:
    from picdup.verify import _near_stats, mean_floor

    rng = np.random.default_rng(7)
    a, b = _thumb_pairs(rng, 200)
    # Real thumbnails too: a photo against its copies and against other photos.
    base = photo(21, 480, 360)
    real = [
        _save(base, tmp_path / "a.jpg"),
        _save(base.resize((240, 180)), tmp_path / "b.jpg", 60),
        _save(ImageEnhance.Brightness(base).enhance(1.3), tmp_path / "c.jpg"),
        _save(photo(22, 480, 360), tmp_path / "d.jpg"),
    ]
    stack = ThumbStack.of(real)
    i, j = np.triu_indices(len(real), 1)
    a = np.concatenate([a, stack.thumbs[i], stack.thumbs[j]])
    b = np.concatenate([b, stack.thumbs[j], stack.thumbs[i]])
    floor = mean_floor(a, b)
    mean = _near_stats(a, b, np.zeros(len(a), dtype=bool))[0]
    assert floor.dtype == mean.dtype
    assert (floor <= mean).all()
    # The floor is worth having: it is not zero for clearly different thumbnails.
    assert (floor[mean > 40] > 0.3 * mean[mean > 40]).all()
    assert (mean_floor(a, b) == mean_floor(b, a)).all()


def test_floored_evidence_classifies_as_measured_evidence(tmp_path: Path) -> None:
    """Pairs whose floor is over the bound are not measured, and nothing else changes: the
    same matches, the same classes, the same scores, with and without the floor."""
    from picdup.verify import floor_bound, measure_settings, verify_pairs

    base = photo(31, 480, 360)
    fps = [
        _save(base, tmp_path / "orig.jpg"),
        _save(base.resize((240, 180)), tmp_path / "half.jpg", 70),
        _save(_letterbox(base), tmp_path / "box.jpg"),
        _save(ImageEnhance.Brightness(base).enhance(1.25), tmp_path / "bright.jpg"),
        _save(_meme(base, "ONE"), tmp_path / "meme1.jpg"),
        _save(_meme(base, "TWO"), tmp_path / "meme2.jpg"),
        *(_save(photo(40 + k, 480, 360), tmp_path / f"other{k}.jpg") for k in range(4)),
    ]
    stack = ThumbStack.of(fps)
    i, j = (x.astype(np.int64) for x in np.triu_indices(len(fps), 1))
    distance = np.zeros(len(i), dtype=np.int64)
    bounds = Bounds()
    for loosest in (MatchClass.NEAR, MatchClass.EDITED, MatchClass.SIMILAR):
        how = measure_settings(bounds, loosest)
        kw = {
            "block_bound": how.block_bound,
            "max_crop": how.max_crop,
            "normalised": how.normalised,
        }
        full = measure_pairs(stack, i, j, np.zeros_like(i), **kw)  # type: ignore[arg-type]
        floored = measure_pairs(
            stack,
            i,
            j,
            np.zeros_like(i),
            mean_bound=floor_bound(bounds),
            **kw,  # type: ignore[arg-type]
        )
        assert floored.floored().any() and not full.floored().any()
        assert (floored.mean_diff <= full.mean_diff).all()

        def run(ev: PairEvidence | None, loosest: MatchClass = loosest) -> list[Match]:
            return verify_pairs(
                fps, stack, i, j, distance, bounds, loosest, lambda a, b: False, evidence=ev
            )

        assert run(floored) == run(full) == run(None)
        assert run(full)  # the copies are found at all
