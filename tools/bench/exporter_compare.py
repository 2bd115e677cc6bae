#!/usr/bin/env python3
"""exporter_compare.py: hscan-exporter against blackbox_exporter, one run.

    python3 tools/bench/exporter_compare.py [--build DIR] [-n 10000]
                                            [-c 1000]

N targets (http://127.X.Y.Z:PORT/b/fast, each with an address of its
own, hscan-testd --any-loopback) probed three ways, side by side:

  hscan batch   hscan-exporter, a module with the N targets (interval
                5 s): the CPU of its second round (the first pays for
                start-up), peak RSS over both rounds
  hscan probe   hscan-exporter scraped with N /probe requests, C at once
                (C keep-alive connections, N/C requests each)
  blackbox      Debian's blackbox_exporter scraped the same way

CPU is the exporter process's user+system time over the measured part
(/proc/PID/stat), per probe; peak RSS is VmHWM.  Each process is fresh.
The client is this script (asyncio, its own CPU not counted).  Loopback
only; no root needed.  Needs hscan-testd and hscan-exporter built
(BUILD, default ./build) and prometheus-blackbox-exporter installed.
"""
import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return -1.0


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, seconds=15):
    import socket
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"port {port} not listening after {seconds} s")


def targets(port, n):
    return [f"http://127.{1 + i // 62500}.{1 + i // 250 % 250}."
            f"{1 + i % 250}:{port}/b/fast" for i in range(n)]


async def body(r, head):
    """The body after `head`: Content-Length or chunked (Go's server
    chunks answers over 2 KiB)."""
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    if m:
        return await r.readexactly(int(m.group(1)))
    data = b""
    while True:
        size = int((await r.readuntil(b"\r\n")).strip(), 16)
        data += await r.readexactly(size + 2)
        if size == 0:
            return data


async def worker(port, paths, out):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    try:
        for p in paths:
            w.write(f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            await w.drain()
            head = await r.readuntil(b"\r\n\r\n")
            out.append(b"\nprobe_success 1\n" in await body(r, head))
    finally:
        w.close()


async def scrape_all(port, paths, c):
    out = []
    per = [paths[i::c] for i in range(c)]
    await asyncio.wait_for(asyncio.gather(
        *(worker(port, p, out) for p in per if p)), 600)
    return out


def start(argv, port, log):
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    wait_port(port, p)
    return p


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(10)


def probe_run(name, argv, port, urls, c, log):
    p = start(argv, port, log)
    try:
        from urllib.parse import quote
        paths = [f"/probe?module=http_2xx&target={quote(u, safe='')}"
                 for u in urls]
        cpu0, t0 = cpu_seconds(p.pid), time.monotonic()
        ok = asyncio.run(scrape_all(port, paths, c))
        wall, cpu = time.monotonic() - t0, cpu_seconds(p.pid) - cpu0
        return {"name": name, "ok": sum(ok), "n": len(urls), "wall": wall,
                "cpu": cpu, "rss": peak_rss_mib(p.pid)}
    finally:
        stop(p)


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=10) as r:
        body = r.read().decode()
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", body, re.M)
    return float(m.group(1)) if m else None


def batch_run(exe, tmp, urls, c, log):
    cfg = f"{tmp}/batch.yml"
    with open(cfg, "w") as f:
        f.write("modules:\n  fleet:\n    prober: http\n    timeout: 10s\n"
                "    interval: 5s\n    http:\n"
                "      preferred_ip_protocol: ip4\n    targets:\n" +
                "".join(f"      - {u}\n" for u in urls))
    port = free_port()
    p = start([exe, f"--config.file={cfg}", f"--probe.concurrency={c}",
               f"--web.listen-address=127.0.0.1:{port}"], port, log)
    rounds = 'hscan_exporter_batch_rounds_total{module="fleet"}'
    try:
        marks = {}
        end = time.monotonic() + 120
        while len(marks) < 2 and time.monotonic() < end:
            r = metric(port, rounds)
            busy = metric(port, "hscan_exporter_batch_probes_in_flight")
            if r and busy == 0 and int(r) not in marks:
                marks[int(r)] = (cpu_seconds(p.pid), time.monotonic())
            time.sleep(0.05)
        if len(marks) < 2:
            raise SystemExit("two batch rounds did not end in 120 s")
        (c1, _), (c2, _) = (marks[k] for k in sorted(marks)[:2])
        secs = metric(port, 'hscan_exporter_batch_round_seconds'
                      '{module="fleet"}')
        rounds_rss = peak_rss_mib(p.pid)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/probe/all?"
                                    "module=fleet", timeout=60) as r:
            body = r.read().decode()
        ok = len(re.findall(r'^probe_success\{target="[^"]*"\} 1$', body,
                            re.M))
        print(f"hscan batch: peak RSS {rounds_rss:.1f} MiB over the two "
              f"rounds, {peak_rss_mib(p.pid):.1f} MiB after one /probe/all "
              f"scrape of {len(body)} bytes")
        return {"name": "hscan batch", "ok": ok, "n": len(urls),
                "wall": secs, "cpu": c2 - c1, "rss": peak_rss_mib(p.pid)}
    finally:
        stop(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("-c", type=int, default=1000)
    a = ap.parse_args()
    exe = f"{a.build}/tools/exporter/hscan-exporter"
    testd = f"{a.build}/test/hscan-testd"
    bb = shutil.which("prometheus-blackbox-exporter")
    if not bb or not os.path.exists(exe):
        sys.exit("needs prometheus-blackbox-exporter and " + exe)
    with tempfile.TemporaryDirectory() as tmp:
        log = open(f"{tmp}/log", "w")
        td = subprocess.Popen([testd, "--lifetime", "900", "--any-loopback"],
                              stdout=subprocess.PIPE, text=True)
        lines = [td.stdout.readline() for _ in range(4)]
        http = int(lines[1].split()[1].rsplit(":", 1)[1])
        urls = targets(http, a.n)
        cfg = f"{tmp}/bb.yml"
        with open(cfg, "w") as f:
            f.write("modules:\n  http_2xx:\n    prober: http\n"
                    "    timeout: 10s\n    http:\n"
                    "      preferred_ip_protocol: ip4\n")
        rows = []
        try:
            rows.append(batch_run(exe, tmp, urls, a.c, log))
            port = free_port()
            rows.append(probe_run("hscan probe", [
                exe, f"--config.file={cfg}", f"--probe.concurrency={a.c}",
                f"--web.listen-address=127.0.0.1:{port}"], port, urls, a.c,
                log))
            port = free_port()
            rows.append(probe_run("blackbox", [
                bb, f"--config.file={cfg}",
                f"--web.listen-address=127.0.0.1:{port}"], port, urls, a.c,
                log))
        finally:
            stop(td)
    print(f"{a.n} targets, concurrency {a.c}, loopback, "
          f"{os.cpu_count()} CPUs")
    print(f"{'run':12} {'ok':>7} {'wall s':>7} {'CPU s':>7} "
          f"{'CPU/probe':>10} {'peak RSS':>9}")
    for r in rows:
        print(f"{r['name']:12} {r['ok']:>7} {r['wall']:>7.2f} "
              f"{r['cpu']:>7.2f} {r['cpu'] / r['n'] * 1e6:>8.0f}us "
              f"{r['rss']:>7.1f}Mi")
    bbr = rows[-1]
    for r in rows[:-1]:
        print(f"{r['name']} vs blackbox: RSS {r['rss'] / bbr['rss']:.2f}x, "
              f"CPU per probe {r['cpu'] / max(bbr['cpu'], 1e-9):.2f}x")


if __name__ == "__main__":
    main()
