#!/usr/bin/env python3
"""Reads the payment QR codes of a receipt the way a phone sees a printed page.

Usage: phone_scan.py RECEIPT.pdf WORK_DIR [DPI] [BLUR]

Renders the first page with pdftoppm at DPI (default 150), blurs it with a
Gaussian of BLUR pixels (default 1: what a phone photo of a printed page looks
like), then decodes it with zxing-cpp (the engine inside common phone
scanners) and with zbarimg. Prints one JSON object:

  {"zxing": [{"hex": payload bytes, "version": QR version,
              "module_mm": printed module size}],
   "zbar": [payload bytes as hex, ...]}

Exits with status 3 when zxing-cpp or Pillow is not installed
(pip install zxing-cpp pillow).
"""

import json
import math
import os
import subprocess
import sys

try:
    import zxingcpp
    from PIL import Image, ImageFilter
except ImportError as e:  # reported to the test, which decides to skip or fail
    print(f"missing: {e}", file=sys.stderr)
    sys.exit(3)


def main():
    pdf, work = sys.argv[1], sys.argv[2]
    dpi = int(sys.argv[3]) if len(sys.argv) > 3 else 150
    blur = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    base = os.path.join(work, f"page-{dpi}")
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", pdf, base],
        check=True,
    )
    image = Image.open(base + ".png").convert("L")
    if blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    blurred = base + "-blurred.png"
    image.save(blurred)

    found = []
    for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        version = int(code.extra.get("Version", "0"))
        p = code.position
        side_px = (
            math.dist((p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y))
            + math.dist((p.bottom_left.x, p.bottom_left.y), (p.bottom_right.x, p.bottom_right.y))
        ) / 2
        modules = 17 + 4 * version
        # The corners zxing reports are the centres of the outer modules.
        module_mm = side_px / (modules - 1) * 25.4 / dpi if version else 0.0
        found.append(
            {"hex": bytes(code.bytes).hex(), "version": version, "module_mm": round(module_mm, 3)}
        )

    zbar = subprocess.run(
        ["zbarimg", "--raw", "-q", "-Sbinary", "-Sqrcode.enable", blurred],
        capture_output=True,
    )
    # zbarimg exits 4 when it found nothing; that is a result, not a failure.
    # In binary mode it writes the symbols one after another with nothing in
    # between: every payment payload starts with its header, ST0001.
    symbols = [b"ST0001" + s for s in zbar.stdout.split(b"ST0001")[1:]]
    print(json.dumps({"zxing": found, "zbar": [s.hex() for s in symbols]}))


if __name__ == "__main__":
    main()
