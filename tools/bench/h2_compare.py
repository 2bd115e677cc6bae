#!/usr/bin/env python3
"""HTTP/2 against HTTP/1.1 in one run (issue 19): the same HTTPS scan with
h2 negotiated (the default offer) and with --http1.1, side by side.

    python3 tools/bench/h2_compare.py [--build-dir build-bench] [--hosts 5000]
        [-c 500] [--runs 3] [--callgrind]

hscan-testd --h2 serves one TLS listener that picks h2 when offered and
http/1.1 otherwise (test/server-h2.h, `normal`: 200, five fields, a
104-byte HTML body), so both scans meet the same server, certificate
and TLS code; only the HTTP layer differs.  Targets are
https://127.0.0.1:PORT/h2/normal?i=N, --max-per-ip 0, the default
options otherwise (body facts on).  Server on core 0, scanner on core 1;
the runs alternate (h2, http/1.1, h2, ...) so drift hits both.  Reported
per mode: the median of hosts/s, CPU ms per host (user+sys of
hscan-cli, from wait4) and peak RSS, and the ratios h2 / http/1.1.
--callgrind adds instructions per host of each (callgrind over hosts and
over hosts/2, the difference per host: startup cancels out).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_testd(bdir):
    p = subprocess.Popen(["taskset", "-c", "0",
                          str(bdir / "test" / "hscan-testd"), "--h2",
                          "--lifetime", "900"],
                         stdout=subprocess.PIPE, text=True)
    info = {}
    while len(info) < 8:
        line = p.stdout.readline()
        if not line:
            sys.exit("hscan-testd --h2 did not start (a build with nghttp2?)")
        k, _, v = line.strip().partition(" ")
        info[k] = v
    return p, int(info["h2"].rsplit(":", 1)[1]), info["ca"]


def run_once(cli, targets, conc, ca, extra):
    argv = ["taskset", "-c", "1", cli, "-q", "-c", str(conc),
            "--max-per-ip", "0", "--ca-file", ca, "-o", os.devnull,
            *extra, targets]
    t0 = time.monotonic()
    pid = os.spawnvp(os.P_NOWAIT, argv[0], argv)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"{argv}: exit {status}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def check_records(cli, port, ca):
    out = subprocess.run([cli, "-q", "--ca-file", ca],
                         input=f"https://127.0.0.1:{port}/h2/normal\n",
                         capture_output=True, text=True, timeout=30).stdout
    out11 = subprocess.run([cli, "-q", "--ca-file", ca, "--http1.1"],
                           input=f"https://127.0.0.1:{port}/h2/normal\n",
                           capture_output=True, text=True,
                           timeout=30).stdout
    if '"http_version":"HTTP/2"' not in out or \
       '"http_version":"HTTP/1.1"' not in out11:
        sys.exit("the modes do not give HTTP/2 and HTTP/1.1: " + out + out11)


def callgrind(cli, targets_n, targets_half, n, conc, ca, extra, work):
    def ir(path):
        out = work / "cg.out"
        subprocess.run(["valgrind", "--tool=callgrind",
                        f"--callgrind-out-file={out}", cli, "-q", "-c",
                        str(conc), "--max-per-ip", "0", "--ca-file", ca,
                        "-o", os.devnull, *extra, path],
                       check=True, capture_output=True, timeout=1800)
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
        sys.exit("no callgrind total")
    return (ir(targets_n) - ir(targets_half)) / (n - n // 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default="build-bench")
    ap.add_argument("--hosts", type=int, default=5000)
    ap.add_argument("-c", "--concurrency", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--callgrind", action="store_true")
    a = ap.parse_args()
    bdir = ROOT / a.build_dir
    cli = str(bdir / "tools" / "hscan-cli")
    testd, port, ca = start_testd(bdir)
    try:
        check_records(cli, port, ca)
        work = Path(tempfile.mkdtemp(prefix="hscan-h2cmp-"))
        targets = work / "targets.txt"
        half = work / "half.txt"
        lines = [f"https://127.0.0.1:{port}/h2/normal?i={i}"
                 for i in range(a.hosts)]
        targets.write_text("\n".join(lines) + "\n")
        half.write_text("\n".join(lines[:a.hosts // 2]) + "\n")
        modes = {"h2": [], "http/1.1": ["--http1.1"]}
        res = {m: [] for m in modes}
        for _ in range(a.runs):
            for m, extra in modes.items():
                res[m].append(run_once(cli, str(targets), a.concurrency, ca,
                                       extra))
        print(f"{a.hosts} HTTPS hosts, -c {a.concurrency}, "
              f"{a.runs} runs each, medians")
        print("| mode | hosts/s | CPU ms/host | peak RSS MB |")
        print("|---|---:|---:|---:|")
        med = {}
        for m in modes:
            wall = statistics.median(r[0] for r in res[m])
            cpu = statistics.median(r[1] for r in res[m])
            rss = statistics.median(r[2] for r in res[m])
            med[m] = (a.hosts / wall, cpu * 1000 / a.hosts, rss)
            print(f"| {m} | {med[m][0]:.0f} | {med[m][1]:.3f} | "
                  f"{med[m][2]:.1f} |")
        print(f"h2 / http/1.1: CPU per host {med['h2'][1] / med['http/1.1'][1]:.3f}x, "
              f"peak RSS {med['h2'][2] / med['http/1.1'][2]:.3f}x, "
              f"hosts/s {med['h2'][0] / med['http/1.1'][0]:.3f}x")
        if a.callgrind:
            n = min(a.hosts, 1000)
            cg_n, cg_h = work / "cg-n.txt", work / "cg-h.txt"
            cg_n.write_text("\n".join(lines[:n]) + "\n")
            cg_h.write_text("\n".join(lines[:n // 2]) + "\n")
            for m, extra in modes.items():
                per = callgrind(cli, str(cg_n), str(cg_h), n, 100, ca, extra,
                                work)
                print(f"callgrind {m}: {per:,.0f} instructions per host "
                      f"({n} vs {n // 2} hosts, -c 100)")
    finally:
        testd.terminate()
        testd.wait(timeout=10)


if __name__ == "__main__":
    main()
