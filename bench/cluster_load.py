#!/usr/bin/env python3
"""Scripted residents for bench/cluster.sh, and the checks after the run.

Usage: cluster_load.py BASE_URL DATABASE_URL SECONDS RESIDENTS OUT_JSON

Through the load balancer at BASE_URL, RESIDENTS residents (made with
`kabinet demo-accounts --residents`, the binary in BENCH_KABINET) each sign
in through the API and, until SECONDS have passed, start card payments in
the sandbox, hand in readings (rising values) and file two requests with a
photo; every write acknowledged (2xx) is remembered. Meanwhile a browser
signs in through the sign-in page and opens /cabinet again and again
(whichever server answers, the session holds), and at the end 31 sign-in
attempts come from one address (the 31st must be refused whichever server
gets it). Connections come from 127.0.0.2 (residents) and 127.0.0.3 (the
limit check), so the proxy forwards distinct addresses.

Then the database (the primary) is asked: every acknowledged payment and
request is there exactly once, each meter zone has one reading for the
period holding the last acknowledged value (or a later one sent whose answer
was lost), no job key is queued twice. Errors are counted per second, so
the report shows the error rate around the kill. OUT_JSON gets the figures;
the exit status is non-zero when a check fails.
"""

import http.client
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

from requests_load import multipart

DEMO_PASSWORD = "demo-kabinet-2026"


class Client:
    """A tiny HTTP client from a chosen local address, keeping cookies."""

    def __init__(self, base, source):
        u = urllib.parse.urlparse(base)
        self.host, self.port, self.source = u.hostname, u.port, source
        self.cookies = {}

    def call(self, method, path, body=None, token=None, ctype="application/json", raw=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=60, source_address=(self.source, 0))
        headers = {"Connection": "close"}
        data = raw
        if body is not None:
            data = json.dumps(body).encode() if ctype == "application/json" else body
            headers["Content-Type"] = ctype
        elif raw is not None:
            headers["Content-Type"] = ctype
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            text = r.read()
            for k, v in r.getheaders():
                if k.lower() == "set-cookie":
                    kv = v.split(";", 1)[0]
                    name, _, value = kv.partition("=")
                    if "Max-Age=0" in v:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = value
            return r.status, text, dict((k.lower(), v) for k, v in r.getheaders())
        except OSError as e:
            return 0, str(e).encode(), {}
        finally:
            c.close()


def sql(database_url, query):
    out = subprocess.check_output(["psql", database_url, "-AtF", "\t", "-c", query]).decode()
    return [line.split("\t") for line in out.splitlines() if line]


def jpeg():
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 120, 150)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


class Tally:
    def __init__(self, start):
        self.start, self.lock = start, threading.Lock()
        self.ok, self.failed, self.refused = {}, {}, {}

    def add(self, status):
        # Failed: no answer or a 5xx (what a lost server causes); refused: a
        # 4xx the portal meant (a rule of the readings, a limit).
        sec = int(time.time() - self.start)
        with self.lock:
            if 200 <= status < 400:
                bucket = self.ok
            elif 400 <= status < 500:
                bucket = self.refused
            else:
                bucket = self.failed
            bucket[sec] = bucket.get(sec, 0) + 1


def main(base, database_url, seconds, residents, out_path):
    seconds, residents = float(seconds), int(residents)
    numbers = [line.split("\t")[0] for line in subprocess.check_output(
        [os.environ["BENCH_KABINET"], "demo-accounts", "--count", str(residents), "--residents"],
        stderr=subprocess.DEVNULL).decode().splitlines() if line]
    start = time.time()
    tally = Tally(start)
    acked = {"payments": [], "requests": [], "readings": {}, "sent_readings": {}}
    lock = threading.Lock()
    picture = jpeg()
    problems = []

    def resident(i, number):
        c = Client(base, "127.0.0.2")
        token = None
        while token is None and time.time() - start < seconds:
            s, body, _ = c.call("POST", "/api/v1/auth/token", {"account": number, "password": DEMO_PASSWORD})
            tally.add(s)
            if s == 200:
                token = json.loads(body)["token"]
        if token is None:
            return
        s, body, _ = c.call("GET", f"/api/v1/accounts/{number}/meters", token=token)
        meters = [m for m in json.loads(body)["meters"] if not m["closed"]] if s == 200 else []
        s, body, _ = c.call("GET", "/api/v1/requests/categories", token=token)
        categories = [x["code"] for x in json.loads(body) if not x["emergency"]] if s == 200 else []
        step = 0
        filed = 0
        while time.time() - start < seconds:
            step += 1
            s, body, _ = c.call("POST", "/api/v1/payments", {"shares": [{"account": number, "amount": "10.00"}]},
                                token=token)
            tally.add(s)
            if s == 201:
                with lock:
                    acked["payments"].append(json.loads(body)["payment"]["id"])
            if meters:
                submission, values = [], []
                for m in meters:
                    zone_values = []
                    for z in m["zones"]:
                        last = float(z["last"]["value"]) if z["last"] else 0.0
                        # A little over the last period's value, different
                        # each time (a submission replaces the period's).
                        v = last + 1 + (step % 7) * 0.1
                        zone_values.append(f"{v:.{m['fraction_digits']}f}")
                        values.append((m["id"], z["zone"], int(round(v * 10 ** m["fraction_digits"]))))
                    submission.append({"meter_id": m["id"], "values": zone_values})
                with lock:
                    positions = []
                    for meter, zone, v in values:
                        sent = acked["sent_readings"].setdefault((meter, zone), [])
                        sent.append(v)
                        positions.append(len(sent) - 1)
                s, body, _ = c.call("POST", f"/api/v1/accounts/{number}/readings", {"meters": submission},
                                    token=token)
                tally.add(s)
                if s == 201:
                    with lock:
                        for (meter, zone, _), at in zip(values, positions):
                            acked["readings"][(meter, zone)] = at
                elif s not in (0, 502, 503, 504):
                    problems.append(f"readings of {number}: {s} {body.decode(errors='replace')[:160]}")
            if categories and filed < 2 and step % 3 == 1:
                text = f"Проверка кластера: житель {i}, заявка {filed + 1}, {os.urandom(4).hex()}"
                ctype, data = multipart([("account", number), ("category", categories[0]), ("text", text), ("phone", "+79990001122")],
                                        [("photos", "p.jpg", picture)])
                s, body, _ = c.call("POST", "/api/v1/requests", raw=data, ctype=ctype, token=token)
                tally.add(s)
                if s == 201:
                    filed += 1
                    with lock:
                        acked["requests"].append(text)
            time.sleep(0.05)

    sessions = {"pages": 0, "signed_out": 0}

    def browser():
        # Sign in on the page, then open the overview whichever server answers.
        c = Client(base, "127.0.0.2")
        number = numbers[0]
        while time.time() - start < seconds:
            s, body, _ = c.call("GET", "/login")
            if s != 200:
                time.sleep(0.2)
                continue
            csrf = body.decode().split('name="csrf" value="', 1)[1].split('"', 1)[0]
            form = urllib.parse.urlencode({"csrf": csrf, "account": number, "password": DEMO_PASSWORD})
            s, _, _ = c.call("POST", "/login", raw=form.encode(), ctype="application/x-www-form-urlencoded")
            if s == 303:
                break
        while time.time() - start < seconds:
            s, _, headers = c.call("GET", "/cabinet")
            tally.add(s)
            if s == 200:
                sessions["pages"] += 1
            elif s in (302, 303) and "/login" in headers.get("location", ""):
                sessions["signed_out"] += 1
            time.sleep(0.1)

    threads = [threading.Thread(target=resident, args=(i, n)) for i, n in enumerate(numbers)]
    threads.append(threading.Thread(target=browser))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # The limit: 31 sign-in attempts from one address through the proxy.
    limiter = Client(base, "127.0.0.3")
    answers = [limiter.call("POST", "/api/v1/auth/token", {"account": "000000000", "password": "x" * 8})[0]
               for _ in range(31)]

    # What the database holds.
    ids = acked["payments"]
    found = {}
    for chunk in range(0, len(ids), 500):
        part = ",".join(f"'{x}'" for x in ids[chunk:chunk + 500])
        for (pid, n) in sql(database_url, f"SELECT public_id, COUNT(*) FROM card_payments WHERE public_id IN ({part}) GROUP BY public_id"):
            found[pid] = int(n)
    payments_lost = [x for x in ids if x not in found]
    payments_doubled = [x for x, n in found.items() if n != 1]
    requests_rows = {}
    for text in acked["requests"]:
        n = int(sql(database_url, "SELECT COUNT(*) FROM requests WHERE body = '" + text.replace("'", "''") + "'")[0][0])
        requests_rows[text] = n
    requests_lost = [t for t, n in requests_rows.items() if n == 0]
    requests_doubled = [t for t, n in requests_rows.items() if n > 1]
    readings_bad, readings_doubled = [], 0
    for (meter, zone), value in acked["readings"].items():
        rows = sql(database_url, f"SELECT value FROM meter_readings WHERE meter_id = {meter} AND zone = {zone} "
                                 f"AND source = 'portal' AND period = (SELECT MAX(period) FROM meter_readings "
                                 f"WHERE meter_id = {meter} AND source = 'portal')")
        if len(rows) != 1:
            readings_doubled += 1
            continue
        stored = int(rows[0][0])
        # The last acknowledged value, or one sent after it whose answer
        # was lost (the server was killed after committing).
        if stored not in acked["sent_readings"][(meter, zone)][value:]:
            readings_bad.append((meter, zone, stored))
    jobs_twice = sql(database_url, "SELECT unique_key, COUNT(*) FROM jobs WHERE status = 'queued' AND unique_key IS NOT NULL "
                                   "GROUP BY unique_key HAVING COUNT(*) > 1")
    seconds_run = max(list(tally.ok) + list(tally.failed) + [0]) + 1
    report = {
        "payments_acknowledged": len(ids), "payments_lost": len(payments_lost), "payments_doubled": len(payments_doubled),
        "requests_acknowledged": len(acked["requests"]), "requests_lost": len(requests_lost),
        "requests_doubled": len(requests_doubled),
        "reading_zones": len(acked["readings"]), "readings_not_last": len(readings_bad),
        "reading_rows_not_one": readings_doubled,
        "jobs_queued_twice": len(jobs_twice),
        "session_pages": sessions["pages"], "session_lost": sessions["signed_out"],
        "limit_answers": {str(s): answers.count(s) for s in sorted(set(answers))},
        "limit_31st": answers[30],
        "ok_per_second": [tally.ok.get(s, 0) for s in range(seconds_run)],
        "failed_per_second": [tally.failed.get(s, 0) for s in range(seconds_run)],
        "refused": sum(tally.refused.values()),
        "problems": problems[:10],
    }
    with open(out_path, "w") as f:
        json.dump(report, f, indent=1)
    failed = (payments_lost or payments_doubled or requests_lost or requests_doubled or readings_bad
              or readings_doubled or jobs_twice or sessions["signed_out"] or sessions["pages"] == 0
              or answers[30] != 429 or any(a == 429 for a in answers[:30]) or not ids)
    print(json.dumps({k: v for k, v in report.items() if not k.endswith("per_second")}))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(*sys.argv[1:])
