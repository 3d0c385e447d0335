"""What Pillow does with uploaded bytes: tell what they are, and re-encode them into variants.

Nothing from the client is trusted: the format comes from the bytes (the name and the part's
Content-Type are ignored), the pixel count is checked from the header before anything is
decoded, the whole image is decoded once to catch a truncated file, and a file that is also
something else (HTML a browser would sniff, a ZIP archive) is refused. Variants are new
images drawn from the pixels: EXIF (GPS included), ICC comments and text chunks stay behind.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

ACCEPTED = {"JPEG", "PNG", "WEBP", "GIF"}
# (name, largest width): API.md's sizes; a variant is never wider than the original.
SIZES = (("thumb", 320), ("medium", 960), ("large", 1920))
WEBP = ("webp", "image/webp", "WEBP")
# The format a browser without WebP gets (and the one `url` names, for any browser).
FALLBACK = {
    "JPEG": ("jpg", "image/jpeg", "JPEG"),
    "PNG": ("png", "image/png", "PNG"),
    "GIF": ("png", "image/png", "PNG"),
}
# What makes a browser, sniffing, take a file for a page, and what starts a PHP script.
ACTIVE_CONTENT = re.compile(
    rb"<(?:!doctype|html|head|body|script|iframe|svg|object|embed|meta|style|\?php)",
    re.IGNORECASE,
)
# Pillow first shrinks by an integer factor (fast), then resamples the last factor of two
# with Lanczos: a visually equal result in a third of the time.
REDUCING_GAP = 2.0
SNIFF_BYTES = 1024  # browsers sniff the first 512 bytes; twice that, to be safe
TAIL_BYTES = 64 * 1024

ImageFile.LOAD_TRUNCATED_IMAGES = False


class NotAnImage(Exception):
    """Refused: the message says why, for the client (`file`)."""


@dataclass(frozen=True)
class Inspected:
    format: str
    width: int
    height: int


@dataclass(frozen=True)
class Rendition:
    name: str
    extension: str
    content_type: str
    width: int
    height: int
    data: bytes


def inspect(source: IO[bytes], max_pixels: int) -> Inspected:
    """What the bytes are, or NotAnImage; decodes the image once, to find truncation."""
    _refuse_polyglots(source)
    source.seek(0)
    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow's own guard, at our limit (one per process)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=sorted(ACCEPTED)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise NotAnImage(f"The image has more than {max_pixels:,} pixels.")
                kind = str(image.format)
                if any(_has_markup(value) for value in image.info.values()):
                    raise NotAnImage("The file also holds HTML or script: send a plain image.")
                if kind == "JPEG":  # decoding at an eighth of the size still reads every byte
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except NotAnImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NotAnImage(f"The image has more than {max_pixels:,} pixels.") from None
    except UnidentifiedImageError:
        raise NotAnImage("Not an image: send a JPEG, PNG, WebP or GIF file.") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise NotAnImage("The image is damaged or incomplete.") from None
    if width < 1 or height < 1:
        raise NotAnImage("The image is empty.")
    return Inspected(kind, width, height)


def _refuse_polyglots(source: IO[bytes]) -> None:
    """Where a second format hides in an image: at its start (what a browser sniffs), at its
    end (a payload appended after the picture, a ZIP's directory), or in its text chunks
    (see `inspect`). Not the compressed middle: random-looking bytes there would match
    short markers by chance in one photo of a few hundred."""
    source.seek(0)
    head = source.read(SNIFF_BYTES)
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(max(len(head), size - TAIL_BYTES))
    tail = source.read()
    if _has_markup(head) or _has_markup(tail):
        raise NotAnImage("The file also holds HTML or script: send a plain image.")
    source.seek(0)
    if zipfile.is_zipfile(source):
        raise NotAnImage("The file is also an archive: send a plain image.")


def _has_markup(data: object) -> bool:
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    return isinstance(data, bytes) and ACTIVE_CONTENT.search(data) is not None


def render(source: IO[bytes], max_pixels: int) -> tuple[Inspected, list[Rendition]]:
    """The variants of an uploaded image: each size in WebP, and in the original's format
    where a browser may lack WebP. Raises NotAnImage (or Pillow's errors) on bad input."""
    inspected = inspect(source, max_pixels)
    source.seek(0)
    with Image.open(source, formats=[inspected.format]) as opened:
        if inspected.format == "JPEG":  # decode no larger than the largest variant needs
            opened.draft("RGB", (SIZES[-1][1], SIZES[-1][1] * opened.height // opened.width))
        image = ImageOps.exif_transpose(opened)  # EXIF turns the picture; then it is dropped
        image = _plain(image)
    width, height = image.size
    formats = [WEBP, *([FALLBACK[inspected.format]] if inspected.format in FALLBACK else [])]
    sizes: list[tuple[str, tuple[int, int]]] = []
    for name, largest in SIZES:
        target = min(largest, width)
        if sizes and target <= sizes[-1][1][0]:
            break  # the original is narrower: a larger size would repeat this one
        sizes.append((name, (target, max(1, round(height * target / width)))))
    renditions = []
    source_image = image
    for name, size in reversed(sizes):  # each size drawn from the next larger: less work
        if size != source_image.size:
            source_image = source_image.resize(
                size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP
            )
        for extension, content_type, pil_format in formats:
            data = _encode(source_image, pil_format)
            renditions.append(Rendition(name, extension, content_type, *size, data))
    renditions.sort(key=lambda rendition: (rendition.width, rendition.extension))
    return Inspected(inspected.format, width, height), renditions


def _plain(image: Image.Image) -> Image.Image:
    """Only pixels: RGB or RGBA (a palette's transparency kept), nothing from `info`."""
    mode = "RGBA" if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info else "RGB"
    plain = image.convert(mode)
    plain.info = {}
    return plain


def _encode(image: Image.Image, pil_format: str) -> bytes:
    buffer = io.BytesIO()
    if pil_format == "JPEG":
        image.convert("RGB").save(buffer, "JPEG", quality=85)
    elif pil_format == "WEBP":
        # Method 1 of 6: a few per cent larger files than the default 4, in a fifth of the
        # time (the budget is 3 s to READY for a 5 MB photo on a small machine).
        image.save(buffer, "WEBP", quality=80, method=1)
    else:
        image.save(buffer, "PNG", optimize=False)
    return buffer.getvalue()
