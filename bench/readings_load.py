#!/usr/bin/env python3
"""Residents for the readings load benchmark, and the count after it.

Usage:
  readings_load.py prepare BASE_URL DATA_DIR DATABASE_URL N ACCOUNTS OUT_DIR
  readings_load.py verify DATA_DIR DATABASE_URL OUT_DIR
  readings_load.py audit DATA_DIR DATABASE_URL

prepare: gives N accounts spread evenly over the demo a resident each with
the demo password and the Rules accepted — through `kabinet demo-accounts
--residents` (the binary in BENCH_KABINET), since registering hundreds of
residents through e-mail is not what is measured — signs each in
through the API, reads its meters and writes, per resident, one submission:
every zone of every meter that takes readings, the last value plus a little
(1 m³ of water, 10 kWh). OUT_DIR/items.tsv feeds wrk (account, token, JSON
body); OUT_DIR/expected.tsv holds (meter, zone, scaled value).

verify: counts what the database holds for those meters in the current
period: every expected reading present with the value sent (none lost), and
exactly one row per meter, zone and period (none doubled); prints the audit
lines of the submissions.
"""

import json
import os
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

DEMO_PASSWORD = "demo-kabinet-2026"


def sql(data_dir, database_url, query, fetch=True):
    if database_url:
        out = subprocess.check_output(["psql", database_url, "-v", "ON_ERROR_STOP=1", "-Atc", query]).decode()
        return [line.split("|") for line in out.splitlines() if line] if fetch else None
    con = sqlite3.connect(os.path.join(data_dir, "kabinet.db"), timeout=30)
    try:
        cur = con.execute(query)
        rows = [[str(v) for v in r] for r in cur.fetchall()]
        con.commit()
        return rows
    finally:
        con.close()


def call(base, method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def demo_residents(n):
    """N demo accounts spread over the demo, each with a resident who signs in
    with the demo password, made by `kabinet demo-accounts --residents` (the
    binary the server runs): a list of account numbers."""
    out = subprocess.check_output([os.environ["BENCH_KABINET"], "demo-accounts", "--count", str(n), "--residents"],
                                  stderr=subprocess.DEVNULL).decode()
    return [line.split("\t")[0] for line in out.splitlines() if line]


def prepare(base, data_dir, database_url, n, accounts, out):
    numbers = demo_residents(int(n))

    def one(number):
        status, body = call(base, "POST", "/api/v1/auth/token", {"account": number, "password": DEMO_PASSWORD})
        if status != 200:
            raise SystemExit(f"sign-in of {number}: {status} {body}")
        token = body["token"]
        status, meters = call(base, "GET", f"/api/v1/accounts/{number}/meters", token=token)
        if status != 200:
            raise SystemExit(f"meters of {number}: {status} {meters}")
        submission, expected = [], []
        for m in meters["meters"]:
            if m["closed"]:
                continue
            step = Decimal(10) if m["resource"] == "electricity" else Decimal(1)
            values = []
            for z in m["zones"]:
                last = Decimal(z["last"]["value"]) if z["last"] else Decimal(0)
                v = last + step
                values.append(f"{v:.{m['fraction_digits']}f}")
                expected.append((m["id"], z["zone"], int(v * 10 ** m["fraction_digits"])))
            submission.append({"meter_id": m["id"], "values": values})
        return number, token, {"meters": submission}, expected

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, numbers))
    os.makedirs(out, exist_ok=True)
    zones = 0
    with open(os.path.join(out, "items.tsv"), "w") as items, open(os.path.join(out, "expected.tsv"), "w") as exp:
        for number, token, body, expected in results:
            if not body["meters"]:
                continue
            items.write(f"{number}\t{token}\t{json.dumps(body, separators=(',', ':'))}\n")
            for meter, zone, value in expected:
                exp.write(f"{meter}\t{zone}\t{value}\n")
                zones += 1
    print(f"{len(results)} residents signed in; {zones} meter zones to hand in each round")


def audit_lines(data_dir, database_url):
    return int(sql(data_dir, database_url,
                   "SELECT COUNT(*) FROM audit_log WHERE event = 'readings_submitted' AND user_id IN "
                   "(SELECT id FROM users WHERE email LIKE 'bench%@example.ru')")[0][0])


def verify(data_dir, database_url, out):
    expected = {}
    with open(os.path.join(out, "expected.tsv")) as f:
        for line in f:
            meter, zone, value = line.split()
            expected[(meter, zone)] = value
    meters = ",".join(sorted({m for m, _ in expected}))
    rows = sql(data_dir, database_url, f"""
        SELECT meter_id, zone, value, period FROM meter_readings
        WHERE source = 'portal' AND period IS NOT NULL AND meter_id IN ({meters})
          AND period = (SELECT MAX(period) FROM meter_readings WHERE source = 'portal' AND meter_id IN ({meters}))""")
    seen = {}
    doubled = 0
    for meter, zone, value, _ in rows:
        if (meter, zone) in seen:
            doubled += 1
        seen[(meter, zone)] = value
    lost = [k for k in expected if k not in seen]
    wrong = [k for k, v in expected.items() if k in seen and seen[k] != v]
    users = audit_lines(data_dir, database_url)
    print(f"readings rows for the period: {len(rows)}; expected meter zones: {len(expected)}; "
          f"lost: {len(lost)}; doubled: {doubled}; other value: {len(wrong)}; audit lines so far: {users}")
    if lost or doubled or wrong:
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "prepare" and len(sys.argv) == 8:
        prepare(*sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "verify" and len(sys.argv) == 5:
        verify(*sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "audit" and len(sys.argv) == 4:
        print(audit_lines(*sys.argv[2:]))
    else:
        raise SystemExit(__doc__)
