#!/usr/bin/env python3
"""Requests under load: residents file requests with a photo while
dispatchers work the queue, then everything is counted in the database.

Usage: requests_load.py BASE_URL DATA_DIR DATABASE_URL RESIDENTS DISPATCHERS DURATION ACCOUNTS KABINET

- RESIDENTS residents spread over the demo's accounts get a user each with
  the demo password (`KABINET demo-accounts --residents`, as
  bench/readings_load.py does) and an API token. Each files requests through POST /api/v1/requests —
  multipart, a 1600×1200 JPEG photo with EXIF GPS — waiting a random
  0–2×THINK_S seconds (default 10) between them, at most 9 each (the daily
  limit is 10), with texts of their own (the duplicate limit is not what
  is measured).
- DISPATCHERS staff members are added with `kabinet staff add`, sign in
  through the pages (password, TOTP enrolment, own password) and loop: open
  the queue (timed), open the first untaken request, take it, reply,
  complete it.
- Afterwards: the 201 answers against the rows in the database (none lost,
  none doubled), every filed request with its photo, and the latencies.
Exits non-zero on any error answer or any loss.
"""

import base64
import hashlib
import hmac
import http.cookiejar
import io
import json
import os
import random
import re
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from readings_load import DEMO_PASSWORD, sql

STAFF_PASSWORD = "нагрузочный тест диспетчера"


def photo():
    """A 1600×1200 JPEG (a smooth scene with some grain, about what a phone's
    reduced photo weighs) with an EXIF block carrying a GPS position."""
    from PIL import Image, ImageFilter
    rnd = random.Random(7)
    w, h = 1600, 1200
    img = Image.new("RGB", (w, h))
    img.putdata([((x // 7 + y // 11) % 256, (y // 5) % 256, 90 + rnd.randrange(40))
                 for y in range(h) for x in range(w)])
    img = img.filter(ImageFilter.GaussianBlur(1))
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (55.0, 45.0, 0.0)}
    img.save(buf, "JPEG", quality=85, exif=exif)
    return buf.getvalue()


def multipart(fields, files):
    boundary = "----bench" + os.urandom(8).hex()
    out = io.BytesIO()
    for k, v in fields:
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode())
    for k, name, data in files:
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\n"
                  f"Content-Type: image/jpeg\r\n\r\n".encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", out.getvalue()


def totp(secret, unix=None):
    key = base64.b32decode(secret + "=" * ((8 - len(secret) % 8) % 8))
    step = int(unix if unix is not None else time.time()) // 30
    h = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = h[-1] & 15
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Page:
    """A browser session against the staff pages."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def go(self, method, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, r.headers.get("Location"), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Location"), e.read().decode()

    def submit(self, page, action, fields):
        status, _, body = self.go("GET", page)
        m = re.search(r'name="csrf" value="([^"]+)"', body)
        if not m:
            raise SystemExit(f"no form on {page}: {status}")
        return self.go("POST", action, [("csrf", m.group(1))] + list(fields))


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def bench_residents(base, data_dir, database_url, residents, kabinet):
    """RESIDENTS users on demo accounts spread over the demo, each signing in
    with the demo password (made by `kabinet demo-accounts --residents`; the
    demo's own residents are passed over), with
    no requests filed today; returns (number, API token) pairs and the number
    of requests in the database before the run."""
    out = subprocess.check_output(
        [kabinet, "demo-accounts", "--count", str(residents), "--residents"],
        stderr=subprocess.DEVNULL).decode()
    numbers = [line.split("\t")[0] for line in out.splitlines() if line]
    quoted = ",".join(f"'{n}'" for n in numbers)
    # A run on the same day as an earlier one starts from a clean slate for
    # these residents (the daily limit counts today's requests).
    sql(data_dir, database_url, f"""
        DELETE FROM requests WHERE account_number IN ({quoted})
        AND user_id IN (SELECT id FROM users WHERE email LIKE 'bench%@example.ru')""", fetch=False)
    before = int(sql(data_dir, database_url, "SELECT COUNT(*) FROM requests")[0][0])

    def token(number):
        req = urllib.request.Request(base + "/api/v1/auth/token", method="POST",
                                     data=json.dumps({"account": number, "password": DEMO_PASSWORD}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read())["token"]

    tokens = [(n, token(n)) for n in numbers]
    return tokens, before


def main(base, data_dir, database_url, residents, dispatchers, duration, accounts, kabinet):
    think = float(os.environ.get("THINK_S", "10"))
    residents, dispatchers, duration, accounts = int(residents), int(dispatchers), float(duration), int(accounts)
    tokens, before = bench_residents(base, data_dir, database_url, residents, kabinet)
    jpeg = photo()

    # Dispatchers: added, signed in with TOTP enrolment and an own password.
    pages = []
    run_id = os.urandom(3).hex()
    for d in range(dispatchers):
        login = f"bench{run_id}{d}"
        out = subprocess.check_output([kabinet, "staff", "add", "--login", login, "--name", f"Диспетчер {d + 1}",
                                       "--role", "dispatcher"], stderr=subprocess.DEVNULL).decode()
        password = re.search(r"One-time password: (\S+)", out).group(1)
        p = Page(base)
        status, loc, _ = p.submit("/staff/login", "/staff/login", [("login", login), ("password", password)])
        assert loc == "/staff/second-factor", (status, loc)
        _, _, body = p.go("GET", "/staff/second-factor")
        secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', body).group(1)
        status, _, _ = p.submit("/staff/second-factor", "/staff/second-factor", [("code", totp(secret))])
        assert status == 200, status
        status, loc, _ = p.submit("/staff/password", "/staff/password",
                                  [("password", STAFF_PASSWORD), ("password_again", STAFF_PASSWORD)])
        assert loc == "/staff", (status, loc)
        pages.append(p)

    lock = threading.Lock()
    filed, file_times, errors = [], [], []
    queue_times, actions = [], {"take": 0, "reply": 0, "complete": 0, "conflict": 0}
    start = time.monotonic()
    deadline = start + duration

    def resident(i, number, tok):
        rnd = random.Random(i)
        for n in range(9):
            time.sleep(rnd.uniform(0, 2 * think) if n else rnd.uniform(0, think))
            if time.monotonic() >= deadline:
                return
            emergency = rnd.random() < 0.6
            ctype, body = multipart(
                [("category", rnd.choice(["leak", "no_water", "no_heating", "lift"]) if emergency
                  else rnd.choice(["charges", "receipts", "documents"])),
                 ("text", f"Нагрузочная заявка {i}-{n}: {rnd.random():.6f}"),
                 ("phone", "+79120000000")],
                [("photos", "photo.jpg", jpeg)])
            req = urllib.request.Request(base + "/api/v1/requests", data=body, method="POST",
                                         headers={"Content-Type": ctype, "Authorization": f"Bearer {tok}"})
            t0 = time.monotonic()
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    answer = json.loads(r.read())
                    with lock:
                        filed.append(answer["number"])
                        file_times.append(time.monotonic() - t0)
            except urllib.error.HTTPError as e:
                with lock:
                    errors.append(f"file {number}: {e.code} {e.read()[:200]!r}")
            except Exception as e:  # noqa: BLE001 — counted as an error
                with lock:
                    errors.append(f"file {number}: {e}")

    def dispatcher(p):
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            status, _, body = p.go("GET", "/staff?status=new")
            with lock:
                queue_times.append(time.monotonic() - t0)
            if status != 200:
                with lock:
                    errors.append(f"queue: {status}")
                continue
            found = re.findall(r'href="/staff/requests/(\d+)"', body)
            if not found:
                time.sleep(0.2)
                continue
            number = random.choice(found[:5])
            for action, fields in [("status", [("change", "take")]),
                                   ("reply", [("body", "Мастер выехал, будет в течение часа.")]),
                                   ("status", [("change", "complete")])]:
                status, loc, _ = p.submit(f"/staff/requests/{number}", f"/staff/requests/{number}/{action}", fields)
                name = "reply" if action == "reply" else fields[0][1]
                with lock:
                    if status == 303:
                        actions[name] += 1
                    elif status == 409:
                        actions["conflict"] += 1
                        break
                    else:
                        errors.append(f"{name} {number}: {status}")
                        break

    threads = [threading.Thread(target=resident, args=(i, n, t)) for i, (n, t) in enumerate(tokens)]
    threads += [threading.Thread(target=dispatcher, args=(p,)) for p in pages]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    after = int(sql(data_dir, database_url, "SELECT COUNT(*) FROM requests")[0][0])
    numbers_sql = ",".join(map(str, filed)) or "0"
    stored = int(sql(data_dir, database_url, f"SELECT COUNT(*) FROM requests WHERE id IN ({numbers_sql})")[0][0])
    photos = int(sql(data_dir, database_url,
                     f"SELECT COUNT(*) FROM request_photos WHERE request_id IN ({numbers_sql})")[0][0])
    print(f"== {len(tokens)} residents, {len(pages)} dispatchers, {elapsed:.0f} s")
    print(f"filed: {len(filed)} answered 201 ({len(filed) / elapsed:.1f}/s); rows added: {after - before}; "
          f"of the answered in the database: {stored}; photos stored for them: {photos}")
    print(f"filing with a photo: p50 {percentile(file_times, 50) * 1000:.0f} ms, "
          f"p99 {percentile(file_times, 99) * 1000:.0f} ms")
    print(f"queue page (GET /staff?status=new): {len(queue_times)} loads, p50 {percentile(queue_times, 50) * 1000:.0f} ms, "
          f"p99 {percentile(queue_times, 99) * 1000:.0f} ms, max {max(queue_times or [0]) * 1000:.0f} ms")
    print(f"dispatcher actions: {actions}")
    print(f"errors: {len(errors)}")
    for e in errors[:10]:
        print("  ", e)
    lost = len(filed) - stored
    if errors or lost or after - before != len(filed) or photos != len(filed):
        print(f"FAILED: {lost} lost, {after - before - len(filed)} unexplained rows, {len(errors)} errors")
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) != 9:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
