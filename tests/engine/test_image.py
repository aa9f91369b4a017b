"""Converting uploaded images and pixel arrays to network inputs (engine/image.py)."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile

from engine.data import load_dataset
from engine.errors import ImageError
from engine.image import (
    MAX_IMAGE_BYTES,
    image_to_input,
    mnist_style,
    pixels_to_input,
    to_size,
)


def encode(im: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def centre_of_mass(x: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(x.shape)
    return float((rows * x).sum() / x.sum()), float((cols * x).sum() / x.sum())


def bounding_box(x: np.ndarray) -> tuple[int, int]:
    rows = np.flatnonzero(x.any(axis=1))
    cols = np.flatnonzero(x.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def drawn_seven(width=240, height=180, ink=0, paper=255, mode="L") -> Image.Image:
    """A thick '7' drawn off-centre, in the top-left of a larger canvas."""
    im = Image.new(mode, (width, height), paper)
    draw = ImageDraw.Draw(im)
    draw.line([(20, 20), (110, 20), (60, 150)], fill=ink, width=14)
    return im


def patch_png_size(png: bytes, width: int, height: int) -> bytes:
    """Rewrite a PNG's IHDR width/height (and its CRC) without touching the pixel data."""
    # PNG: 8-byte signature, then the IHDR chunk: length(4) "IHDR"(4) data(13) crc(4).
    assert png[12:16] == b"IHDR"
    data = struct.pack(">II", width, height) + png[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + data) & 0xFFFFFFFF)
    return png[:16] + data + crc + png[33:]


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if Pillow starts decoding pixel data."""

    def refuse(self):
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


# --- the MNIST-style conversion ---------------------------------------------------


def test_white_background_black_digit_is_inverted():
    x, x28 = image_to_input(encode(drawn_seven(ink=0, paper=255)))
    assert x28[0, 0] == 0.0 and x28[-1, -1] == 0.0  # background became black
    assert x28.max() == pytest.approx(1.0)  # the ink became white
    assert x28.mean() < 0.3
    assert x.shape == (14, 14) and x.dtype == np.float64


def test_dark_and_light_backgrounds_give_the_same_digit():
    _, dark_on_light = image_to_input(encode(drawn_seven(ink=0, paper=255)))
    _, light_on_dark = image_to_input(encode(drawn_seven(ink=255, paper=0)))
    assert np.abs(dark_on_light - light_on_dark).max() < 1e-6


def test_drawn_stroke_is_centred_by_mass_and_fits_20px():
    _, x28 = image_to_input(encode(drawn_seven()))
    assert x28.shape == (28, 28)
    r, c = centre_of_mass(x28)
    assert abs(r - 14) <= 1 and abs(c - 14) <= 1
    h, w = bounding_box(x28 > 0)
    assert max(h, w) <= 20
    assert max(h, w) >= 19  # the longer side is scaled up to 20 px, not left small


def test_small_digit_is_scaled_up_to_20px():
    im = Image.new("L", (300, 300), 0)
    ImageDraw.Draw(im).rectangle([200, 30, 209, 34], fill=255)  # a 10×5 blob, off-centre
    _, x28 = image_to_input(encode(im))
    h, w = bounding_box(x28 > 0.5)
    assert w == 20 and 9 <= h <= 11  # aspect ratio kept
    r, c = centre_of_mass(x28)
    assert abs(r - 14) <= 1 and abs(c - 14) <= 1


def test_dataset_digit_survives_the_round_trip():
    d28 = load_dataset("mnist28")
    for index in (0, 1, 2, 3, 4, 1234, 8765):
        original, _ = d28.sample(index)
        png = encode(Image.fromarray(np.rint(original * 255).astype(np.uint8)))
        _, x28 = image_to_input(png, size=28)
        assert np.corrcoef(original.ravel(), x28.ravel())[0, 1] > 0.9


def test_photo_with_grey_paper_becomes_black_background():
    im = drawn_seven(ink=40, paper=200)
    x, x28 = image_to_input(encode(im.convert("RGB"), "JPEG", quality=90))
    corners = [x28[0, 0], x28[0, -1], x28[-1, 0], x28[-1, -1]]
    assert max(corners) < 0.05
    assert x28.max() > 0.9


def test_transparent_canvas_drawing_is_read_from_alpha():
    im = Image.new("RGBA", (200, 200), (0, 0, 0, 0))  # transparent black, like a canvas
    ImageDraw.Draw(im).line([(100, 20), (100, 180)], fill=(0, 0, 0, 255), width=16)
    _, x28 = image_to_input(encode(im))
    assert x28.max() == pytest.approx(1.0)
    r, c = centre_of_mass(x28)
    assert abs(r - 14) <= 1 and abs(c - 14) <= 1


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "WEBP", "JPEG"])
def test_other_formats_are_decoded(fmt):
    _, x28 = image_to_input(encode(drawn_seven().convert("RGB"), fmt))
    assert x28.max() > 0.9 and x28[0, 0] < 0.05


def test_size_28_returns_the_28x28_itself():
    x, x28 = image_to_input(encode(drawn_seven()), size=28)
    assert x.shape == (28, 28)
    assert np.array_equal(x, x28)


def test_size_14_is_the_2x2_mean_of_x28():
    x, x28 = image_to_input(encode(drawn_seven()), size=14)
    assert np.allclose(x, x28.reshape(14, 2, 14, 2).mean(axis=(1, 3)), atol=0, rtol=0)


def test_to_size_matches_the_dataset():
    d14, d28 = load_dataset("mnist14"), load_dataset("mnist28")
    for index in (0, 5000, 9999):
        assert np.abs(to_size(d28.images[index], 14) - d14.images[index]).max() < 1e-15
        assert np.array_equal(to_size(d28.images[index], 28), d28.images[index])


def test_mnist_style_output_range():
    rng = np.random.default_rng(0)
    gray = np.zeros((50, 40))
    gray[10:30, 5:20] = rng.uniform(0.3, 1.0, size=(20, 15))
    x28 = mnist_style(gray)
    assert x28.shape == (28, 28) and x28.dtype == np.float64
    assert 0.0 <= x28.min() and x28.max() <= 1.0


# --- refusals ---------------------------------------------------------------------


def test_garbage_bytes_are_refused():
    with pytest.raises(ImageError) as err:
        image_to_input(b"this is not an image, just some words" * 10)
    assert err.value.field == "png_base64"
    assert "PNG" in err.value.message


def test_truncated_png_is_refused():
    png = encode(drawn_seven())
    with pytest.raises(ImageError):
        image_to_input(png[: len(png) // 2])


def test_zero_bytes_are_refused():
    with pytest.raises(ImageError):
        image_to_input(b"")


@pytest.mark.parametrize("colour", [0, 255, 128])
def test_blank_image_is_refused_as_empty(colour):
    with pytest.raises(ImageError) as err:
        image_to_input(encode(Image.new("L", (64, 64), colour)))
    assert err.value.message == "the image is empty: draw or upload a digit"
    assert err.value.field == "png_base64"


def test_fully_transparent_image_is_refused_as_empty():
    with pytest.raises(ImageError, match="empty"):
        image_to_input(encode(Image.new("RGBA", (64, 64), (0, 0, 0, 0))))


def test_oversized_payload_is_refused_before_decoding(no_decoding):
    payload = encode(drawn_seven()) + bytes(MAX_IMAGE_BYTES)
    with pytest.raises(ImageError) as err:
        image_to_input(payload)
    assert "limit" in err.value.message and err.value.field == "png_base64"


def test_tiny_image_is_refused():
    with pytest.raises(ImageError, match="at least 8"):
        image_to_input(encode(Image.new("L", (4, 4), 255)))


# 5000²: over our limit only; 10000²: Pillow warns; 20000²: Pillow raises.
@pytest.mark.parametrize("side", [5000, 10000, 20000])
def test_decompression_bomb_header_is_refused_without_decoding(no_decoding, side):
    small = encode(Image.new("L", (16, 16), 0))
    bomb = patch_png_size(small, side, side)
    assert struct.unpack(">II", bomb[16:24]) == (side, side)
    with pytest.raises(ImageError) as err:
        image_to_input(bomb)
    assert "4096" in err.value.message and err.value.field == "png_base64"


def test_real_large_1bit_png_is_refused_without_decoding(no_decoding):
    bomb = encode(Image.new("1", (5000, 5000), 0))
    assert len(bomb) < 100_000  # tiny on the wire, 25 megapixels decoded
    with pytest.raises(ImageError, match="4096"):
        image_to_input(bomb)


def test_bad_size_is_refused():
    with pytest.raises(ImageError) as err:
        image_to_input(encode(drawn_seven()), size=20)
    assert err.value.field == "size"


# --- pixel arrays -----------------------------------------------------------------


def test_14x14_unit_pixels_are_taken_as_is():
    rng = np.random.default_rng(1)
    pixels = rng.uniform(0, 1, size=(14, 14))
    pixels[0, 0] = 1.0  # a light border would trigger inversion if converted
    x = pixels_to_input(pixels.tolist())
    assert x.dtype == np.float64
    assert np.array_equal(x, pixels)


def test_28x28_unit_pixels_are_taken_as_is_for_size_28():
    x28, _ = load_dataset("mnist28").sample(0)
    assert np.array_equal(pixels_to_input(x28, size=28), x28)


def test_14x14_in_0_255_is_converted():
    pixels = np.zeros((14, 14))
    pixels[2:6, 2:4] = 255
    x = pixels_to_input(pixels)
    assert x.shape == (14, 14) and x.max() <= 1.0
    x28 = np.kron(x, np.ones((2, 2)))
    r, c = centre_of_mass(x28)
    assert abs(r - 14) <= 1.5 and abs(c - 14) <= 1.5


def test_large_drawn_pixels_are_converted_like_an_image():
    im = drawn_seven()
    from_pixels = pixels_to_input(np.asarray(im, dtype=float).tolist(), size=28)
    _, from_png = image_to_input(encode(im), size=28)
    assert np.abs(from_pixels - from_png).max() < 1e-6


@pytest.mark.parametrize(
    ("pixels", "needle"),
    [
        ([[0.0] * 10] * 9 + [[0.0] * 9], "equal length"),
        ([["a"] * 10] * 10, "numbers"),
        ([[None] * 10] * 10, "numbers"),
        (np.zeros((10, 10, 3)), "2-D"),
        (np.zeros(100), "2-D"),
        (np.zeros((7, 7)), "8 to 1024"),
        (np.zeros((1025, 8)), "8 to 1024"),
        (np.full((14, 14), np.nan), "NaN"),
        (np.full((14, 14), np.inf), "NaN"),
        (np.full((14, 14), -0.5), "negative"),
        (np.full((14, 14), 300.0), "255"),
        (np.zeros((20, 20)), "empty"),
    ],
)
def test_bad_pixels_are_refused(pixels, needle):
    with pytest.raises(ImageError) as err:
        pixels_to_input(pixels)
    assert err.value.field == "pixels"
    assert needle in err.value.message
