#!/usr/bin/env python3
"""The report of bench/peak.sh.

Usage: peak_report.py RUN_DIR DURATION LEVEL...

Reads, per connection count, wrk's output for /healthz (RUN_DIR/healthz-C.txt)
and the mix's timed answers (RUN_DIR/out/C/*.tsv: route, status, ms), and
prints a line per level and a table per route at the highest level whose
mix p99 is at most 100 ms.
"""

import glob
import os
import re
import sys

TARGET_MS = 100.0


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def wrk_figures(path):
    text = open(path).read()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p50 = re.search(r"\s50%\s+([\d.]+)(us|ms|s)", text)
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", text)

    def ms(m):
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    return float(rate.group(1)) if rate else 0.0, ms(p50), ms(p99)


def answers(run, level):
    rows = []
    for path in glob.glob(os.path.join(run, "out", str(level), "*.tsv")):
        for line in open(path):
            route, status, ms = line.split("\t")
            rows.append((route, int(status), float(ms)))
    return rows


def main(run, duration, levels):
    duration = float(duration)
    print("connections | /healthz req/s, p50 / p99 ms | mix req/s, p50 / p99 ms | failed (5xx) | refused (4xx)")
    best = None
    for level in levels:
        h_rate, h50, h99 = wrk_figures(os.path.join(run, f"healthz-{level}.txt"))
        rows = answers(run, level)
        ms = [r[2] for r in rows]
        failed = sum(1 for r in rows if r[1] >= 500)
        refused = sum(1 for r in rows if 400 <= r[1] < 500)
        rate = len(rows) / duration
        p99 = percentile(ms, 99)
        print(f"{level:>11} | {h_rate:>9.0f}, {h50:.1f} / {h99:.1f} | {rate:>7.0f}, "
              f"{percentile(ms, 50):.1f} / {p99:.1f} | {failed} | {refused}")
        if p99 <= TARGET_MS and (best is None or rate > best[1]):
            best = (level, rate)
    if best is None:
        print(f"no level kept the mix's p99 at or under {TARGET_MS:.0f} ms")
        best = (levels[0], 0.0)
    else:
        print(f"highest rate with p99 <= {TARGET_MS:.0f} ms: {best[1]:.0f} requests/s at {best[0]} connections")
    level = best[0]
    rows = answers(run, level)
    print(f"per route at {level} connections:")
    print("route | share | requests/s | p50 / p99 ms | answers by status")
    routes = {}
    for route, status, ms in rows:
        routes.setdefault(route, []).append((status, ms))
    for route in sorted(routes, key=lambda r: -len(routes[r])):
        rs = routes[route]
        ms = [m for _, m in rs]
        statuses = {}
        for s, _ in rs:
            statuses[s] = statuses.get(s, 0) + 1
        by_status = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
        print(f"{route} | {100 * len(rs) / len(rows):.1f} % | {len(rs) / duration:.0f} | "
              f"{percentile(ms, 50):.1f} / {percentile(ms, 99):.1f} | {by_status}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]])
