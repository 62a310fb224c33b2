#!/usr/bin/env python3
"""A signed-in resident for the load benchmarks.

Usage: resident.py BASE_URL DATA_DIR [DATABASE_URL]

Uses the demo resident on the demo's first account, or makes sure that
account has a resident with the benchmark password (registering it through
the API and reading the one-time password from the e-mail file), signs in through the sign-in
page like a browser, and prints one line: the account number, the password
and the session cookie's value, separated by spaces.
"""

import email
import glob
import http.cookiejar
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from email import policy

PASSWORD = "bench password 2026"
# The resident `kabinet demo` creates on the first account (with two more
# accounts linked); demos made before it existed get the benchmark resident.
DEMO_PASSWORD = "demo-kabinet-2026"


def account_and_amount(data_dir, database_url):
    query = ("SELECT a.number, i.total_due FROM accounts a JOIN invoices i ON i.account_id = a.id "
             "WHERE a.id = 1 ORDER BY i.period DESC LIMIT 1")
    if database_url:
        out = subprocess.check_output(["psql", database_url, "-Atc", query]).decode().strip()
        number, kopecks = out.split("|")
        kopecks = int(kopecks)
    else:
        number, kopecks = sqlite3.connect(os.path.join(data_dir, "kabinet.db")).execute(query).fetchone()
    return number, ("-" if kopecks < 0 else "") + f"{abs(kopecks) // 100},{abs(kopecks) % 100:02}"


def post_json(base, path, body, token=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, None


def one_time_password(data_dir, seen):
    for _ in range(150):
        for path in sorted(set(glob.glob(os.path.join(data_dir, "mail", "*.eml"))) - seen):
            msg = email.message_from_bytes(open(path, "rb").read(), policy=policy.default)
            m = re.search(r"\b[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}\b",
                          msg.get_body(preferencelist=("plain",)).get_content())
            if m:
                return m.group(0)
        time.sleep(0.2)
    raise SystemExit("no one-time password arrived")


def main():
    base, data_dir = sys.argv[1], sys.argv[2]
    database_url = sys.argv[3] if len(sys.argv) > 3 else ""
    account, amount = account_and_amount(data_dir, database_url)
    password = PASSWORD
    if post_json(base, "/api/v1/auth/token", {"account": account, "password": DEMO_PASSWORD})[0] == 200:
        password = DEMO_PASSWORD
    elif post_json(base, "/api/v1/auth/token", {"account": account, "password": PASSWORD})[0] != 200:
        seen = set(glob.glob(os.path.join(data_dir, "mail", "*.eml")))
        status, _ = post_json(base, "/api/v1/auth/register", {
            "account": account, "email": "bench@example.ru", "check": amount,
            "accept_rules": True, "accept_personal_data": True, "consent": True})
        assert status == 202, status
        status, body = post_json(base, "/api/v1/auth/token",
                                 {"account": account, "password": one_time_password(data_dir, seen)})
        assert status == 200, status
        status, _ = post_json(base, "/api/v1/auth/password",
                              {"password": PASSWORD, "password_again": PASSWORD}, body["token"])
        assert status == 204, status
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = browser.open(base + "/login").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"csrf": csrf, "account": account, "password": password}).encode()
    page = browser.open(base + "/login", data=data)
    assert page.geturl().endswith("/cabinet"), page.geturl()
    session = next(c.value for c in jar if c.name == "kabinet_session")
    print(account, password.replace(" ", "_"), session)


if __name__ == "__main__":
    main()
