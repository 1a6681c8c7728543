#!/usr/bin/env python3
"""Prints {"width", "height", "distinct", "dominantShare"} for a PNG (8-bit RGB or RGBA, as Chromium
writes them), decoded with the standard library only: distinct colours among the pixels, and the share
of the most common one. A blank screenshot has one colour."""
import json
import struct
import sys
import zlib
from collections import Counter


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


data = open(sys.argv[1], "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("not a PNG")
pos, idat, header = 8, b"", None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
width, height, depth, colour = header[0], header[1], header[2], header[3]
if depth != 8 or colour not in (2, 6):
    sys.exit("unsupported PNG: depth %d colour type %d" % (depth, colour))
channels = 3 if colour == 2 else 4
raw = zlib.decompress(idat)
stride = width * channels
previous = bytearray(stride)
counts = Counter()
offset = 0
for _ in range(height):
    kind = raw[offset]
    line = bytearray(raw[offset + 1:offset + 1 + stride])
    offset += 1 + stride
    for i in range(stride):
        left = line[i - channels] if i >= channels else 0
        up = previous[i]
        corner = previous[i - channels] if i >= channels else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            line[i] = (line[i] + paeth(left, up, corner)) & 0xFF
    for x in range(0, stride, channels * 4):
        counts[bytes(line[x:x + 3])] += 1
    previous = line
total = sum(counts.values())
json.dump({"width": width, "height": height, "distinct": len(counts),
           "dominantShare": counts.most_common(1)[0][1] / total}, sys.stdout)
