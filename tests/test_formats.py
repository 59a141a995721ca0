"""Every image format people have: one picture in many containers is one group; types by content."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import numpy as np
import pytest
from PIL import Image

from imagegen import photo, save
from picdup.decode import decode_full, decode_reduced, image_kind, jxl_available, probe
from picdup.errors import DecodeError
from picdup.fingerprint import fingerprint_file
from picdup.model import FileRef
from picdup.scan.sniff import sniff
from picdup.verify import ThumbStack, measure_pairs

RunCli = Callable[..., CompletedProcess[str]]
MAXPX = 50_000_000

# The eight containers of the acceptance test, and how Pillow names their writers.
EIGHT = {
    "jpg": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "avif": "AVIF",
    "heic": "HEIF",
    "tiff": "TIFF",
    "bmp": "BMP",
    "gif": "GIF",
}


def _save_any(im: Image.Image, path: Path, fmt: str, **params: object) -> None:
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    save(im, path, fmt, **params)


def _scan(run_cli: RunCli, tmp_path: Path, *args: str) -> dict[str, object]:
    out = tmp_path / "report.json"
    res = run_cli("scan", *args, "-o", str(out), "-j", "1")
    assert res.returncode in (0, 1), res.stderr
    report: dict[str, object] = json.loads(out.read_text("utf-8"))
    return report


def _ref(path: Path) -> FileRef:
    st = path.stat()
    return FileRef(str(path), st.st_size, st.st_mtime_ns, str(path.parent))


def test_one_photo_in_eight_formats_is_one_group(tmp_path: Path, run_cli: RunCli) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    im = photo(11, 800, 600)
    for ext, fmt in EIGHT.items():
        _save_any(im, tree / f"photo.{ext}", fmt)
    photo(12, 800, 600).save(tree / "other.jpg", quality=90)  # an unrelated picture
    report = _scan(run_cli, tmp_path, str(tree))
    assert report["errors"] == []
    groups = report["groups"]
    assert isinstance(groups, list) and len(groups) == 1
    members = {Path(m["path"]).name: m for m in groups[0]["members"]}
    assert set(members) == {f"photo.{ext}" for ext in EIGHT}
    formats = {m["format"] for m in members.values()}
    assert formats == {"JPEG", "PNG", "WEBP", "AVIF", "HEIF", "TIFF", "BMP", "GIF"}
    # Lossless copies of the same pixels are pixel duplicates, not merely near ones.
    lossless = {"photo.png", "photo.tiff", "photo.bmp"}
    assert all(members[n]["class"] in ("keeper", "pixel") for n in lossless)
    assert all(m["width"] == 800 and m["height"] == 600 for m in members.values())


def test_gif_palette_quantisation_stays_within_near_bounds(tmp_path: Path) -> None:
    """GIF keeps 256 colours: measure how far its reduced decode is from the original."""
    im = photo(21, 1024, 768)
    png, gif = tmp_path / "a.png", tmp_path / "a.gif"
    im.save(png)
    im.save(gif)
    fps = [fingerprint_file(_ref(p), max_pixels=MAXPX) for p in (png, gif)]
    assert all(fp.ok for fp in fps)
    ev = measure_pairs(ThumbStack.of(fps), np.array([0]), np.array([1]))
    # Measured: mean 0.2-0.5 and worst block 0.6-1.9 grey levels on photos and camera JPEGs,
    # against the near bounds of 6 and 18.
    assert ev.mean_diff[0] < 1.5
    assert ev.block_diff[0] < 4.0
    assert (fps[0].phash ^ fps[1].phash).bit_count() <= 2


def test_heic_samples_decode(shared_data: Path) -> None:
    folder = shared_data / "photos" / "exif-samples" / "heic"
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert len(files) >= 1
    for path in files:
        data = path.read_bytes()
        assert image_kind(data, path.name) == "heif"
        info = probe(data, max_pixels=MAXPX)
        decoded = decode_reduced(data, max_pixels=MAXPX)
        assert decoded.info.format == "HEIF"
        assert (decoded.info.width, decoded.info.height) == (info.width, info.height)
        h, w, _ = decoded.rgb.shape
        assert min(h, w) >= 128
        # The displayed shape: pillow-heif applies the stored rotation itself.
        assert (w > h) == (info.width > info.height)
        assert decoded.rgb.std() > 5  # a real picture, not a blank frame


def _rgb_close(a: np.ndarray, b: np.ndarray, tol: float = 3.0) -> bool:
    if a.shape != b.shape:
        return False
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean()) < tol


def test_progressive_and_cmyk_jpeg(tmp_path: Path) -> None:
    im = photo(31, 640, 480)
    base = decode_reduced(_bytes(im, "JPEG", quality=95), max_pixels=MAXPX).rgb
    prog = decode_reduced(_bytes(im, "JPEG", quality=95, progressive=True), max_pixels=MAXPX)
    assert _rgb_close(prog.rgb, base)
    cmyk = decode_reduced(_bytes(im.convert("CMYK"), "JPEG", quality=95), max_pixels=MAXPX)
    assert cmyk.info.mode == "CMYK"
    assert _rgb_close(cmyk.rgb, base, tol=8.0)


def _bytes(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)  # type: ignore[arg-type]
    return buf.getvalue()


def test_png_16_bit_palette_and_transparency() -> None:
    grey8 = np.asarray(photo(41, 320, 240).convert("L"))
    grey16 = Image.fromarray(grey8.astype(np.uint16) * 257)
    d16 = decode_reduced(_bytes(grey16, "PNG"), max_pixels=MAXPX)
    d8 = decode_reduced(_bytes(Image.fromarray(grey8), "PNG"), max_pixels=MAXPX)
    assert d16.info.mode.startswith("I")
    assert np.array_equal(d16.rgb, d8.rgb)
    # 16-bit pixel digest input equals the 8-bit one too.
    assert decode_full(_bytes(grey16, "PNG"), max_pixels=MAXPX) == decode_full(
        _bytes(Image.fromarray(grey8), "PNG"), max_pixels=MAXPX
    )

    rgb = photo(42, 320, 240)
    pal = rgb.quantize(64)
    dp = decode_reduced(_bytes(pal, "PNG"), max_pixels=MAXPX)
    assert dp.info.mode == "P"
    assert _rgb_close(dp.rgb, np.asarray(pal.convert("RGB")), tol=1.0)

    # Transparent where alpha is 0: composited on white; opaque parts unchanged.
    rgba = rgb.convert("RGBA")
    alpha = np.full((240, 320), 255, dtype=np.uint8)
    alpha[:, :160] = 0
    rgba.putalpha(Image.fromarray(alpha))
    dt = decode_reduced(_bytes(rgba, "PNG"), max_pixels=MAXPX)
    assert (dt.rgb[:, :150] == 255).all()
    assert np.array_equal(dt.rgb[:, 170:], np.asarray(rgb)[:, 170:])
    mode, _, _ = decode_full(_bytes(rgba, "PNG"), max_pixels=MAXPX)
    assert mode == "RGBA"


def test_animated_gif_and_webp_first_frame_and_frame_count() -> None:
    frames = [photo(50 + k, 240, 180) for k in range(3)]
    for fmt in ("GIF", "WEBP"):
        params: dict[str, object] = {"save_all": True, "append_images": frames[1:]}
        if fmt == "WEBP":
            params["lossless"] = True
        data = _bytes(frames[0], fmt, **params)
        d = decode_reduced(data, max_pixels=MAXPX)
        assert d.info.frames == 3, fmt
        first = np.asarray(frames[0])
        assert _rgb_close(d.rgb, first, tol=6.0), fmt
        assert not _rgb_close(d.rgb, np.asarray(frames[1]), tol=6.0), fmt
        assert probe(data, max_pixels=MAXPX).frames == 3


def test_multipage_tiff_gives_first_page() -> None:
    pages = [photo(60 + k, 300, 200) for k in range(3)]
    data = _bytes(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    d = decode_reduced(data, max_pixels=MAXPX)
    assert d.info.frames == 3
    assert np.array_equal(d.rgb, np.asarray(pages[0]))


@pytest.mark.parametrize(
    ("fmt", "mode", "kind"),
    [("BMP", "RGB", "bmp"), ("PPM", "RGB", "pnm"), ("PPM", "L", "pnm"), ("PPM", "1", "pnm")],
)
def test_bmp_and_pnm_family(fmt: str, mode: str, kind: str) -> None:
    im = photo(70, 200, 150).convert(mode)
    data = _bytes(im, fmt)
    assert image_kind(data) == kind
    d = decode_reduced(data, max_pixels=MAXPX)
    assert np.array_equal(d.rgb, np.asarray(im.convert("RGB")))


def test_mpo_first_image(tmp_path: Path) -> None:
    left, right = photo(80, 320, 240), photo(81, 320, 240)
    data = _bytes(left, "MPO", save_all=True, append_images=[right], quality=95)
    d = decode_reduced(data, max_pixels=MAXPX)
    assert d.info.format == "MPO"
    assert d.info.frames == 2
    assert _rgb_close(d.rgb, np.asarray(left), tol=8.0)
    assert not _rgb_close(d.rgb, np.asarray(right), tol=20.0)


def test_jpeg_xl_optional_plugin() -> None:
    im = photo(90, 256, 192)
    if not jxl_available():
        data = b"\xff\x0a" + b"\x00" * 100
        with pytest.raises(DecodeError, match=r"picdup\[jxl\]"):
            decode_reduced(data, max_pixels=MAXPX)
        pytest.skip("JPEG XL plugin not installed: only its install hint was checked")
    data = _bytes(im, "JXL", lossless=True)
    assert image_kind(data) == "jxl"
    d = decode_reduced(data, max_pixels=MAXPX)
    assert np.array_equal(d.rgb, np.asarray(im))


def _orient(im: Image.Image, orientation: int) -> Image.Image:
    """The stored pixels that, shown with EXIF ``orientation``, display as ``im``."""
    inverse = {
        2: [Image.Transpose.FLIP_LEFT_RIGHT],
        3: [Image.Transpose.ROTATE_180],
        4: [Image.Transpose.FLIP_TOP_BOTTOM],
        5: [Image.Transpose.TRANSPOSE],
        6: [Image.Transpose.ROTATE_90],
        7: [Image.Transpose.TRANSVERSE],
        8: [Image.Transpose.ROTATE_270],
    }[orientation]
    for op in inverse:
        im = im.transpose(op)
    return im


def _with_orientation(im: Image.Image, fmt: str, orientation: int, **params: object) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _bytes(im, fmt, exif=exif.tobytes(), **params)


@pytest.mark.parametrize(
    ("fmt", "orientation"),
    [(f, o) for f in ("PNG", "TIFF", "WEBP", "JPEG") for o in range(2, 9)]
    # AVIF and HEIF encode slowly: one flip, one half turn, both quarter turns.
    + [(f, o) for f in ("AVIF", "HEIF") for o in (2, 3, 6, 8)],
)
def test_exif_orientation_applied(fmt: str, orientation: int) -> None:
    im = photo(100, 320, 240)
    params: dict[str, object] = {"lossless": True} if fmt == "WEBP" else {}
    if fmt in ("JPEG", "AVIF", "HEIF"):
        params["quality"] = 95
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    stored = _orient(im, orientation)
    data = _with_orientation(stored, fmt, orientation, **params)
    d = decode_reduced(data, max_pixels=MAXPX)
    # libheif turns the EXIF orientation into the container's own rotation and applies it.
    assert d.info.orientation == (1 if fmt == "HEIF" else orientation)
    assert (d.info.width, d.info.height) == (320, 240)
    upright = decode_reduced(_bytes(im, fmt, **params), max_pixels=MAXPX)
    tol = {"JPEG": 3.0, "AVIF": 3.0, "HEIF": 3.0}.get(fmt, 0.01)
    assert _rgb_close(d.rgb, upright.rgb, tol=tol)


def test_rotated_by_tag_and_rotated_pixels_are_pixel_duplicates(
    tmp_path: Path, run_cli: RunCli
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    im = photo(110, 640, 480)
    im.save(tree / "upright.png")
    (tree / "tagged6.png").write_bytes(_with_orientation(_orient(im, 6), "PNG", 6))
    (tree / "tagged3.tiff").write_bytes(_with_orientation(_orient(im, 3), "TIFF", 3))
    # A JPEG stored sideways with a tag, and the same displayed pixels saved losslessly.
    jpeg = _with_orientation(_orient(photo(111, 640, 480), 8), "JPEG", 8, quality=92)
    (tree / "camera.jpg").write_bytes(jpeg)
    from PIL import ImageOps

    ImageOps.exif_transpose(Image.open(io.BytesIO(jpeg))).save(tree / "camera-upright.png")
    report = _scan(run_cli, tmp_path, str(tree), "--mode", "pixel")
    groups = sorted(report["groups"], key=lambda g: len(g["members"]))  # type: ignore[arg-type]
    names = [sorted(Path(m["path"]).name for m in g["members"]) for g in groups]
    assert names == [
        ["camera-upright.png", "camera.jpg"],
        ["tagged3.tiff", "tagged6.png", "upright.png"],
    ]
    for g in groups:
        assert g["class"] == "pixel"
        for m in g["members"]:
            assert (m["width"], m["height"]) == (640, 480)


def test_type_by_content_with_wrong_or_missing_extensions(tmp_path: Path, run_cli: RunCli) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    im = photo(120, 640, 480)
    im.save(tree / "real.png")
    im.save(tree / "png-named.jpg", "PNG")
    im.save(tree / "no_extension", "PNG")
    im.save(tree / "webp-named.png", "WEBP", lossless=True)
    im.save(tree / "jpeg.txt", "JPEG", quality=95)
    (tree / "notes.jpg").write_text("this is not a picture\n")
    report = _scan(run_cli, tmp_path, str(tree))
    groups = report["groups"]
    assert isinstance(groups, list) and len(groups) == 1
    names = sorted(Path(m["path"]).name for m in groups[0]["members"])
    assert names == ["jpeg.txt", "no_extension", "png-named.jpg", "real.png", "webp-named.png"]
    fmt = {Path(m["path"]).name: m["format"] for m in groups[0]["members"]}
    assert fmt["png-named.jpg"] == "PNG" and fmt["webp-named.png"] == "WEBP"
    assert fmt["jpeg.txt"] == "JPEG"
    errors = {Path(e["path"]).name: e["error"] for e in report["errors"]}  # type: ignore[union-attr]
    assert list(errors) == ["notes.jpg"]
    assert "matches no image format" in errors["notes.jpg"]


def _iso(brand: bytes, compatible: tuple[bytes, ...] = ()) -> bytes:
    body = brand + b"\x00\x00\x02\x00" + b"".join(compatible)
    box = (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body
    return box + (16).to_bytes(4, "big") + b"mdat" + b"\x00" * 8


def test_svg_pdf_and_video_are_skipped_and_counted(tmp_path: Path, run_cli: RunCli) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    photo(130, 320, 240).save(tree / "photo.jpg", quality=90)
    (tree / "logo.svg").write_text(
        '<?xml version="1.0"?>\n<!-- drawn by hand -->\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>\n'
    )
    (tree / "plain.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (tree / "scan.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    (tree / "IMG_0001.MOV").write_bytes(_iso(b"qt  ", (b"qt  ",)))
    (tree / "clip.mp4").write_bytes(_iso(b"isom", (b"isom", b"iso2", b"avc1", b"mp41")))
    (tree / "clip.webm").write_bytes(b"\x1aE\xdf\xa3" + b"\x00" * 60)
    (tree / "notes.txt").write_text("shopping list\n")
    report = _scan(run_cli, tmp_path, str(tree))
    assert report["errors"] == []
    assert report["skipped"] == {
        "PDF document": 1,
        "not an image": 1,
        "vector image (SVG)": 2,
        "video": 3,
    }
    stats = report["stats"]
    assert isinstance(stats, dict)
    assert stats["images"] == 1 and stats["skipped"] == 7


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (_iso(b"heic", (b"mif1", b"heic")), ("heif", None)),
        (_iso(b"mif1", (b"mif1", b"heic")), ("heif", None)),
        (_iso(b"avif", (b"avif", b"mif1", b"miaf")), ("avif", None)),
        (_iso(b"mif1", (b"mif1", b"avif")), ("avif", None)),
        (_iso(b"crx ", (b"crx ", b"isom")), ("raw", None)),
        (_iso(b"qt  "), (None, "video")),
        (_iso(b"M4A ", (b"M4A ", b"mp42")), (None, "audio")),
        (b"IIRO\x08\x00\x00\x00", ("raw", None)),
        (b"", (None, "empty file")),
        (b"P5\n1 1\n255\n\x00", ("pnm", None)),
        (b"\xef\xbb\xbf<svg/>", (None, "vector image (SVG)")),
    ],
)
def test_sniff_pinned(head: bytes, expected: tuple[str | None, str | None]) -> None:
    assert sniff(head) == expected
