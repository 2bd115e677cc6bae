#!/usr/bin/env python3
"""A scan through one local SOCKS5 proxy against the same scan direct
(issue 20), side by side in one run.

    python3 tools/bench/proxy_compare.py [--build-dir build-bench]
        [--hosts 20000] [-c 500] [--runs 3]

hscan-testd serves plain HTTP (`fast`: 200 at once) on 127.0.0.1;
microsocks (Debian's, tools/install-deps.sh) is the proxy, one thread
per connection.  Targets are http://127.0.0.1:PORT/?i=N with
--max-per-ip 0; runs alternate direct / socks5:// / socks5h:// so drift
hits all.  hscan-cli on core 1, the servers and the proxy on core 0.
Reported per mode (medians): records (must equal hosts, each 200),
hosts/s, CPU ms per host of hscan-cli (user+sys from wait4), peak RSS.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default="build-bench")
    ap.add_argument("--hosts", type=int, default=20000)
    ap.add_argument("-c", "--concurrency", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    bdir = ROOT / a.build_dir
    cli = str(bdir / "tools" / "hscan-cli")
    testd = subprocess.Popen(["taskset", "-c", "0",
                              str(bdir / "test" / "hscan-testd"),
                              "--lifetime", "1800"],
                             stdout=subprocess.PIPE, text=True)
    info = dict(testd.stdout.readline().strip().split(" ", 1)
                for _ in range(4))
    port = int(info["http"].rsplit(":", 1)[1])
    sport = free_port()
    socks = subprocess.Popen(["taskset", "-c", "0", "microsocks", "-i",
                              "127.0.0.1", "-p", str(sport)],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        work = Path(tempfile.mkdtemp(prefix="hscan-pxcmp-"))
        targets = work / "targets.txt"
        targets.write_text("".join(f"http://127.0.0.1:{port}/?i={i}\n"
                                   for i in range(a.hosts)))
        modes = {"direct": [],
                 "socks5": ["--proxy", f"socks5://127.0.0.1:{sport}"],
                 "socks5h": ["--proxy", f"socks5h://127.0.0.1:{sport}"]}
        res = {m: [] for m in modes}
        for _ in range(a.runs):
            for m, extra in modes.items():
                out = work / "out.jsonl"
                argv = ["taskset", "-c", "1", cli, "-q", "-c",
                        str(a.concurrency), "--max-per-ip", "0",
                        "-o", str(out), *extra, str(targets)]
                t0 = time.monotonic()
                pid = os.spawnvp(os.P_NOWAIT, argv[0], argv)
                _, st, ru = os.wait4(pid, 0)
                wall = time.monotonic() - t0
                recs = ok = 0
                with open(out) as f:
                    for line in f:
                        recs += 1
                        ok += json.loads(line)["status"] == 200
                res[m].append((wall, ru.ru_utime + ru.ru_stime,
                               ru.ru_maxrss / 1024.0, recs, ok))
        print(f"{a.hosts} HTTP hosts, -c {a.concurrency}, {a.runs} runs "
              f"each, medians")
        print("| mode | records | status 200 | hosts/s | CPU ms/host | "
              "peak RSS MB |")
        print("|---|---:|---:|---:|---:|---:|")
        for m in modes:
            r = res[m]
            print(f"| {m} | {min(x[3] for x in r)} | {min(x[4] for x in r)} "
                  f"| {a.hosts / statistics.median(x[0] for x in r):.0f} | "
                  f"{statistics.median(x[1] for x in r) * 1000 / a.hosts:.3f}"
                  f" | {statistics.median(x[2] for x in r):.1f} |")
    finally:
        socks.terminate()
        testd.terminate()
        socks.wait(timeout=10)
        testd.wait(timeout=10)


if __name__ == "__main__":
    main()
