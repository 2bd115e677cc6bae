#!/usr/bin/env python3
"""hscan-cli's HTTP/2 against the in-suite HTTP/2 server (server-h2.h).

Usage: test-h2.py HSCAN_CLI HSCAN_TESTD

Every behaviour of hscan-testd --h2 once, in one scan at -c 16: the
normal answer (status, fields in order, no reason, the title, the
server's SETTINGS in order and its WINDOW_UPDATE), 150 fields, a header
block over CONTINUATION frames, a redirect followed, GOAWAY and
RST_STREAM before the response, the SETTINGS, PING and CONTINUATION
floods, a server that picks h2 and talks HTTP/1.1, one that does not
pick h2 (with the default offer and with --http2), --http1.1, --h2c,
the header caps counted on the decoded list, and a body cut by
body-bytes.  Each hostile case must end within a few seconds (the
floods would run 10 s) and the scan's peak RSS stay bounded.  A build
without HTTP/2 skips (77).
"""
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testd import Testd  # noqa: E402

CLI, TESTD = sys.argv[1:3]
SETTINGS = [[3, 100], [4, 65535], [5, 16384], [6, 65536]]
WINDOW_INCREMENT = 983041
NORMAL = [["server", "hscan-test-h2"], ["content-type", "text/html"],
          ["x-dup", "1"], ["x-dup", "2"]]
fails = []


def check(cond, what):
    if not cond:
        fails.append(what)
        print("FAIL", what)


def scan(lines, *args):
    t0 = time.monotonic()
    r = subprocess.run([CLI, "-q", "--max-per-ip", "0", "-c", "16", *args],
                       input="\n".join(lines) + "\n", capture_output=True,
                       text=True, timeout=60)
    took = time.monotonic() - t0
    if r.returncode not in (0, 1):
        sys.exit(f"hscan-cli {args}: exit {r.returncode}: {r.stderr}")
    recs = {}
    for x in r.stdout.splitlines():
        rec = json.loads(x)
        recs[rec["input"]] = rec
    check(len(recs) == len(lines), f"{len(recs)} records for {len(lines)}")
    return recs, took


def main():
    out = subprocess.run([CLI, "--version"], capture_output=True, text=True,
                         timeout=10).stdout
    if "http2" not in out.split("Features:")[-1].split():
        print("skip: hscan-cli built without HTTP/2")
        sys.exit(77)
    t = Testd(TESTD, 120, h2=True)
    try:
        run(t)
    finally:
        t.stop()
    if fails:
        sys.exit(f"{len(fails)} checks failed")
    print("all HTTP/2 checks passed")


def run(t):
    h2, h1only, h1talk, h2c = (t.h2["h2"], t.h2["h2-h1only"],
                               t.h2["h2-h1talk"], t.h2["h2c"])
    base = f"https://fast.test:{h2}/h2/"
    common = ["--resolver", t.dns, "--ca-file", t.ca, "--timeout", "20"]
    names = ["normal", "many", "bighead", "redirect", "goaway", "rst",
             "settings-flood", "ping-flood", "cont-flood"]
    lines = [base + n for n in names] + [f"https://fast.test:{h1talk}/",
                                         f"https://fast.test:{h1only}/"]
    recs, took = scan(lines, *common, "--follow", "1")
    used = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # The floods would run for 10 s, CONTINUATION forever: bounded here
    check(took < 8, f"the hostile behaviours took {took:.1f} s")
    check(used < 64 * 1024, f"peak RSS {used} KiB")

    r = recs[base + "normal"]
    check(r["error"] is None and r["status"] == 200, f"normal: {r}")
    check(r["http_version"] == "HTTP/2" and r["reason"] is None,
          f"normal: version {r['http_version']} reason {r['reason']}")
    check(r["headers"][:4] == NORMAL, f"normal: headers {r['headers']}")
    check(r["title"] == "h2 normal" and r["body"]["truncated"] is False,
          f"normal: title {r['title']} body {r['body']}")
    check(r["tls"]["alpn"] == "h2", f"normal: alpn {r['tls']['alpn']}")
    check(r["h2"] == {"settings": SETTINGS,
                      "window_update": WINDOW_INCREMENT, "goaway": None,
                      "rst_stream": None}, f"normal: h2 {r['h2']}")
    r = recs[base + "many"]
    check(r["status"] == 200 and len(r["headers"]) == 150 and
          r["headers"][149] == ["x-h-150", "v150"], f"many: {r['headers']}")
    r = recs[base + "bighead"]
    check(r["status"] == 200 and len(r["headers"]) >= 40 and
          r["headers_complete"], f"bighead: {r['error']} "
          f"{len(r['headers'])}")
    r = recs[base + "redirect"]
    check(r["status"] == 200 and r["redirects"][0]["status"] == 301 and
          r["title"] == "h2 normal", f"redirect: {r}")
    r = recs[base + "goaway"]
    check(r["error"] == "h2_goaway" and r["status"] is None and
          r["h2"]["goaway"] == {"code": 11, "error": "ENHANCE_YOUR_CALM",
                                "last_stream_id": 0}, f"goaway: {r}")
    r = recs[base + "rst"]
    check(r["error"] == "h2_rst_stream" and
          r["h2"]["rst_stream"] == {"code": 2, "error": "INTERNAL_ERROR"},
          f"rst: {r}")
    for n in ("settings-flood", "ping-flood", "cont-flood"):
        r = recs[base + n]
        check(r["error"] == "h2_protocol_error" and
              r["timing_ms"]["total"] < 6000, f"{n}: {r['error']} "
              f"{r['error_detail']} {r['timing_ms']['total']} ms")
    r = recs[f"https://fast.test:{h1talk}/"]
    check(r["error"] == "h2_protocol_error" and "SETTINGS" in
          (r["error_detail"] or ""), f"h1talk: {r['error']} "
          f"{r['error_detail']}")
    r = recs[f"https://fast.test:{h1only}/"]
    check(r["status"] == 200 and r["http_version"] == "HTTP/1.1" and
          r["h2"] is None, f"h1only: {r['http_version']} {r['h2']}")

    # --http2: not picked; --http1.1 on the h2 server; --h2c; the caps
    recs, _ = scan([f"https://fast.test:{h1only}/"], *common, "--http2")
    r = recs[f"https://fast.test:{h1only}/"]
    check(r["error"] == "h2_not_negotiated" and r["fallback"] is None,
          f"--http2 h1only: {r['error']} {r['fallback']}")
    recs, _ = scan([base + "normal"], *common, "--http1.1")
    r = recs[base + "normal"]
    check(r["http_version"] == "HTTP/1.1" and r["tls"]["alpn"] ==
          "http/1.1" and r["h2"] is None, f"--http1.1: {r}")
    recs, _ = scan([f"http://fast.test:{h2c}/h2/normal"],
                   "--resolver", t.dns, "--h2c")
    r = recs[f"http://fast.test:{h2c}/h2/normal"]
    check(r["http_version"] == "HTTP/2" and r["title"] == "h2 normal" and
          r["h2"]["settings"] == SETTINGS, f"--h2c: {r}")
    recs, _ = scan([base + "many", base + "bighead"], *common,
                   "--max-headers", "100", "--max-header-bytes", "20000")
    check(recs[base + "many"]["error"] == "too_many_headers" and
          len(recs[base + "many"]["headers"]) == 100,
          f"--max-headers: {recs[base + 'many']['error']}")
    check(recs[base + "bighead"]["error"] == "header_too_large",
          f"--max-header-bytes: {recs[base + 'bighead']['error']}")
    recs, _ = scan([base + "normal"], *common, "--body-bytes", "10")
    r = recs[base + "normal"]
    check(r["body"]["bytes"] == 10 and r["body"]["truncated"],
          f"--body-bytes 10: {r['body']}")


if __name__ == "__main__":
    main()
