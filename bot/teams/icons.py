"""The Teams app package's two icons, drawn as PNGs with the standard library alone.

Teams asks for a full-colour icon of 192x192 and an outline icon of 32x32 that is white on a
transparent background (every pixel pure white or fully transparent). Both show Seen's mark, an
open eye: a ring with a pupil.
"""

from __future__ import annotations

import struct
import zlib

COLOR_SIZE = 192
OUTLINE_SIZE = 32
ACCENT = (0x1F, 0x6F, 0x5C)  # the manifest's accentColor, #1F6F5C
WHITE = (0xFF, 0xFF, 0xFF)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png(pixels: list[list[tuple[int, int, int, int]]]) -> bytes:
    """An 8-bit RGBA PNG of the rows of (r, g, b, a) pixels."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _mark(size: int, x: int, y: int) -> bool:
    """Whether pixel (x, y) of a size x size square is part of the eye: a ring and a pupil."""
    c = (size - 1) / 2
    r = ((x - c) ** 2 + (y - c) ** 2) ** 0.5
    outer, width, pupil = size * 0.42, max(size * 0.08, 2.0), size * 0.16
    return outer - width <= r <= outer or r <= pupil


def color_icon() -> bytes:
    size = COLOR_SIZE
    return png(
        [[(*WHITE, 255) if _mark(size, x, y) else (*ACCENT, 255) for x in range(size)] for y in range(size)]
    )


def outline_icon() -> bytes:
    size = OUTLINE_SIZE
    return png(
        [[(*WHITE, 255) if _mark(size, x, y) else (*WHITE, 0) for x in range(size)] for y in range(size)]
    )
