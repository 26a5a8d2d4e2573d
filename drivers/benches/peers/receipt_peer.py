"""Peer for the receipt benchmark: python-escpos building the same receipt into a Dummy printer.

Same content as drivers/benches/receipt.rs: a 160x160 logo (dithered once up front), a title,
20 Chinese lines (GBK bytes, as python-escpos has no GBK code page), a native QR code, feed, cut.
Median of 500 builds. Prints `peer_encode_median_us <value>`.
"""
import math
import statistics
import time

from escpos.printer import Dummy
from PIL import Image


def emblem(size):
    img = Image.new("L", (size, size), 255)
    c = size / 2
    px = img.load()
    for y in range(size):
        for x in range(size):
            dx, dy = x + 0.5 - c, y + 0.5 - c
            r = math.hypot(dx, dy) / c
            star = 0.32 + 0.18 * abs(math.cos(2.5 * math.atan2(dy, dx))) ** 3
            if r > 0.98:
                v = 255
            elif r > 0.82:
                v = 40
            elif r < star:
                v = 0
            else:
                v = int(120 + 120 * r)
            px[x, y] = v
    return img.convert("1")  # Floyd-Steinberg, once


def build(logo):
    p = Dummy()
    p.set(align="center")
    p.image(logo, impl="bitImageRaster")
    p._raw(b"\x1c\x26")
    p.set(align="center", bold=True, double_width=True, double_height=True)
    p._raw("政务服务受理回执\n".encode("gbk"))
    p.set(align="left", bold=False, normal_textsize=True)
    for i in range(20):
        p._raw(f"第{i:02d}行：居民身份证换领 受理编号 HK-K001-000042-7\n".encode("gbk"))
    p.qr("HK-K001-000042-7|9f2c1a", size=6, native=True)
    p.ln(1)
    p.cut(mode="PART")
    return p.output


def main():
    logo = emblem(160)
    times = []
    for _ in range(520):
        t = time.perf_counter()
        out = build(logo)
        times.append((time.perf_counter() - t) * 1e6)
    times = times[20:]
    print(f"python-escpos Dummy, same receipt ({len(out)} bytes), median of 500: {statistics.median(times):.1f} µs")
    print(f"peer_encode_median_us {statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
