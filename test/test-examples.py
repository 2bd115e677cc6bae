#!/usr/bin/env python3
"""examples/minimal and examples/agent end to end, against hscan-testd.

Usage: test-examples.py MINIMAL AGENT TESTD [TEST...]   (no TEST: all)
       test-examples.py --list B_SANITIZE   (the tests, for test/meson.build)
Every subprocess has a timeout; traffic goes only to 127.0.0.1.
"""
import math
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testd import Testd as _Testd, check, collect, list_tests  # noqa: E402

# --list runs no test: no programs, no temporary directory
LISTING = sys.argv[1] == "--list"
MINIMAL, AGENT, TESTD = (None,) * 3 if LISTING else sys.argv[1:4]
TMP = None if LISTING else tempfile.mkdtemp(prefix="hscan-examples-test-")


# ---- minimal ----

def minimal_lines(t):
    """Input lines and the exact output line each must give."""
    return [
        (f"http://fast.test:{t.http}/", f"http://fast.test:{t.http}/ 200"),
        # bare host:port: https first, the plain server answers the
        # ClientHello in plain text, so it falls back to http
        (f"fast.test:{t.http}", f"fast.test:{t.http} 200"),
        (f"https://valid.test:{t.https}/",
         f"https://valid.test:{t.https}/ 200"),
        (f"http://x.notfound.test:{t.http}/",
         f"http://x.notfound.test:{t.http}/ 404"),
        ("nx.test", "nx.test dns_nxdomain"),
        ("  bad host!  ", "bad host! invalid_target"),
    ]


def run_minimal(t, args, stdin_text, env_extra):
    env = dict(os.environ, **env_extra)
    return subprocess.run([MINIMAL] + args, input=stdin_text, env=env,
                          capture_output=True, text=True, timeout=60)


def test_minimal(t):
    pairs = minimal_lines(t)
    path = os.path.join(TMP, "list.txt")
    with open(path, "w") as f:       # blank and comment lines: no output
        f.write("# a comment\n\n" + "\n".join(p[0] for p in pairs) + "\n")
    env = {"HSCAN_RESOLVERS": t.dns, "HSCAN_CA_FILE": t.ca}
    r = run_minimal(t, [path], None, env)
    check(r.returncode == 0 and r.stderr == "",
          f"exit {r.returncode}: {r.stderr}")
    got = r.stdout.splitlines()
    want = [p[1] for p in pairs]
    # lines come in completion order: compare as multisets
    check(sorted(got) == sorted(want), f"output {got}, want {want}")
    # stdin, without the CA: the HTTPS target fails verification
    r = run_minimal(t, [], f"https://valid.test:{t.https}/\r\n",
                    {"HSCAN_RESOLVERS": t.dns})
    check(r.returncode == 0 and r.stdout ==
          f"https://valid.test:{t.https}/ tls_cert_invalid\n",
          f"stdin: exit {r.returncode}, {r.stdout!r} {r.stderr!r}")
    r = run_minimal(t, ["/nonexistent/list"], None, env)
    check(r.returncode == 1 and "/nonexistent/list" in r.stderr,
          f"missing file: exit {r.returncode}")


# ---- the text exposition format, strictly ----

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
VALUE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z"
                   r"|[+-]?Inf\Z|NaN\Z")
TYPES = ("counter", "gauge", "summary", "histogram", "untyped")


def parse_labels(s, i, where):
    """Parse `{name="value",...}` from s[i] == '{'; return (dict, end)."""
    labels = {}
    i += 1
    while s[i] != "}":
        eq = s.index("=", i)
        name = s[i:eq]
        check(LABEL.match(name) and not name.startswith("__"),
              f"{where}: bad label name {name!r}")
        check(s[eq + 1] == '"', f"{where}: label value not quoted")
        i, val = eq + 2, []
        while s[i] != '"':
            if s[i] == "\\":
                esc = {"\\": "\\", '"': '"', "n": "\n"}.get(s[i + 1])
                check(esc is not None, f"{where}: bad escape \\{s[i + 1]}")
                val.append(esc)
                i += 2
            else:
                val.append(s[i])
                i += 1
        check(name not in labels, f"{where}: label {name} twice")
        labels[name] = "".join(val)
        i += 1
        if s[i] == ",":
            i += 1
            check(s[i] != "}", f"{where}: trailing comma")
        else:
            check(s[i] == "}", f"{where}: expected , or }}")
    return labels, i + 1


def parse_prom(text):
    """Every sample preceded by its family's HELP and TYPE, each family
    in one block, names and labels valid, counters named *_total, values
    floats, no duplicate series.  Returns {name: [(labels, value)]}."""
    check(text.endswith("\n"), "file does not end with a newline")
    fams, meta, done, series = {}, {}, set(), set()
    current = None
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {n}"
        if line.startswith("#"):
            m = re.match(r"# (HELP|TYPE) (\S+) (.+)\Z", line)
            check(m, f"{where}: bad comment {line!r}")
            kind, name, rest = m.groups()
            check(NAME.match(name), f"{where}: bad name {name}")
            check(name not in done, f"{where}: family {name} split")
            if name != current:
                if current is not None:
                    done.add(current)
                current = name
                meta[name] = {}
            check(kind not in meta[name], f"{where}: second {kind}")
            check(not (kind == "HELP" and name in fams),
                  f"{where}: HELP after samples")
            if kind == "TYPE":
                check(rest in TYPES and name not in fams,
                      f"{where}: TYPE {rest!r} or after samples")
                check((rest == "counter") == name.endswith("_total"),
                      f"{where}: {name} is a {rest}")
            else:
                check("\\" not in rest.replace("\\\\", "").replace(
                    "\\n", ""), f"{where}: bad HELP escape")
            meta[name][kind] = rest
            continue
        m = re.match(r"([^{ ]+)(.*)\Z", line)
        check(m, f"{where}: empty or bad line {line!r}")
        name, rest = m.groups()
        check(NAME.match(name), f"{where}: bad metric name {name!r}")
        check(name == current and set(meta[name]) == {"HELP", "TYPE"},
              f"{where}: {name} has no HELP and TYPE before it")
        labels = {}
        if rest.startswith("{"):
            labels, end = parse_labels(rest, 0, where)
            rest = rest[end:]
        parts = rest.split(" ")
        check(len(parts) == 2 and parts[0] == "" and VALUE.match(parts[1]),
              f"{where}: bad value in {line!r}")
        key = (name, tuple(sorted(labels.items())))
        check(key not in series, f"{where}: duplicate series {key}")
        series.add(key)
        fams.setdefault(name, []).append((labels, float(parts[1])))
    for name in meta:
        check(name in fams, f"family {name} has no samples")
        if name.endswith("_info"):
            check(all(v == 1 for _, v in fams[name]), f"{name} != 1")
    return fams


def value(fams, name, **labels):
    hits = [v for lab, v in fams.get(name, []) if lab == labels]
    check(len(hits) == 1, f"{name}{labels}: {len(hits)} samples")
    return hits[0]


def absent(fams, name, target):
    return not [1 for lab, _ in fams.get(name, []) if lab["target"] ==
                target]


def test_prom_parser(t):
    """The parser itself must reject what the format forbids."""
    good = "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"\\\"\"} 1\n"
    check(parse_prom(good)["a_total"] == [({"l": '"'}, 1.0)], "good file")
    for bad in [good.replace("counter", "gauge"),          # _total gauge
                good.replace("# HELP a_total x\n", ""),     # no HELP
                good.replace("\\\"\"", "\\x\""),            # bad escape
                good.replace(" 1\n", " one\n"),              # value
                good + "a_total{l=\"\\\"\"} 2\n",           # duplicate
                good[:-1],                                  # no newline
                good + "# HELP b x\n# TYPE b gauge\nb 1\na_total{} 3\n"]:
        try:
            parse_prom(bad)
        except (AssertionError, ValueError, IndexError):
            continue
        raise AssertionError(f"parser accepted {bad!r}")


# ---- agent ----

def agent_args(t, out, rounds):
    odd = 'bad"h\\o\nst'                  # label escaping: " \ newline
    return [AGENT, "--out", out, "--rounds", str(rounds), "--interval", "1",
            "--resolvers", t.dns, "--ca-file", t.ca, "--follow", "3",
            f"http://fast.test:{t.http}", f"https://valid.test:{t.https}",
            "nx.test", odd,
            "--path", "/b/notfound", f"http://nf.fast.test:{t.http}",
            "--path", "/chain-2", f"http://chain.fast.test:{t.http}",
            "--timeout-ms", "500", "--path", "/",
            f"http://hang.test:{t.http}"]


def ca_not_after(path):
    cert = ssl._ssl._test_decode_cert(path)   # no third-party module
    return ssl.cert_time_to_seconds(cert["notAfter"])


class Watcher(threading.Thread):
    """Reads the .prom file as often as it can while the agent runs: with
    an atomic rename every read is a whole file of one round."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.stop, self.reads, self.inodes = path, False, 0, set()
        self.error = None

    def run(self):
        while not self.stop and self.error is None:
            try:
                with open(self.path) as f:
                    self.inodes.add(os.fstat(f.fileno()).st_ino)
                    text = f.read()
            except FileNotFoundError:
                time.sleep(0.002)
                continue
            try:
                value(parse_prom(text), "hscan_agent_rounds_total")
                self.reads += 1
            except Exception as e:
                self.error = f"read {self.reads + 1}: {e!r}"
            time.sleep(0.002)


def test_agent(t):
    out = os.path.join(TMP, "agent.prom")
    w = Watcher(out)
    w.start()
    start = time.monotonic()
    r = subprocess.run(agent_args(t, out, 2), capture_output=True,
                       text=True, timeout=60)
    secs = time.monotonic() - start
    w.stop = True
    w.join(5)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    rounds = re.findall(r"^agent: round (\d+): 3 of 7 up", r.stderr, re.M)
    check(rounds == ["1", "2"], f"stderr: {r.stderr}")
    check(w.error is None, f"concurrent reader: {w.error}")
    # round 1's file (seen while round 2 ran) and round 2's are two inodes
    w.inodes.add(os.stat(out).st_ino)
    check(w.reads > 0 and len(w.inodes) == 2,
          f"{w.reads} reads, inodes {w.inodes}: not replaced by rename")
    check(sorted(os.listdir(TMP)).count("agent.prom") == 1 and
          not [f for f in os.listdir(TMP) if ".tmp." in f], "temp file left")
    fams = parse_prom(open(out).read())
    fast, tls = f"http://fast.test:{t.http}", f"https://valid.test:{t.https}"
    nf, chain = f"http://nf.fast.test:{t.http}", \
        f"http://chain.fast.test:{t.http}"
    hang, odd = f"http://hang.test:{t.http}", 'bad"h\\o\nst'
    want = {fast: (1, 200, None), tls: (1, 200, None),
            "nx.test": (0, 0, "dns_nxdomain"), odd: (0, 0, "invalid_target"),
            nf: (0, 404, None), chain: (1, 200, None),
            hang: (0, 0, "read_timeout")}    # the 500 ms budget, reading
    for tg, (ok, status, err) in want.items():
        check(value(fams, "hscan_probe_success", target=tg) == ok,
              f"success {tg}")
        check(value(fams, "hscan_probe_http_status_code", target=tg) ==
              status, f"status {tg}")
        if err:
            check(value(fams, "hscan_probe_error_info", target=tg,
                        error=err) == 1, f"error {tg}")
        else:
            check(absent(fams, "hscan_probe_error_info", tg), f"err {tg}")
        total = value(fams, "hscan_probe_duration_seconds", target=tg)
        limit = 0.5 if tg == hang else 15      # per-target / default
        check((total == 0) if tg == odd else 0 < total < limit + 0.5,
              f"duration {tg} {total}")
    # phases: seconds, only those that happened
    ph = {(lab["target"], lab["phase"]): v for lab, v in
          fams["hscan_probe_phase_duration_seconds"]}
    check(set(p for tg, p in ph if tg == fast) == {"dns", "connect", "ttfb"},
          "http phases")
    check(set(p for tg, p in ph if tg == tls) ==
          {"dns", "connect", "tls", "ttfb"}, "https phases")
    check(set(p for tg, p in ph if tg == hang) == {"dns", "connect"},
          "hang phases")
    check(all(0 <= v < 1 for v in ph.values()), f"phase values {ph}")
    check(all(ph[(tg, p)] > 0 for tg in (fast, tls) for p in
              ("connect", "ttfb")) and ph[(tls, "tls")] > 0, "phases > 0")
    check(0.45 <= value(fams, "hscan_probe_duration_seconds", target=hang),
          "per-target timeout 500 ms")
    check(value(fams, "hscan_probe_http_redirects", target=chain) == 2 and
          value(fams, "hscan_probe_http_redirects", target=fast) == 0,
          "redirects")
    # TLS facts for the HTTPS target only
    check(value(fams, "hscan_probe_tls_verified", target=tls) == 1 and
          len(fams["hscan_probe_tls_verified"]) == 1, "verified")
    vers = fams["hscan_probe_tls_version_info"]
    check(len(vers) == 1 and vers[0][0]["version"] in ("TLSv1.2",
                                                       "TLSv1.3"),
          f"version {vers}")
    exp = value(fams, "hscan_probe_tls_cert_expiry_timestamp_seconds",
                target=tls)
    # the leaf is valid from a day before testd started to 90 days after
    check(abs(exp - (t.started + 90 * 86400)) < 600, f"expiry {exp}")
    check(exp <= ca_not_after(t.ca), "leaf outlives its CA")
    check(exp == math.floor(exp), "expiry is whole seconds")
    # agent and scanner-wide counters over the two rounds
    check(value(fams, "hscan_agent_rounds_total") == 2, "rounds")
    check(value(fams, "hscan_agent_rounds_skipped_total") == 0, "skipped")
    check(0.45 <= value(fams, "hscan_agent_round_duration_seconds") < 5,
          "round duration")
    check(value(fams, "hscan_scanner_targets_submitted_total") == 14,
          "submitted")
    res = {lab["result"]: v for lab, v in fams["hscan_scanner_results_total"]}
    check(res == {"ok": 8, "dns_nxdomain": 2, "invalid_target": 2,
                  "read_timeout": 2}, f"results {res}")
    check(value(fams, "hscan_scanner_sent_bytes_total") > 0 and
          value(fams, "hscan_scanner_received_bytes_total") > 0, "bytes")
    print(f"2 rounds in {secs:.2f} s; the reader parsed {w.reads} whole "
          f"files, {len(fams)} families")


def test_agent_sigterm(t):
    """SIGTERM mid-round: the hanging probe gets its canceled record, the
    agent exits 0 at once and writes no file for the broken round."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        out = os.path.join(TMP, f"sig{int(sig)}.prom")
        p = subprocess.Popen([AGENT, "--out", out, "--interval", "1",
                              "--resolvers", t.dns,
                              f"http://fast.test:{t.http}",
                              "--timeout-ms", "60000",
                              f"http://hang.test:{t.http}"],
                             stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)                # round 1 waits for the hang
        check(p.poll() is None, "agent exited early")
        sent = time.monotonic()
        p.send_signal(sig)
        err = p.communicate(timeout=10)[1]
        secs = time.monotonic() - sent
        name = signal.Signals(sig).name
        check(p.returncode == 0, f"{name}: exit {p.returncode}: {err}")
        check(secs < 2, f"{name}: took {secs:.2f} s")
        check(f"agent: stopped by {name}; in-flight probes canceled: 1\n"
              in err,
              f"{name}: stderr {err!r}")
        check("round" not in err and not os.path.exists(out),
              f"{name}: a file for an unfinished round")
        check(not [f for f in os.listdir(TMP) if ".tmp." in f],
              f"{name}: temp file left")
        print(f"{name}: exit 0 after {secs * 1000:.0f} ms")


def test_agent_usage(t):
    def run(args):
        return subprocess.run([AGENT] + args, capture_output=True,
                              text=True, timeout=20)
    out = os.path.join(TMP, "u.prom")
    for args in [[], ["--out", out], ["fast.test"],
                 ["--out", out, "--rounds", "x", "fast.test"],
                 ["--out", out, "--path", "nos", "fast.test"],
                 ["--out", out, "fast.test", "--timeout-ms", "5"],
                 ["--out", out, "fast.test", "fast.test"],
                 ["--out", out, "--bogus", "1", "fast.test"]]:
        r = run(args)
        check(r.returncode == 2 and r.stderr, f"{args}: exit {r.returncode}")
    check(not os.path.exists(out), "usage error wrote a file")
    # an unwritable directory: the round still runs, exit 1 at the end
    r = run(["--out", "/nonexistent/dir/x.prom", "--rounds", "1",
             "--resolvers", t.dns, f"http://fast.test:{t.http}"])
    check(r.returncode == 1 and "writing the file failed" in r.stderr,
          f"unwritable: exit {r.returncode}: {r.stderr}")


TESTS = collect(globals())


def main():
    if LISTING:
        list_tests(TESTS, 120, sys.argv[2])
        return
    names = sys.argv[4:] or list(TESTS)
    t = _Testd(TESTD, 300)
    failed = 0
    try:
        for n in names:
            try:
                TESTS[n](t)
                print(f"ok   {n}")
            except Exception as e:       # report and go on
                failed += 1
                print(f"FAIL {n}: {e!r}")
    finally:
        t.stop()
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"{len(names)} tests, {failed} failed")
    sys.exit(1 if failed else 0)


main()
