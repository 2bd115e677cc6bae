#!/usr/bin/env python3
"""Soak test: hscan-cli over the hostile server zoo for a long time.

Usage: tools/soak.py [--minutes 60] [-c 5000] [--build build] [--sample 60]

Starts hscan-testd (every 127/8 address, its DNS server), then feeds
hscan-cli an endless stream of zoo targets through a pipe: fast, slow,
hanging, trickling, oversized, garbage, resetting and redirecting HTTP
servers, HTTPS, and DNS names that fail in every way.  Every --sample
seconds it prints the CLI's RSS, records so far and their rate.  After
--minutes it closes the input and checks that every input line got
exactly one record and that every output line is valid JSON; it prints
RSS min/max over the run, whose ratio is the flatness figure quoted in
docs/robustness.md.  Exit status 0 when all of that holds.

Traffic stays on loopback.  Run it on an idle machine, as root if the
open-file limit needs raising (5,000 in flight holds 5,000 descriptors in
each process).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time

# (weight, name template); {n} is a serial, {ip} spreads over 127/8 so
# that no one address runs out of ports.  The label before .test picks
# the behaviour of the DNS server, the first one after ip- that of the
# HTTP/HTTPS servers (see test/server-http.c, test/server-dns.c).
ZOO = [
    (30, "http://ip-{ip}.fast.test:{http}/{n}"),
    (10, "http://ip-{ip}.delay-300.test:{http}/{n}"),
    (6, "http://ip-{ip}.hang.test:{http}/{n}"),
    (4, "http://ip-{ip}.trickle-200.test:{http}/{n}"),
    (4, "http://ip-{ip}.huge.test:{http}/{n}"),
    (4, "http://ip-{ip}.many-5000.test:{http}/{n}"),
    (3, "http://ip-{ip}.garbage.test:{http}/{n}"),
    (3, "http://ip-{ip}.reset.test:{http}/{n}"),
    (3, "http://ip-{ip}.close.test:{http}/{n}"),
    (3, "http://ip-{ip}.ctl.test:{http}/{n}"),
    (3, "http://ip-{ip}.chunked.test:{http}/{n}"),
    (3, "http://ip-{ip}.fast.test:{http}/loop?{n}"),
    (8, "https://ip-{ip}.fast.test:{https}/{n}"),
    (2, "https://ip-{ip}.hang.test:{https}/{n}"),
    (2, "ip-{ip}.fast.test:{http}"),          # https-first, falls back
    (3, "n{n}.nx.test"),
    (2, "n{n}.servfail.test"),
    (2, "n{n}.refused.test"),
    (1, "n{n}.drop.test"),
    (2, "n{n}.nodata.test"),
    (1, "not a target {n}"),
]


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("-c", "--concurrency", type=int, default=5000)
    ap.add_argument("--build", default="build")
    ap.add_argument("--sample", type=float, default=60)
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    testd = subprocess.Popen([os.path.join(a.build, "test", "hscan-testd"),
                              "--any-loopback",
                              "--lifetime", str(int(a.minutes * 60 + 600))],
                             stdout=subprocess.PIPE, text=True)
    info = {}
    for _ in range(4):
        k, v = testd.stdout.readline().split(maxsplit=1)
        info[k] = v.strip()
    dns = info["dns"]
    http = info["http"].rsplit(":", 1)[1]
    https = info["https"].rsplit(":", 1)[1]

    cli = subprocess.Popen(
        [os.path.join(a.build, "tools", "hscan-cli"), "-c",
         str(a.concurrency), "--resolver", dns, "--ca-file", info["ca"],
         "--timeout", "5", "--read-timeout", "3", "--dns-timeout", "2",
         "--follow", "3", "--max-per-ip", "0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)

    table = [t for w, t in ZOO for _ in range(w)]
    sent = {}                      # input line -> times sent
    lock = threading.Lock()
    stop = threading.Event()
    counts = {"lines": 0}

    def feed():
        n = 0
        try:
            while not stop.is_set():
                batch = []
                for _ in range(1000):
                    t = table[n % len(table)]
                    ip = f"127-{(n >> 16) & 255}-{(n >> 8) & 255}-{n & 255 or 1}"
                    line = t.format(n=n, ip=ip, http=http, https=https)
                    batch.append(line)
                    n += 1
                with lock:
                    for line in batch:
                        sent[line] = sent.get(line, 0) + 1
                    counts["lines"] += len(batch)
                cli.stdin.write(("\n".join(batch) + "\n").encode())
            cli.stdin.close()
        except BrokenPipeError:
            pass

    got = {}
    errors = {}
    bad_json = [0]

    def drain():
        for raw in cli.stdout:
            try:
                r = json.loads(raw)
            except ValueError:
                bad_json[0] += 1
                continue
            with lock:
                got[r["input"]] = got.get(r["input"], 0) + 1
                e = r["error"] or "ok"
                errors[e] = errors.get(e, 0) + 1

    threads = [threading.Thread(target=feed), threading.Thread(target=drain)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    samples = []
    print(f"soak: -c {a.concurrency}, {a.minutes:g} min, sampling every "
          f"{a.sample:g} s", flush=True)
    print("   min  RSS MiB   records   rec/s  testd MiB", flush=True)
    last_n, last_t = 0, t0
    while time.monotonic() - t0 < a.minutes * 60:
        time.sleep(min(a.sample, a.minutes * 60 - (time.monotonic() - t0)))
        now = time.monotonic()
        with lock:
            n = sum(errors.values())
        r = rss_kib(cli.pid)
        samples.append(r)
        print(f"{(now - t0) / 60:6.1f} {r / 1024:8.1f} {n:9d} "
              f"{(n - last_n) / (now - last_t):7.0f} "
              f"{rss_kib(testd.pid) / 1024:10.1f}", flush=True)
        last_n, last_t = n, now
    stop.set()
    threads[0].join()
    cli.wait(timeout=120)
    threads[1].join()
    err = cli.stderr.read().decode()
    testd.terminate()
    testd.wait(timeout=10)

    # every valid target line once; "not a target" lines are records too
    missing = sum(1 for k, v in sent.items() if got.get(k, 0) != v)
    total = sum(errors.values())
    steady = samples[len(samples) // 4:] or samples
    print(f"inputs {counts['lines']}, records {total}, inputs without "
          f"exactly their records {missing}, invalid JSON lines "
          f"{bad_json[0]}, exit {cli.returncode}")
    print("records by error: " + ", ".join(
        f"{k}={v}" for k, v in sorted(errors.items(), key=lambda x: -x[1])))
    if samples:
        print(f"RSS after the first quarter: min {min(steady) / 1024:.1f} "
              f"MiB, max {max(steady) / 1024:.1f} MiB (ratio "
              f"{max(steady) / max(1, min(steady)):.2f}); whole run max "
              f"{max(samples) / 1024:.1f} MiB")
    summ = [l for l in err.splitlines() if l.startswith("hscan: ")]
    print(summ[-1] if summ else "(no summary)")
    ok = (missing == 0 and bad_json[0] == 0 and cli.returncode == 0 and
          total == counts["lines"])
    print("soak: PASS" if ok else "soak: FAIL")
    sys.exit(0 if ok else 1)


main()
