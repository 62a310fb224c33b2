#!/usr/bin/env python3
"""Residents for bench/peak.sh.

Usage: peak_prepare.py BASE_URL N OUT_DIR

N demo accounts spread over the demo get a resident each with the demo
password and an API token, and a readings submission of every zone of every
meter (bench/readings_load.py's prepare); each then signs in through the
sign-in page like a browser for a page session. Writes OUT_DIR/residents.tsv
(account, token, session cookie, readings body) and OUT_DIR/photo.jpg (the
requests benchmark's 1600×1200 JPEG with EXIF GPS).
"""

import http.cookiejar
import os
import re
import sys
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from readings_load import DEMO_PASSWORD, prepare
from requests_load import photo


def page_session(base, number):
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = browser.open(base + "/login", timeout=120).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"csrf": csrf, "account": number, "password": DEMO_PASSWORD}).encode()
    page = browser.open(base + "/login", data=data, timeout=120)
    if not page.geturl().endswith("/cabinet"):
        raise SystemExit(f"page sign-in of {number} ended at {page.geturl()}")
    return next(c.value for c in jar if c.name == "kabinet_session")


def main(base, n, out):
    prepare(base, "", "", n, 0, out)
    items = [line.rstrip("\n").split("\t") for line in open(os.path.join(out, "items.tsv"))]
    with ThreadPoolExecutor(8) as pool:
        cookies = list(pool.map(lambda it: page_session(base, it[0]), items))
    with open(os.path.join(out, "residents.tsv"), "w") as f:
        for (number, token, body), cookie in zip(items, cookies):
            f.write(f"{number}\t{token}\t{cookie}\t{body}\n")
    with open(os.path.join(out, "photo.jpg"), "wb") as f:
        f.write(photo())
    print(f"{len(items)} residents with a token and a page session")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
