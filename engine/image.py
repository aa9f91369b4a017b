"""Turn an uploaded or drawn image into a network input (MATH.md §1, row "input").

The network reads MNIST-like digits: a bright digit on a black background,
scaled so its longer side is 20 px and centred by its centre of mass in a 28×28
field (then 2×2-averaged to 14×14 for the seed network). Anything else a person
sends — a photo of a digit on paper, a canvas drawing, a pixel array — goes
through the same conversion, ``mnist_style``, so the network sees what it was
trained on.

Entry points:

- ``image_to_input(data, size)``: encoded image bytes (PNG, JPEG, GIF, BMP, WebP)
  → ``(x, x28)``.
- ``pixels_to_input(pixels, size)``: a 2-D array of numbers → ``x``.

Every refusal is an ``ImageError`` whose message says what to change.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from engine.errors import ImageError

MAX_IMAGE_BYTES = 5_000_000
MAX_IMAGE_PIXELS = 4096 * 4096
MIN_SIDE = 8
MAX_PIXELS_SIDE = 1024
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
SIZES = (14, 28)

FIELD_IMAGE = "png_base64"
FIELD_PIXELS = "pixels"

# A pixel belongs to the digit when it is brighter than this (on the [0, 1] scale).
INK_THRESHOLD = 0.1
# MNIST digits: longer side of the bounding box 20 px, centre of mass at (14, 14).
DIGIT_BOX = 20
FIELD = 28
CENTRE = 14.0


def _check_size(size: int) -> None:
    if isinstance(size, bool) or size not in SIZES:
        raise ImageError(f"input size {size!r} is not supported; use 14 or 28", field="size")


def image_to_input(data: bytes, size: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """Decode an image and convert it to a network input.

    Steps: refuse payloads over ``MAX_IMAGE_BYTES``; read the header only and
    refuse images over ``MAX_IMAGE_PIXELS`` (decompression bombs are refused
    before any pixel is decoded); decode the first frame, apply the EXIF
    rotation, flatten to grayscale in [0, 1] (transparent pixels take the
    background colour); then ``mnist_style`` and ``to_size``.

    Args:
        data: the encoded image (PNG, JPEG, GIF, BMP or WebP).
        size: side of the network input, 14 or 28.

    Returns:
        ``(x, x28)``: x float64 (size, size) in [0, 1]; x28 float64 (28, 28), the
        MNIST-style digit x was made from.

    Raises:
        ImageError: (field ``"png_base64"``) too large, not an image, or blank.
    """
    _check_size(size)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ImageError("the image must be bytes (base64-decoded PNG or JPEG)", field=FIELD_IMAGE)
    if len(data) == 0:
        raise ImageError("the image is empty (0 bytes): send a PNG or JPEG", field=FIELD_IMAGE)
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(
            f"the image is {len(data):,} bytes; the limit is {MAX_IMAGE_BYTES:,}: "
            "send a smaller or more compressed image",
            field=FIELD_IMAGE,
        )
    gray = _decode_gray(bytes(data))
    x28 = mnist_style(gray, field=FIELD_IMAGE)
    return to_size(x28, size), x28


def _decode_gray(data: bytes) -> np.ndarray:
    """Decode ``data`` to a float64 grayscale array in [0, 1], refusing bombs unread."""
    try:
        # Pillow warns (and over twice its limit raises) about bombs in open(); make
        # the warning an error so it lands in the except clause below.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=list(FORMATS))
            # Image.open reads only the header: the size is known, no pixel decoded yet.
            width, height = im.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageError(
                    f"the image is {width}×{height} pixels; the limit is "
                    f"{MAX_IMAGE_PIXELS:,} pixels (4096×4096): send a smaller image",
                    field=FIELD_IMAGE,
                )
            if min(width, height) < MIN_SIDE:
                raise ImageError(
                    f"the image is {width}×{height} pixels; send at least {MIN_SIDE}×{MIN_SIDE}",
                    field=FIELD_IMAGE,
                )
            im.seek(0)
            im.load()
            im = ImageOps.exif_transpose(im)
            return _to_gray(im)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(
            "the image declares too many pixels (possible decompression bomb): "
            "send an image of at most 4096×4096",
            field=FIELD_IMAGE,
        ) from exc
    except Exception as exc:
        # Corrupt files make Pillow raise many types (OSError, SyntaxError, struct.error…).
        raise ImageError(
            f"the data could not be read as an image ({type(exc).__name__}): "
            f"send a PNG, JPEG, GIF, BMP or WebP file",
            field=FIELD_IMAGE,
        ) from exc


def _to_gray(im: Image.Image) -> np.ndarray:
    """Grayscale float64 in [0, 1] of a decoded Pillow image (alpha flattened)."""
    if im.mode.startswith("I") or im.mode == "F":
        # 16/32-bit or float images: scale by their own range instead of clipping at 255.
        a = np.asarray(im, dtype=np.float64)
        top = 1.0 if im.mode == "F" and a.max() <= 1.0 else 65535.0 if a.max() > 255 else 255.0
        return np.clip(a / top, 0.0, 1.0)
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    if not has_alpha:
        return np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    la = np.asarray(im.convert("RGBA").convert("LA"), dtype=np.float64) / 255.0
    gray, alpha = la[..., 0], la[..., 1]
    if not (alpha > 0).any():
        return np.zeros_like(gray)
    # A canvas drawing is often ink on a transparent background: put the ink on the
    # opposite shade (dark ink → white paper, light ink → black) so it stays visible.
    ink = np.average(gray, weights=alpha)
    background = 1.0 if ink < 0.5 else 0.0
    return alpha * gray + (1.0 - alpha) * background


def pixels_to_input(pixels, size: int = 14) -> np.ndarray:
    """Convert a 2-D array of numbers to a network input x, float64 (size, size) in [0, 1].

    ``pixels`` is rows of numbers, at least 8×8 and at most 1024×1024, with values
    in [0, 1] or in [0, 255] (scaled by 1/255 when the maximum exceeds 1). A
    size×size array with values in [0, 1] is taken as is (the API's "pixels"
    input: the exact x the network reads). Anything else goes through
    ``mnist_style`` and ``to_size``.

    Raises:
        ImageError: (field ``"pixels"``) ragged rows, not 2-D, non-numeric,
            non-finite, negative or > 255 values, side out of 8..1024, or blank.
    """
    _check_size(size)
    try:
        a = np.array(pixels, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise ImageError(
            "pixels must be a list of rows of equal length, each a list of numbers",
            field=FIELD_PIXELS,
        ) from exc
    if a.ndim != 2:
        raise ImageError(
            f"pixels must be 2-D (a list of rows of numbers); got {a.ndim}-D, shape {a.shape}",
            field=FIELD_PIXELS,
        )
    rows, cols = a.shape
    if not (MIN_SIDE <= rows <= MAX_PIXELS_SIDE and MIN_SIDE <= cols <= MAX_PIXELS_SIDE):
        raise ImageError(
            f"pixels are {rows}×{cols}; each side must be {MIN_SIDE} to {MAX_PIXELS_SIDE}",
            field=FIELD_PIXELS,
        )
    if not np.isfinite(a).all():
        raise ImageError("pixels contain NaN or infinity: send finite numbers", field=FIELD_PIXELS)
    if a.min() < 0:
        raise ImageError(
            f"pixels contain a negative value ({a.min():g}): use values in [0, 1] or [0, 255]",
            field=FIELD_PIXELS,
        )
    if a.max() > 255:
        raise ImageError(
            f"pixels contain {a.max():g}, above 255: use values in [0, 1] or [0, 255]",
            field=FIELD_PIXELS,
        )
    if a.max() <= 1.0:
        if a.shape == (size, size):
            return a
    else:
        a = a / 255.0
    return to_size(mnist_style(a, field=FIELD_PIXELS), size)


def mnist_style(gray: np.ndarray, field: str = FIELD_IMAGE) -> np.ndarray:
    """The MNIST conversion: any grayscale digit → float64 (28, 28) in [0, 1].

    1. If the background is light (median of the border pixels > 0.5), invert,
       so the digit is bright on dark as in MNIST.
    2. Subtract the background level (median of the border) and stretch so the
       brightest pixel is 1 (a photo's grey paper becomes black, its ink white).
    3. Crop to the bounding box of pixels brighter than ``INK_THRESHOLD``.
    4. Resize with Pillow (LANCZOS), keeping the aspect ratio, so the longer
       side is 20 px.
    5. Paste into a black 28×28 field so the centre of mass lands on pixel
       (14, 14) (row, column), shifting by whole pixels and keeping the digit
       inside the field.

    Args:
        gray: 2-D array, values in [0, 1].
        field: the request field named in errors.

    Raises:
        ImageError: nothing is brighter than the threshold ("the image is empty").
    """
    g = np.asarray(gray, dtype=np.float64)
    if g.ndim != 2 or g.size == 0:
        raise ImageError(f"expected a 2-D grayscale image, got shape {g.shape}", field=field)
    g = np.clip(g, 0.0, 1.0)

    border = np.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])
    if np.median(border) > 0.5:
        g = 1.0 - g
        border = 1.0 - border
    # After step 1 the background is at most 0.5, so the division is safe.
    background = float(np.median(border))
    g = np.clip((g - background) / (1.0 - background), 0.0, 1.0)
    top = g.max()
    if top <= INK_THRESHOLD:
        raise ImageError("the image is empty: draw or upload a digit", field=field)
    g = g / top

    rows = np.flatnonzero((g > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((g > INK_THRESHOLD).any(axis=0))
    crop = g[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    h, w = crop.shape
    scale = DIGIT_BOX / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resized = Image.fromarray(crop.astype(np.float32)).resize(
        (new_w, new_h), Image.Resampling.LANCZOS
    )
    # LANCZOS rings slightly below 0 and above 1 at sharp edges.
    glyph = np.clip(np.asarray(resized, dtype=np.float64), 0.0, 1.0)
    if glyph.sum() == 0:
        raise ImageError("the image is empty: draw or upload a digit", field=field)

    # Centre of mass of the glyph, in its own (row, column) pixel coordinates.
    mass = glyph.sum()
    com_r = (glyph.sum(axis=1) * np.arange(new_h)).sum() / mass
    com_c = (glyph.sum(axis=0) * np.arange(new_w)).sum() / mass
    # Top-left corner that puts the centre of mass on (14, 14), clipped so the glyph fits.
    top_row = int(np.clip(round(CENTRE - com_r), 0, FIELD - new_h))
    left_col = int(np.clip(round(CENTRE - com_c), 0, FIELD - new_w))
    x28 = np.zeros((FIELD, FIELD), dtype=np.float64)
    x28[top_row : top_row + new_h, left_col : left_col + new_w] = glyph
    return x28


def to_size(x28: np.ndarray, size: int) -> np.ndarray:
    """Bring a 28×28 input to the network's size: 28 → unchanged (a float64 copy),
    14 → mean of each 2×2 block (as the mnist14 dataset, MATH §1)."""
    _check_size(size)
    x28 = np.asarray(x28, dtype=np.float64)
    if x28.shape != (FIELD, FIELD):
        raise ImageError(f"expected a 28×28 image, got shape {x28.shape}", field="size")
    if size == FIELD:
        return x28.copy()
    return x28.reshape(14, 2, 14, 2).mean(axis=(1, 3))
