#!/usr/bin/env python3
"""Worst-case photos at once: what the server's memory does.

Usage: photos_load.py BASE_URL DATA_DIR DATABASE_URL COUNT ACCOUNTS SERVER_PID

COUNT residents (bench users on the demo's accounts, see requests_load.py)
each file one request at the same moment through POST /api/v1/requests with
one photo that passes the header check and costs the most to decode: a PNG
of 6000×4000 pixels (24 megapixels, the budget) with 8-bit RGBA, which
decodes to 96 MB of pixels from a file of a few hundred KiB. The server's
resident memory is sampled every 10 ms from /proc while they run; its idle
RSS before the burst is the reference. Afterwards: the answers by status
(201 stored; 503 with Retry-After when the decoding queue is full), that
every 201 has its row and photo in the database, and the peak RSS (VmHWM).
Exits non-zero on an answer other than 201 or 503, or a lost request.
"""

import io
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

from readings_load import sql
from requests_load import bench_residents, multipart


def worst_photo():
    """6000×4000 RGBA, 8 bits a channel: the largest photo the header check
    lets through, drawn with gradients so that the encoder cannot fold it
    into nothing."""
    from PIL import Image
    w, h = 6000, 4000
    row = bytes((x * 255 // w) for x in range(w))
    r = Image.frombytes("L", (w, 1), row).resize((w, h))
    g = r.transpose(Image.FLIP_LEFT_RIGHT)
    b = Image.linear_gradient("L").resize((w, h))
    a = Image.new("L", (w, h), 255)
    buf = io.BytesIO()
    Image.merge("RGBA", (r, g, b, a)).save(buf, "PNG", optimize=False, compress_level=9)
    return buf.getvalue()


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def main(base, data_dir, database_url, count, accounts, pid):
    count, accounts, pid = int(count), int(accounts), int(pid)
    tokens, before = bench_residents(base, data_dir, database_url, count, accounts)
    png = worst_photo()
    time.sleep(1)
    idle = rss_kib(pid)
    peak_sampled = [idle]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak_sampled[0] = max(peak_sampled[0], rss_kib(pid))
            time.sleep(0.01)

    answers = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def resident(i, token):
        ctype, body = multipart(
            [("category", "leak"), ("text", f"Протечка, фото {i}"), ("phone", "+79120000000")],
            [("photos", f"worst-{i}.png", png)])
        req = urllib.request.Request(base + "/api/v1/requests", data=body, method="POST",
                                     headers={"Content-Type": ctype, "Authorization": f"Bearer {token}"})
        start.wait()
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                status, retry = r.status, None
        except urllib.error.HTTPError as e:
            status, retry = e.code, e.headers.get("Retry-After")
        with lock:
            answers.append((status, time.monotonic() - t0, retry))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=resident, args=(i, t)) for i, (_, t) in enumerate(tokens)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    time.sleep(0.5)
    stop.set()
    sampler.join()
    hwm = rss_kib(pid, "VmHWM")
    created = sum(1 for s, _, _ in answers if s == 201)
    busy = [a for a in answers if a[0] == 503]
    other = [a for a in answers if a[0] not in (201, 503)]
    rows = int(sql(data_dir, database_url, "SELECT COUNT(*) FROM requests")[0][0]) - before
    print(f"== {count} requests with one {len(png) // 1024} KiB PNG of 6000×4000 RGBA each, at once, in {elapsed:.1f} s")
    print(f"   201 stored: {created}; 503 busy: {len(busy)} (Retry-After {sorted({b[2] for b in busy})}); other: {len(other)}")
    if answers:
        slow = max(d for _, d, _ in answers)
        print(f"   slowest answer {slow:.1f} s")
    print(f"   rows added: {rows}")
    print(f"== server RSS: idle {idle / 1024:.0f} MiB (reference), peak sampled {peak_sampled[0] / 1024:.0f} MiB, "
          f"VmHWM {hwm / 1024:.0f} MiB")
    if other or rows != created or any(b[2] is None for b in busy):
        print(f"FAILED: {other} / rows {rows} vs 201s {created}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(*sys.argv[1:7])
