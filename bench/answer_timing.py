#!/usr/bin/env python3
"""How long the password-reset and registration answers take, by kind of
account: with a user, without one, unknown. The answers must not tell the
kinds apart, by content or by time.

Starts `kabinet` (KABINET_BIN, default target/release/kabinet) on a fresh
demo, registers one resident, then sends ROUNDS (default 2000) requests of each
kind, interleaved, over one keep-alive connection, and prints the median and
90th percentile per kind, with `/healthz` over the same connection as the
reference. Run: python3 bench/answer_timing.py
"""

import email
import glob
import http.client
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from email import policy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("KABINET_BIN", os.path.join(ROOT, "target", "release", "kabinet"))
ROUNDS = int(os.environ.get("ROUNDS", "2000"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    data = None if body is None else json.dumps(body)
    started = time.perf_counter()
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    raw = r.read()
    return time.perf_counter() - started, r.status, raw


def main():
    data_dir = tempfile.mkdtemp(prefix="kabinet-timing-")
    port = free_port()
    # KABINET_BIN names the binary; the binary itself would take it for a setting.
    env = dict({k: v for k, v in os.environ.items() if k != "KABINET_BIN"}, KABINET_DATA_DIR=data_dir, KABINET_LISTEN=f"127.0.0.1:{port}",
               KABINET_AUTH_REQUESTS_PER_MINUTE="10000000", KABINET_LOG="warn")
    server = None
    try:
        subprocess.run([BIN, "demo", "--accounts", "3", "--months", "2", "--no-serve"], env=env,
                       check=True, capture_output=True)
        db = sqlite3.connect(os.path.join(data_dir, "kabinet.db"))
        rows = db.execute("SELECT a.id, a.number, i.total_due FROM accounts a JOIN invoices i "
                          "ON i.account_id = a.id ORDER BY a.id, i.period DESC").fetchall()
        latest = {}
        for account_id, number, total in rows:
            latest.setdefault(account_id, (number, total))
        amount = lambda k: f"{'-' if k < 0 else ''}{abs(k) // 100},{abs(k) % 100:02}"
        (with_user, total1), (without_user, _) = latest[1], latest[2]
        server = subprocess.Popen([BIN, "serve"], env=env, stderr=subprocess.DEVNULL)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(100):
            try:
                if timed(conn, "GET", "/healthz")[1] == 200:
                    break
            except OSError:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                time.sleep(0.1)
        _, status, _ = timed(conn, "POST", "/api/v1/auth/register", {
            "account": with_user, "email": "timing@example.ru", "check": amount(total1),
            "accept_rules": True, "accept_personal_data": True, "consent": True})
        assert status == 202, status
        for _ in range(150):
            if glob.glob(os.path.join(data_dir, "mail", "*.eml")):
                break
            time.sleep(0.2)
        eml = glob.glob(os.path.join(data_dir, "mail", "*.eml"))[0]
        msg = email.message_from_bytes(open(eml, "rb").read(), policy=policy.default)
        assert "Временный пароль" in msg.get_body(preferencelist=("plain",)).get_content()

        kinds = {
            "reset, account with a user": ("/api/v1/auth/password-reset", {"account": with_user}),
            "reset, account without a user": ("/api/v1/auth/password-reset", {"account": without_user}),
            "reset, unknown account": ("/api/v1/auth/password-reset", {"account": "99999999"}),
            "register, account with a user": ("/api/v1/auth/register", {
                "account": with_user, "email": "x@example.ru", "check": amount(total1),
                "accept_rules": True, "accept_personal_data": True, "consent": True}),
            "register, no user, wrong amount": ("/api/v1/auth/register", {
                "account": without_user, "email": "x@example.ru", "check": "1,00",
                "accept_rules": True, "accept_personal_data": True, "consent": True}),
            "register, unknown account": ("/api/v1/auth/register", {
                "account": "99999999", "email": "x@example.ru", "check": "1,00",
                "accept_rules": True, "accept_personal_data": True, "consent": True}),
        }
        times = {k: [] for k in kinds}
        health = []
        bodies = {}
        order = list(kinds.items())
        for _ in range(ROUNDS):
            random.shuffle(order)
            for kind, (path, body) in order:
                elapsed, status, raw = timed(conn, "POST", path, body)
                times[kind].append(elapsed)
                bodies.setdefault(path, set()).add((status, raw))
            health.append(timed(conn, "GET", "/healthz")[0])
        ms = lambda xs: (statistics.median(xs) * 1000, statistics.quantiles(xs, n=10)[-1] * 1000)
        print(f"{ROUNDS} rounds; median / p90 in ms")
        print(f"  {'GET /healthz (reference)':32} {ms(health)[0]:6.3f} / {ms(health)[1]:6.3f}")
        for kind, xs in times.items():
            m, p = ms(xs)
            print(f"  {kind:32} {m:6.3f} / {p:6.3f}")
        for path, answers in bodies.items():
            print(f"  distinct answers from {path}: {len(answers)}")
    finally:
        if server:
            server.terminate()
            server.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
