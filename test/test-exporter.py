#!/usr/bin/env python3
"""hscan-exporter against real components, on loopback.

Usage: test-exporter.py EXPORTER TESTD CASE
       (EXPORTER "none": built without yaml; every case skips, exit 77)

CASE is one of:
  compare     side by side with Debian's blackbox_exporter
              (prometheus-blackbox-exporter), same YAML, same targets
              (hscan-testd: ok, 404, redirect chain, no-follow, valid
              and expired certificates, a chain of three certificates,
              TLS-only port read as http, fail_if_not_ssl, refused,
              timeout, body and header regexes that hit and miss, a
              missing header with and without allow_missing): every
              metric family blackbox writes must be in
              hscan-exporter's answer with the same HELP and TYPE, and
              every sample with the same labels and value (times within
              TIME_TOLERANCE seconds).  Prints the table of agreements.
  prometheus  a real Prometheus (Debian's prometheus) scraping
              hscan-exporter's /probe through the usual blackbox
              relabelling; its HTTP API must report probe_success for
              each target (1 for the good one, 0 for the others).
  load        2,000 concurrent /probe scrapes and a 10,000-target batch
              module (one /probe/all scrape has every target), with the
              exporter's peak RSS bounded.
  server      the HTTP side: malformed requests (400), an oversized
              head (431), a long target (414), unknown module (400),
              --allow-targets (403), --probe.concurrency (503),
              keep-alive and pipelining, /metrics, /-/healthy.
  config      --config.check on good and bad files (the key and line
              named), SIGHUP reload (a bad file keeps the old modules
              and is counted), POST /-/reload.

Every wait is bounded.  Fails, naming the Debian package, when a
program it needs is missing (tools/install-deps.sh installs them).
"""
import asyncio
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "h2interop", os.path.join(HERE, "test-h2-interop.py"))
h2i = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(h2i)
sys.path.insert(0, HERE)
from testd import Testd  # noqa: E402

Fail, free_ports, Server = h2i.Fail, h2i.free_ports, h2i.Server
h2i.PROGRAMS.update({"prometheus-blackbox-exporter":
                     "prometheus-blackbox-exporter",
                     "prometheus": "prometheus"})

# Times (probe_duration_seconds, the phases, the DNS lookup) differ run
# to run; on loopback both finish within this many seconds of each other.
TIME_TOLERANCE = 0.5
TIME_METRICS = {"probe_duration_seconds", "probe_http_duration_seconds",
                "probe_dns_lookup_time_seconds"}


def http_get(port, path, headers=None, timeout=15, method="GET"):
    """(status, body text) of one request to 127.0.0.1:port."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def parse_metrics(text, written=None):
    """({(name, labels): value}, {family: (help, type)}); `written`, a
    dict, gets {(name, labels): the value as written}, to compare how
    numbers are written (Go's strconv 'g' -1: "3.668918509e+09")."""
    samples, fams = {}, {}
    written = {} if written is None else written
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            fams.setdefault(name, [None, None])[0] = help_
        elif line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            fams.setdefault(name, [None, None])[1] = typ
        elif line and not line.startswith("#"):
            m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$', line)
            if not m:
                raise Fail(f"not a sample line: {line!r}")
            labels = tuple(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"',
                                      m.group(2) or ""))
            samples[(m.group(1), labels)] = float(m.group(3))
            written[(m.group(1), labels)] = m.group(3)
    return samples, {k: tuple(v) for k, v in fams.items()}


class Exporter(Server):
    def __init__(self, exe, cfg, tmp, name="hscan-exporter", extra=()):
        port = free_ports(1)[0]
        self.port = port
        super().__init__(name, [exe, f"--config.file={cfg}",
                                f"--web.listen-address=127.0.0.1:{port}",
                                *extra], f"{tmp}/{name}.log", [port])


def check_exit(h):
    """SIGTERM: hscan-exporter closes everything and exits 0, promptly
    (under ASan, a leak makes the exit status non-zero)."""
    h.p.send_signal(signal.SIGTERM)
    try:
        rc = h.p.wait(10)
    except subprocess.TimeoutExpired:
        raise Fail(f"still running 10 s after SIGTERM\n{h.logs()}")
    if rc != 0:
        raise Fail(f"exit {rc} after SIGTERM\n{h.logs()}")


def start(servers, make):
    s = make()
    servers.append(s)
    if not s.wait_ready():
        raise Fail(f"{s.name} did not start\n{s.logs()}")
    return s


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


# ------------------------------------------------------------ compare

def compare_config(ca):
    return f"""modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
  no_follow:
    prober: http
    timeout: 5s
    http:
      no_follow_redirects: true
      valid_status_codes: [302]
      preferred_ip_protocol: ip4
  want_ssl:
    prober: http
    timeout: 5s
    http:
      fail_if_not_ssl: true
      preferred_ip_protocol: ip4
  tls_valid:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      tls_config:
        ca_file: {ca}
        server_name: valid.test
  tls_expired:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      tls_config:
        ca_file: {ca}
        server_name: expired.test
  tls_chain:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      tls_config:
        server_name: chain-2.test
        insecure_skip_verify: true
  short:
    prober: http
    timeout: 1s
    http:
      preferred_ip_protocol: ip4
""" + "".join(f"""  {name}:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
{keys}""" for name, keys in REGEX_MODULES)


# fail_if_body_* and fail_if_header_*: hscan-testd's /b/fast is
# "<html><title>fast</title></html>" with Content-Type: text/html and
# X-Dup: 1, X-Dup: 2; /b/chunked is "hello world", without X-Dup.
REGEX_MODULES = [
    ("body_fail", "      fail_if_body_matches_regexp:\n"
                  "        - \"no such text\"\n"
                  "        - \"<title>f[a-z]+</title>\"\n"),
    ("body_want", "      fail_if_body_not_matches_regexp: "
                  "[\"hello\", \"w.rld$\"]\n"),
    # an empty body (/b/obsfold: Content-Length: 0) is still a body
    ("body_empty", "      fail_if_body_not_matches_regexp: [\"^$\"]\n"),
    # HEAD: no body read; Go's regexps see an empty one
    ("body_head", "      method: HEAD\n"
                  "      fail_if_body_not_matches_regexp: [\"^$\"]\n"),
    ("body_head_want", "      method: HEAD\n"
                       "      fail_if_body_not_matches_regexp: [title]\n"),
    ("body_head_fail", "      method: HEAD\n"
                       "      fail_if_body_matches_regexp: [\"x?\"]\n"),
    ("hdr_fail_dup", "      fail_if_header_matches:\n"
                     "        - {header: x-dup, regexp: \"^2$\"}\n"),
    ("hdr_fail_type", "      fail_if_header_matches:\n"
                      "        - {header: Content-Type, regexp: json}\n"),
    ("hdr_want_dup", "      fail_if_header_not_matches:\n"
                     "        - {header: X-DUP, regexp: \"^2$\"}\n"),
    ("hdr_want_type", "      fail_if_header_not_matches:\n"
                      "        - {header: content-type, "
                      "regexp: \"^application/json\"}\n"),
    # an obs-fold value, unfolded by both ("a b c")
    ("hdr_want_fold", "      fail_if_header_not_matches:\n"
                      "        - {header: X-Fold, regexp: \"^a b c$\"}\n"),
    ("hdr_fail_absent", "      fail_if_header_matches:\n"
                        "        - {header: X-Absent, regexp: x}\n"),
    ("hdr_fail_absent_ok", "      fail_if_header_matches:\n"
                           "        - {header: X-Absent, regexp: x, "
                           "allow_missing: true}\n"),
    ("hdr_want_absent", "      fail_if_header_not_matches:\n"
                        "        - {header: X-Absent, regexp: x}\n"),
    # the allowed missing header checked last by the library: the body
    # regex before it still decides
    ("hdr_want_absent_ok", "      fail_if_header_not_matches:\n"
                           "        - {header: X-Absent, regexp: x, "
                           "allow_missing: true}\n"
                           "      fail_if_body_not_matches_regexp: "
                           "[title]\n"),
]


def compare_cases(t, refused):
    """(case, module, target, hscan_probe_error_info's error or None)."""
    h, s = f"http://127.0.0.1:{t.http}", f"https://127.0.0.1:{t.https}"
    return [("ok", "http_2xx", f"{h}/b/fast", None),
            ("404", "http_2xx", f"{h}/b/notfound", "invalid_status"),
            ("redirect-chain", "http_2xx", f"{h}/chain-3", None),
            ("no-follow", "no_follow", f"{h}/chain-3", None),
            ("bare-host", "http_2xx", f"127.0.0.1:{t.http}", None),
            ("valid-cert", "tls_valid", f"{s}/b/fast", None),
            ("expired-cert", "tls_expired", f"{s}/b/fast",
             "tls_cert_invalid"),
            ("cert-chain", "tls_chain", f"{s}/b/fast", None),
            ("tls-only", "http_2xx", f"127.0.0.1:{t.https}", "read_closed"),
            ("not-ssl", "want_ssl", f"{h}/b/fast", "not_ssl"),
            ("refused", "http_2xx", f"127.0.0.1:{refused}",
             "connect_refused"),
            ("timeout", "short", f"{h}/b/hang", "read_timeout"),
            # blackbox checks the regexes only after a valid status
            ("regex-404", "body_fail", f"{h}/b/notfound", "invalid_status"),
            ("body-hit", "body_fail", f"{h}/b/fast", "body_regex"),
            ("body-miss", "body_fail", f"{h}/b/chunked", None),
            ("body-not-hit", "body_want", f"{h}/b/chunked", None),
            ("body-not-miss", "body_want", f"{h}/b/fast", "body_regex"),
            ("body-empty", "body_empty", f"{h}/b/obsfold", None),
            ("body-not-empty", "body_empty", f"{h}/b/fast", "body_regex"),
            ("body-head", "body_head", f"{h}/b/fast", None),
            ("body-head-want", "body_head_want", f"{h}/b/fast",
             "body_regex"),
            ("body-head-fail", "body_head_fail", f"{h}/b/fast",
             "body_regex"),
            ("hdr-hit", "hdr_fail_dup", f"{h}/b/fast", "header_regex"),
            ("hdr-miss", "hdr_fail_type", f"{h}/b/fast", None),
            ("hdr-not-hit", "hdr_want_dup", f"{h}/b/fast", None),
            ("hdr-not-miss", "hdr_want_type", f"{h}/b/fast", "header_regex"),
            ("hdr-fold", "hdr_want_fold", f"{h}/b/obsfold", None),
            ("hdr-absent", "hdr_fail_absent", f"{h}/b/fast",
             "header_missing"),
            ("hdr-absent-ok", "hdr_fail_absent_ok", f"{h}/b/fast", None),
            ("hdr-not-absent", "hdr_want_absent", f"{h}/b/fast",
             "header_missing"),
            ("hdr-not-abs-ok", "hdr_want_absent_ok", f"{h}/b/fast", None),
            ("hdr-abs-ok-body", "hdr_want_absent_ok", f"{h}/b/chunked",
             "body_regex")]


def error_name(htext):
    m = re.findall(r'^hscan_probe_error_info\{error="([^"]*)"\} 1$', htext,
                   re.M)
    return m[0] if len(m) == 1 else None if not m else m


def scrape_pair(ports, module, target):
    """Both exporters at once: [text, text]."""
    q = urllib.parse.urlencode({"module": module, "target": target})
    out = [None, None]

    def one(i):
        out[i] = http_get(ports[i], f"/probe?{q}")
    th = [threading.Thread(target=one, args=(i,)) for i in (0, 1)]
    for x in th:
        x.start()
    for x in th:
        x.join(30)
    for i, name in enumerate(("blackbox_exporter", "hscan-exporter")):
        if out[i] is None or out[i][0] != 200:
            raise Fail(f"{name} /probe {module} {target}: {out[i]}")
    return out[0][1], out[1][1]


def agree(name, bv, hv):
    if name in TIME_METRICS:
        return abs(bv - hv) <= TIME_TOLERANCE, "~"
    return bv == hv, "="


def compare_one(case, btext, htext, problems, hscan_only):
    """Rows of the agreement table for one case."""
    braw, hraw = {}, {}
    bs, bf = parse_metrics(btext, braw)
    hs, hf = parse_metrics(htext, hraw)
    rows = []
    for fam, ht in sorted(bf.items()):
        if hf.get(fam) != ht:
            problems.append(f"{case}: family {fam}: blackbox {ht}, "
                            f"hscan {hf.get(fam)}")
    for (name, labels), bv in sorted(bs.items()):
        hv = hs.get((name, labels))
        shown = name + ("{" + ",".join(f"{k}" for k, _ in labels) + "}"
                        if labels and name != "probe_http_duration_seconds"
                        else "{" + labels[0][1] + "}" if labels else "")
        if hv is None:
            rows.append((case, shown, bv, None, "MISSING"))
            problems.append(f"{case}: {name}{dict(labels)} = {bv} missing "
                            f"from hscan-exporter")
            continue
        ok, how = agree(name, bv, hv)
        if ok and how == "=" and braw[(name, labels)] != hraw[(name, labels)]:
            ok = False
            problems.append(f"{case}: {name}: written {braw[(name, labels)]}"
                            f" by blackbox, {hraw[(name, labels)]} by hscan")
        rows.append((case, shown, bv, hv, how if ok else "DIFF"))
        if not ok:
            problems.append(f"{case}: {name}{dict(labels)}: blackbox {bv}, "
                            f"hscan {hv}")
    hscan_only[0].update(hf)
    hscan_only[1].update(bf)
    return rows


def case_compare(exe, testd):
    bb = h2i.find_program("prometheus-blackbox-exporter")
    servers = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Testd(testd, 120)
        try:
            cfg = write(f"{tmp}/bb.yml", compare_config(t.ca))
            b = start(servers, lambda: Exporter(bb, cfg, tmp,
                                                "blackbox_exporter"))
            h = start(servers, lambda: Exporter(exe, cfg, tmp))
            refused = free_ports(1)[0]
            problems, rows, hscan_only = [], [], (set(), set())
            for case, module, target, err in compare_cases(t, refused):
                btext, htext = scrape_pair([b.port, h.port], module, target)
                if error_name(htext) != err:
                    problems.append(f"{case}: hscan_probe_error_info "
                                    f"{error_name(htext)}, want {err}")
                rows += compare_one(case, btext, htext, problems,
                                    hscan_only)
            check_exit(h)
        finally:
            for s in servers:
                s.stop()
            t.stop()
    print(f"{'case':15} {'metric':48} {'blackbox':>14} {'hscan':>14}  "
          f"agree")
    for case, name, bv, hv, how in rows:
        print(f"{case:15} {name:48} {bv:>14.6g} "
              f"{'-' if hv is None else format(hv, '>14.6g'):>14}  {how}")
    print(f"agreements: {sum(1 for r in rows if r[4] in '=~')} of "
          f"{len(rows)} samples ('~': times within {TIME_TOLERANCE} s)")
    print("families only hscan-exporter writes: " +
          ", ".join(sorted(hscan_only[0] - hscan_only[1])))
    if problems:
        raise Fail("disagreements:\n  " + "\n  ".join(problems))
    if len(rows) < 150:
        raise Fail(f"only {len(rows)} samples compared")


# --------------------------------------------------------- prometheus

def case_prometheus(exe, testd):
    prom = h2i.find_program("prometheus")
    servers = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Testd(testd, 120)
        try:
            cfg = write(f"{tmp}/bb.yml", "modules:\n  http_2xx:\n"
                        "    prober: http\n    http:\n"
                        "      preferred_ip_protocol: ip4\n")
            h = start(servers, lambda: Exporter(exe, cfg, tmp))
            want = {f"http://127.0.0.1:{t.http}/b/fast": 1.0,
                    f"http://127.0.0.1:{t.http}/b/notfound": 0.0,
                    f"127.0.0.1:{free_ports(1)[0]}": 0.0}
            targets = "\n".join(f"          - '{x}'" for x in want)
            pcfg = write(f"{tmp}/prometheus.yml", f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: blackbox
    metrics_path: /probe
    params:
      module: [http_2xx]
    static_configs:
      - targets:
{targets}
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:{h.port}
""")

            def make():
                port = free_ports(1)[0]
                return Server("prometheus", [
                    prom, f"--config.file={pcfg}",
                    f"--storage.tsdb.path={tmp}/data",
                    f"--web.listen-address=127.0.0.1:{port}"],
                    f"{tmp}/prometheus.log", [port])
            p = start(servers, make)
            got = {}
            end = time.monotonic() + 40
            while time.monotonic() < end and len(got) < len(want):
                time.sleep(1)
                st, body = http_get(p.ports[0], "/api/v1/query?query=" +
                                    urllib.parse.quote("probe_success"))
                if st != 200:
                    continue
                for m in __import__("json").loads(body)["data"]["result"]:
                    got[m["metric"]["instance"]] = float(m["value"][1])
            print("Prometheus probe_success by instance:")
            for inst, v in sorted(got.items()):
                print(f"  {inst:45} {v:g}")
            if got != want:
                raise Fail(f"Prometheus saw {got}, want {want}\n"
                           f"{p.logs()}\n{h.logs()}")
            st, body = http_get(p.ports[0], "/api/v1/query?query=" +
                                urllib.parse.quote("up"))
            if '"0"' in body:
                raise Fail(f"a scrape failed (up 0): {body}")
            check_exit(h)
        finally:
            for s in servers:
                s.stop()
            t.stop()


# --------------------------------------------------------------- load

def rss_peak_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


async def one_scrape(port, path):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    try:
        w.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n"
                f"Connection: close\r\n\r\n".encode())
        await w.drain()
        data = await r.read()
    finally:
        w.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


async def many_scrapes(port, paths):
    # Open every connection first, so all 2,000 are in flight together.
    return await asyncio.wait_for(asyncio.gather(
        *(one_scrape(port, p) for p in paths), return_exceptions=True), 60)


def batch_config(t, n):
    lines = [f"      - http://127.0.{1 + i // 250}.{1 + i % 250}:{t.http}/"
             f"b/fast" for i in range(n)]
    return ("modules:\n  http_2xx:\n    prober: http\n    timeout: 10s\n"
            "    http:\n      preferred_ip_protocol: ip4\n"
            "  fleet:\n    prober: http\n    timeout: 10s\n"
            "    interval: 300s\n    http:\n"
            "      preferred_ip_protocol: ip4\n    targets:\n" +
            "\n".join(lines) + "\n")


def case_load(exe, testd):
    n_scrapes, n_batch = 2000, 10000
    servers = []
    with tempfile.TemporaryDirectory() as tmp:
        # hscan-testd on 0.0.0.0, accepting any 127/8 address: the
        # batch's targets have addresses of their own (no port
        # exhaustion).  It prints dns, http, https and ca lines.
        p = subprocess.Popen([testd, "--lifetime", "120", "--any-loopback"],
                             stdout=subprocess.PIPE, text=True)
        t = Testd.__new__(Testd)
        lines = [p.stdout.readline() for _ in range(4)]
        t.p, t.http = p, int(lines[1].split()[1].rsplit(":", 1)[1])
        try:
            cfg = write(f"{tmp}/bb.yml", batch_config(t, n_batch))
            h = start(servers, lambda: Exporter(
                exe, cfg, tmp, extra=["--probe.concurrency=2500",
                                      "--web.max-connections=20000"]))
            t0 = time.monotonic()
            path = urllib.parse.quote(f"http://127.0.0.1:{t.http}/b/fast")
            res = asyncio.run(many_scrapes(
                h.port, [f"/probe?module=http_2xx&target={path}"] *
                n_scrapes))
            bad = [r for r in res if isinstance(r, Exception) or r[0] != 200
                   or "\nprobe_success 1\n" not in r[1]]
            print(f"{n_scrapes} concurrent scrapes: {len(res) - len(bad)} "
                  f"ok in {time.monotonic() - t0:.1f} s")
            if bad:
                raise Fail(f"{len(bad)} scrapes failed, first: {bad[0]}")
            end = time.monotonic() + 60
            while time.monotonic() < end:
                st, body = http_get(h.port, "/metrics")
                m = re.search(r'hscan_exporter_batch_round_seconds'
                              r'\{module="fleet"\} (\S+)', body)
                if m and float(m.group(1)) > 0:
                    break
                time.sleep(0.5)
            else:
                raise Fail("the batch round did not end in 60 s")
            st, body = http_get(h.port, "/probe/all?module=fleet")
            ok = body.count("\nprobe_success{target=")
            good = len(re.findall(r'^probe_success\{target="[^"]*"\} 1$',
                                  body, re.M))
            peak = rss_peak_kb(h.p.pid)
            print(f"batch of {n_batch}: round {float(m.group(1)):.1f} s, "
                  f"{good} of {ok} successful, one scrape {len(body)} "
                  f"bytes; peak RSS {peak / 1024:.1f} MiB")
            if ok != n_batch or good != n_batch:
                errs = re.findall(r'hscan_probe_error_info\{error="([^"]*)"',
                                  body)
                raise Fail(f"/probe/all has {ok} targets, {good} good; "
                           f"errors: {sorted(set(errs))[:5]}; "
                           f"{errs.count(errs[0]) if errs else 0} of the "
                           f"first kind")
            # Measured 55 MiB (the 14 MB answer of /probe/all included);
            # sanitizers keep freed memory in quarantine.
            if peak > 150 * 1024 and os.environ.get("HSCAN_SANITIZE",
                                                    "none") == "none":
                raise Fail(f"peak RSS {peak} KiB over 150 MiB")
            check_exit(h)
        finally:
            for s in servers:
                s.stop()
            t.p.terminate()
            t.p.wait(10)


# ------------------------------------------------------------- server

def raw(port, data, timeout=5):
    """Send bytes, read until the server closes or times out."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def statuses(data):
    return [int(x) for x in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]


def case_server(exe, testd):
    servers = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Testd(testd, 60)
        try:
            cfg = write(f"{tmp}/bb.yml", "modules:\n  http_2xx:\n"
                        "    prober: http\n    http:\n"
                        "      preferred_ip_protocol: ip4\n")
            h = start(servers, lambda: Exporter(
                exe, cfg, tmp, extra=["--probe.concurrency=3",
                                      "--allow-targets=127.0.0.1:*",
                                      "--web.idle-timeout=2s"]))
            server_checks(h.port, t)
            check_exit(h)
        finally:
            for s in servers:
                s.stop()
            t.stop()


def server_checks(port, t):
    fast = urllib.parse.quote(f"http://127.0.0.1:{t.http}/b/fast")
    cases = [
        ("garbage", b"\x16\x03\x01\x00\x05hello\r\n\r\n", [400]),
        ("bad request line", b"GET\r\n\r\n", [400]),
        ("header without colon", b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
         [400]),
        ("head over 8 KiB", b"GET / HTTP/1.1\r\nX-A: " + b"a" * 9000 +
         b"\r\n\r\n", [431]),
        ("too many fields", b"GET / HTTP/1.1\r\n" + b"A: b\r\n" * 150 +
         b"\r\n", [431]),
        ("target over 4 KiB", b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n",
         [414]),
        ("body", b"POST /probe HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
         [413]),
        ("bad percent", b"GET /probe?target=%zz HTTP/1.1\r\n\r\n", [400]),
        ("no target", b"GET /probe?module=http_2xx HTTP/1.1\r\n"
         b"Connection: close\r\n\r\n", [400]),
        ("unknown module", b"GET /probe?module=nope&target=x HTTP/1.1\r\n"
         b"Connection: close\r\n\r\n", [400]),
        ("bad scrape timeout", b"GET /probe?target=" + fast.encode() +
         b" HTTP/1.1\r\nX-Prometheus-Scrape-Timeout-Seconds: soon\r\n"
         b"Connection: close\r\n\r\n", [400]),
        ("not allowed", b"GET /probe?target=10.1.2.3 HTTP/1.1\r\n"
         b"Connection: close\r\n\r\n", [403]),
        ("method", b"DELETE /metrics HTTP/1.1\r\nConnection: close\r\n\r\n",
         [405]),
        ("not found", b"GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n",
         [404]),
        ("pipelined keep-alive", b"GET /-/healthy HTTP/1.1\r\n\r\n"
         b"GET /probe?target=" + fast.encode() + b" HTTP/1.1\r\n\r\n"
         b"GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n",
         [200, 200, 200]),
    ]
    problems = []
    for name, data, want in cases:
        got = statuses(raw(port, data))
        print(f"  {name:22} -> {got}")
        if got != want:
            problems.append(f"{name}: got {got}, want {want}")
    # Idle keep-alive connection closed after --web.idle-timeout (2 s).
    t0 = time.monotonic()
    got = raw(port, b"GET /-/healthy HTTP/1.1\r\n\r\n", timeout=10)
    idle = time.monotonic() - t0
    print(f"  idle close after {idle:.1f} s")
    if statuses(got) != [200] or not 1.5 < idle < 6:
        problems.append(f"idle timeout: {statuses(got)} after {idle:.1f} s")
    # --probe.concurrency=3: six slow scrapes at once, three get 503.
    slow = urllib.parse.quote(f"http://127.0.0.1:{t.http}/b/delay-1500")
    res = asyncio.run(many_scrapes(port, [f"/probe?target={slow}"] * 6))
    codes = sorted(r[0] for r in res)
    print(f"  six slow scrapes, concurrency 3 -> {codes}")
    if codes != [200, 200, 200, 503, 503, 503] or \
            "too many probes" not in [r for r in res if r[0] == 503][0][1]:
        problems.append(f"concurrency bound: {codes}")
    # X-Prometheus-Scrape-Timeout-Seconds 1.2, less the offset 0.5: the
    # probe of a server answering after 3 s stops at 0.7 s.
    t0 = time.monotonic()
    st, body = http_get(port, "/probe?target=" + urllib.parse.quote(
        f"http://127.0.0.1:{t.http}/b/delay-3000"),
        {"X-Prometheus-Scrape-Timeout-Seconds": "1.2"})
    took = time.monotonic() - t0
    dur = re.search(r"^probe_duration_seconds (\S+)$", body, re.M)
    print(f"  scrape timeout 1.2 s -> probe {dur and dur.group(1)} s, "
          f"answer after {took:.2f} s")
    if st != 200 or "\nprobe_success 0\n" not in body or not dur or \
            not 0.65 <= float(dur.group(1)) < 0.95 or took > 1.2:
        problems.append(f"scrape timeout: {st} after {took:.2f} s: {body}")
    # What blackbox lacks: the anomalies of the head, the audit.
    st, body = http_get(port, "/probe?target=" + urllib.parse.quote(
        f"http://127.0.0.1:{t.http}/b/obsfold"))
    for want in ('hscan_probe_anomaly_info{anomaly="obs_fold"} 1',
                 "hscan_probe_audit_checks_passed "):
        if want not in body:
            problems.append(f"/probe of obsfold lacks {want!r}: {body}")
    # A client that goes away mid-scrape: its probe is canceled, not left
    # holding a slot until the target answers (delay-5000).
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    hang = urllib.parse.quote(f"http://127.0.0.1:{t.http}/b/delay-5000")
    s.sendall(f"GET /probe?target={hang} HTTP/1.1\r\n\r\n".encode())
    time.sleep(0.3)
    s.close()
    end = time.monotonic() + 3
    while metric(port, "hscan_exporter_probes_in_flight") != 0:
        if time.monotonic() > end:
            problems.append("abandoned scrape still in flight after 3 s")
            break
        time.sleep(0.05)
    st, body = http_get(port, "/metrics")
    for want in ("hscan_exporter_requests_refused_total{reason=\"busy\"} 3",
                 "hscan_exporter_requests_refused_total{reason=\"forbidden\"}"
                 " 1", "blackbox_module_unknown_total 1",
                 "process_resident_memory_bytes ", "process_open_fds ",
                 "hscan_exporter_probes_total{module=\"http_2xx\","
                 "result=\"success\"} 5",
                 "hscan_exporter_probes_total{module=\"http_2xx\","
                 "result=\"failure\"} 1"):
        if want not in body:
            problems.append(f"/metrics lacks {want!r}")
    parse_metrics(body)
    if problems:
        raise Fail("\n  ".join(["server checks:"] + problems))


# ------------------------------------------------------------- config

BAD_CONFIGS = [
    ("modules:\n  m:\n    prober: http\n    http:\n      methd: GET\n",
     "line 5: key 'methd': unknown key in http"),
    ("modules:\n  m:\n    prober: http\n    http:\n"
     "      compression: gzip\n",
     "line 5: key 'compression': not supported yet"),
    # a regular expression PCRE2 does not compile: its key, its line
    ("modules:\n  m:\n    prober: http\n    http:\n"
     "      fail_if_body_not_matches_regexp:\n        - ok\n"
     "        - \"a(b\"\n",
     "line 7: key 'fail_if_body_not_matches_regexp': 'a(b': missing "
     "closing parenthesis at offset 3"),
    ("modules:\n  m:\n    prober: http\n    http:\n"
     "      fail_if_body_matches_regexp: [\"x{2,1}\"]\n",
     "line 5: key 'fail_if_body_matches_regexp': 'x{2,1}': numbers out "
     "of order"),
    ("modules:\n  m:\n    prober: http\n    http:\n"
     "      fail_if_header_matches:\n"
     "        - {header: Server, regexp: ok}\n"
     "        - {header: X-A, regexp: \"[z\"}\n",
     "line 7: key 'fail_if_header_matches': '[z': missing terminating ] "
     "for character class"),
    ("modules:\n  m:\n    prober: http\n    http:\n"
     "      fail_if_header_not_matches:\n        - header: X-A\n",
     "line 6: key 'fail_if_header_not_matches': regexp must be set"),
    ("modules:\n  m:\n    prober: http\n    http:\n"
     "      fail_if_header_not_matches:\n        - {regexp: a}\n",
     "line 6: key 'fail_if_header_not_matches': header name must be set"),
    ("modules:\n  m:\n    prober: http\n    http:\n"
     "      fail_if_header_matches:\n"
     "        - {header: X-A, regexp: a, allow_missin: true}\n",
     "line 6: key 'allow_missin': unknown key in a header match"),
    ("modules:\n  m:\n    prober: http\n    http:\n"
     "      fail_if_body_matches_regexp: x\n",
     "line 5: key 'fail_if_body_matches_regexp': must be a list"),
    ("modules:\n  m:\n    prober: http\n    http:\n"
     "      fail_if_header_not_matches:\n"
     "        - {header: X-A, regexp: a, allow_missing: true}\n"
     "        - {header: X-B, regexp: b, allow_missing: true}\n",
     "line 7: key 'fail_if_header_not_matches': a second entry with "
     "allow_missing: true is not supported"),
    ("modules:\n  m:\n    prober: tcp\n",
     "line 3: key 'prober': 'tcp': only the http prober"),
    ("modules:\n  m:\n    prober: http\n    timeout: 5 seconds\n",
     "line 4: key 'timeout': '5 seconds': not a duration"),
    ("modules:\n  m:\n    prober: http\n    http:\n"
     "      valid_status_codes: [20x]\n",
     "line 5: key 'valid_status_codes': '20x': not a status code"),
    ("modules:\n  m:\n    prober: http\n    http:\n      tls_config:\n"
     "        min_version: TLS9\n",
     "line 6: key 'min_version': 'TLS9'"),
    ("modules:\n  m:\n    prober: http\n    http:\n"
     "      no_follow_redirects: maybe\n",
     "line 5: key 'no_follow_redirects': 'maybe': not true or false"),
    ("modules:\n  m:\n    prober: http\n    http:\n"
     "      headers: {A: b}\n      headers: {C: d}\n",
     "line 6: key 'headers': given twice"),
    ("modules: [\n", "line 2:"),
    ("moduls:\n  m: {}\n", "line 1: key 'moduls': unknown top-level key"),
]


def config_check(exe, path):
    p = subprocess.run([exe, f"--config.file={path}", "--config.check"],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def case_config(exe, testd):
    problems = []
    servers = []
    with tempfile.TemporaryDirectory() as tmp:
        for text, want in BAD_CONFIGS:
            rc, out = config_check(exe, write(f"{tmp}/bad.yml", text))
            print(f"  bad config -> exit {rc}: {out.strip()}")
            if rc != 1 or want not in out:
                problems.append(f"{text!r}: exit {rc}, {out!r}; want "
                                f"{want!r}")
        rc, out = config_check(exe, write(f"{tmp}/bad.yml", compare_config(
            f"{tmp}/no-such-ca.pem")))
        print(f"  missing ca_file -> exit {rc}: {out.strip()}")
        if rc != 1 or "module tls_valid (line 20)" not in out:
            problems.append(f"missing ca_file: exit {rc}: {out!r}")
        t = Testd(testd, 60)
        try:
            good = compare_config(t.ca) + ("  fleet:\n    prober: http\n"
                                           "    interval: 1s\n    targets:\n"
                                           f"      - 127.0.0.1:{t.http}\n")
            cfg = write(f"{tmp}/bb.yml", good)
            rc, out = config_check(exe, cfg)
            if rc != 0:
                problems.append(f"good config: exit {rc}: {out}")
            h = start(servers, lambda: Exporter(exe, cfg, tmp))
            reload_checks(h, cfg, t, problems)
            check_exit(h)
        finally:
            for s in servers:
                s.stop()
            t.stop()
    if problems:
        raise Fail("\n  ".join(["config checks:"] + problems))


def metric(port, name):
    st, body = http_get(port, "/metrics")
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", body, re.M)
    return float(m.group(1)) if m else None


def probe(port, module, target, headers=None):
    q = urllib.parse.urlencode({"module": module, "target": target})
    return http_get(port, f"/probe?{q}", headers)


def reload_checks(h, cfg, t, problems):
    fast = f"127.0.0.1:{t.http}"
    # A slow scrape in flight across a reload finishes with its module.
    slow = {}
    th = threading.Thread(target=lambda: slow.update(
        r=probe(h.port, "http_2xx", f"{fast}/b/delay-1500")))
    th.start()
    time.sleep(0.3)
    text = open(cfg).read()
    write(cfg, text.replace("  http_2xx:", "  renamed:"))
    os.kill(h.p.pid, signal.SIGHUP)
    end = time.monotonic() + 10
    while probe(h.port, "renamed", fast)[0] != 200:
        if time.monotonic() > end:
            problems.append("SIGHUP: module 'renamed' never appeared")
            break
        time.sleep(0.1)
    th.join(15)
    print(f"  scrape across the reload: {slow.get('r', (None,))[0]}")
    if slow.get("r", (0, ""))[0] != 200 or \
            "probe_success 1" not in slow["r"][1]:
        problems.append(f"scrape in flight over reload: {slow.get('r')}")
    if probe(h.port, "http_2xx", fast)[0] != 400:
        problems.append("old module still served after reload")
    write(cfg, text.replace("prober: http", "prober: icmp", 1))
    os.kill(h.p.pid, signal.SIGHUP)
    time.sleep(1)
    ok = metric(h.port, "blackbox_exporter_config_last_reload_successful")
    failed = metric(h.port, "hscan_exporter_config_reloads_failed_total")
    print(f"  bad reload: successful={ok} failed_total={failed}")
    if ok != 0 or failed != 1 or probe(h.port, "renamed", fast)[0] != 200:
        problems.append(f"bad reload: successful {ok}, failed {failed}")
    write(cfg, text)
    st, _ = http_get(h.port, "/-/reload", method="POST")
    if st != 200 or probe(h.port, "http_2xx", fast)[0] != 200:
        problems.append(f"POST /-/reload: {st}")
    # The batch module (interval 1s) has a result by now.
    time.sleep(1.5)
    st, body = http_get(h.port, "/probe/all?module=fleet")
    print(f"  /probe/all: {body.count('probe_success{')} target(s)")
    if st != 200 or f'probe_success{{target="{fast}"}} 1' not in body:
        problems.append(f"/probe/all: {st} {body[:300]}")


CASES = {"compare": case_compare, "prometheus": case_prometheus,
         "load": case_load, "server": case_server, "config": case_config}


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    exe, testd, case = sys.argv[1:]
    if exe == "none":
        print("hscan-exporter not built (no libyaml: -Dyaml): skipped")
        return 77
    try:
        CASES[case](exe, testd)
    except Fail as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    print(f"{case}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
