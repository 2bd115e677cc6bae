"""test-cli.py: filters, CIDR input and --ports (docs/cli.md "Picking out
hosts", "Input").

Run through test-cli.py, which imports every test_* here."""
import os
import re
import signal
import subprocess
import time

from cli_common import (CLI, TESTD, PLAIN, TMP, LISTING, check, write_list,
                        run, records)

HAVE_PCRE2 = not LISTING and "pcre2" in subprocess.run(
    [CLI, "--version"], capture_output=True, text=True).stdout


# ---- picking out hosts and expanding input (docs/cli.md "Picking out
# hosts", "Input"): filters, CIDR ranges, --ports ----

def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def written(r):
    return sorted(x["input"] for x in records(r.stdout))


def test_filters(t):
    """Each filter writes exactly the records it names; the summary
    still counts all eight targets."""
    h, closed = t.http, closed_port()
    fast, nf, err = (f"fast.test:{h}", f"notfound.test:{h}",
                     f"error.test:{h}")
    s503, r301, nx = f"status-503.test:{h}", f"r301.test:{h}", "nx.test"
    ref, bad = f"127.0.0.1:{closed}", "bad host!"
    lst = write_list("filters.txt", [fast, nf, err, s503, r301, nx, ref,
                                     bad])
    cases = [
        (["--match-status", "200"], [fast]),
        (["--match-status", "300-399,404"], [nf, r301]),
        (["--match-status", "5xx"], [err, s503]),
        (["--match-status", "0"], [bad, nx, ref]),
        (["--match-status", "200", "--match-status", "0"],
         [bad, fast, nx, ref]),
        (["--filter-status", "2xx,0"], [nf, err, s503, r301]),
        (["--match-status", "200-599", "--filter-status", "404,5xx"],
         [fast, r301]),
        # status-NNN replies carry no Server field
        (["--match-header", "Server: ^hscan-test$"], [fast, nf, err, r301]),
        # any value of a repeated field; the name in any case
        (["--match-header", "x-dup: ^2$"], [fast]),
        (["--match-header", "Location:"], [r301]),
        (["--match-header", "Server: hscan", "--match-header",
          "Content-Type: ^text/plain"], [nf, err]),
        (["--match-error", "dns_nxdomain,connect_refused"], [nx, ref]),
        (["--match-error", "invalid_target", "--match-error",
          "dns_nxdomain"], [bad, nx]),
        (["--only-ok"], [fast, nf, err, s503, r301]),
        (["--only-ok", "--match-status", "4xx,5xx"], [nf, err, s503]),
    ]
    if not HAVE_PCRE2:      # --match-header needs the pcre2 feature
        cases = [c for c in cases if "--match-header" not in c[0]]
    for args, want in cases:
        r = run(["--resolver", t.dns, *args, lst])
        check(r.returncode == 0, f"{args}: exit {r.returncode}: {r.stderr}")
        check(written(r) == sorted(want),
              f"{args}: wrote {written(r)}, want {sorted(want)}")
        check("hscan: 8 targets, 5 ok, errors: " in r.stderr and
              "dns_nxdomain=1" in r.stderr and
              "connect_refused=1" in r.stderr and
              "invalid_target=1" in r.stderr,
              f"{args}: summary must count all: {r.stderr}")
    bad_args = [
        (["--match-error", "nope"], ["--match-error", "nope",
                                     "dns_nxdomain", "canceled"]),
        (["--match-error", "dns_nxdomain,"], ["--match-error"]),
        (["--match-error", "invalid_argument"], ["invalid_argument"]),
        (["--match-status", "5-3"], ["--match-status", "5-3"]),
        (["--match-status", "1000"], ["--match-status"]),
        (["--match-status", "2xx,"], ["--match-status"]),
        (["--match-status", ""], ["--match-status"]),
        (["--filter-status", "abc"], ["--filter-status", "abc"]),
        (["--match-header", "nocolon"], ["--match-header", "nocolon"]
         if HAVE_PCRE2 else ["--match-header", "pcre2"]),
        (["--match-header", "Bad Name: x"], ["not an HTTP token"]
         if HAVE_PCRE2 else ["pcre2"]),
        (["--match-header", "X: ("], ["regular expression"]
         if HAVE_PCRE2 else ["pcre2"]),
        (["--only-ok", "--match-error", "timeout"], ["--only-ok",
                                                     "--match-error"]),
        (["--match-status", "200", "--filter-status", "2xx"],
         ["nothing would be written"]),
        (["--only-ok", "--match-status", "0"], ["--only-ok"]),
        (["--resume", os.path.join(TMP, "f.jsonl"), "--scheme", "both",
          "--match-status", "200"], ["--resume", "--match-status"]),
    ]
    for args, words in bad_args:
        r = run([*args, "/dev/null"])
        check(r.returncode == 2 and r.stdout == "",
              f"{args}: exit {r.returncode}")
        check(all(w in r.stderr for w in words),
              f"{args}: message lacks {words}: {r.stderr}")
    check(not os.path.exists(os.path.join(TMP, "f.jsonl")),
          "a refused --resume must not create its file")


class AnyLoopback:
    """hscan-testd with --any-loopback: its HTTP server answers on every
    127.0.0.0/8 address."""
    def __init__(self):
        self.p = subprocess.Popen([TESTD, "--lifetime", "300",
                                   "--any-loopback"],
                                  stdout=subprocess.PIPE, text=True)
        self.dns = self.p.stdout.readline().split()[1]
        self.http = int(self.p.stdout.readline().split()[1].split(":")[1])

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=10)


def test_cidr(t):
    """Ranges expand into one target per address, in order; refused
    ranges give one invalid_target record each and nothing else breaks;
    --resume matches the expanded targets."""
    a = AnyLoopback()
    try:
        cidr_checks(a, a.http, closed_port())
    finally:
        a.stop()


def cidr_checks(a, h, closed):
    lst = write_list("cidr16.txt", ["127.0.0.0/28"])
    r = run(["-c", "1", "--ports", str(h), lst])
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    recs = records(r.stdout)
    want = [f"127.0.0.{i}:{h}" for i in range(16)]
    check([x["input"] for x in recs] == want,
          f"/28 inputs {[x['input'] for x in recs]}")
    check([x["ip"] for x in recs] == [f"127.0.0.{i}" for i in range(16)],
          "each record connected to its own address")
    check(all(x["status"] == 200 for x in recs), "/28 all answered")
    check("hscan: 16 targets, 16 ok," in r.stderr, f"summary {r.stderr}")
    lines = [f"127.0.1.6/30:{h}", f"127.0.2.9/32:{h}", "127.0.0.1/33",
             "127.0.0.1/8080", f"http://127.0.0.1:{h}/28", "10.0.0.0/7",
             "2001:db8::/64", "[::1]/200:80", f"127.0.3.1/31:{closed}",
             "127.0.0.1/24:0", f"fast.test:{h}"]
    lst = write_list("cidr-mixed.txt", lines)
    r = run(["--resolver", a.dns, lst])
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    recs = {x["input"]: x for x in records(r.stdout)}
    big = "CIDR range larger than 2^24 addresses (/8 for IPv4, /104 for IPv6)"
    refused = {"127.0.0.1/33": "CIDR prefix length above 32",
               "127.0.0.1/8080": "CIDR prefix length above 32",
               "10.0.0.0/7": big, "2001:db8::/64": big,
               "[::1]/200:80": "CIDR prefix length above 128",
               "127.0.0.1/24:0": "port is not a number from 1 to 65535"}
    ok = [f"127.0.1.{i}:{h}" for i in range(4, 8)]
    ok += [f"127.0.2.9:{h}", f"http://127.0.0.1:{h}/28"]
    want = sorted(ok + list(refused) + [f"127.0.3.0:{closed}",
                                        f"127.0.3.1:{closed}",
                                        f"fast.test:{h}"])
    check(sorted(recs) == want, f"inputs {sorted(recs)}, want {want}")
    for line, why in refused.items():
        x = recs[line]
        check(x["error"] == "invalid_target" and x["error_detail"] == why,
              f"{line}: {x['error']} {x['error_detail']}")
    for line in ok:
        check(recs[line]["status"] == 200, f"{line}: {recs[line]['error']}")
    check(recs[f"http://127.0.0.1:{h}/28"]["url"].endswith("/28"),
          "a URL is never a range")
    check(recs[f"127.0.3.0:{closed}"]["error"] == "connect_refused",
          "closed port")
    check(recs[f"fast.test:{h}"]["status"] == 200,
          "a plain line still goes through")
    check(f"hscan: {len(want)} targets, 7 ok," in r.stderr and
          "invalid_target=6" in r.stderr, f"summary {r.stderr}")
    # --resume: the file holds expanded targets; a second run with one
    # more range scans only that range
    out = os.path.join(TMP, "cidr-resume.jsonl")
    first = write_list("cidr-r1.txt", [f"127.0.4.0/29:{h}", "127.0.0.1/33"])
    r = run(["--resume", out, first])
    check(r.returncode == 0 and len(records(open(out).read())) == 9,
          f"first run: {r.stderr}")
    second = write_list("cidr-r2.txt", [f"127.0.4.0/29:{h}", "127.0.0.1/33",
                                        f"127.0.5.0/30:{h}"])
    r = run(["--resume", out, second])
    check(r.returncode == 0, f"resume exit {r.returncode}: {r.stderr}")
    check(", 9 inputs already done in" in r.stderr and
          "hscan: 4 targets, 4 ok" in r.stderr, f"resume: {r.stderr}")
    got = sorted(x["input"] for x in records(open(out).read()))
    check(got == sorted([f"127.0.4.{i}:{h}" for i in range(8)] +
                        [f"127.0.5.{i}:{h}" for i in range(4)] +
                        ["127.0.0.1/33"]), f"resumed file: {got}")


def test_ports(t):
    """--ports gives one target per port for every line without one;
    lines naming a port keep it; the closed port is connect_refused."""
    h, c = t.http, closed_port()
    lst = write_list("ports.txt", ["fast.test", "127.0.0.1", "# comment", "",
                                   f"notfound.test:{h}", "http://fast.test/x",
                                   "fast.test?q", "bad host!"])
    r = run(["-c", "1", "--resolver", t.dns, "--ports", f"{h},{c}", lst])
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    recs = records(r.stdout)
    want = [f"fast.test:{h}", f"fast.test:{c}", f"127.0.0.1:{h}",
            f"127.0.0.1:{c}", f"notfound.test:{h}",
            f"http://fast.test:{h}/x", f"http://fast.test:{c}/x",
            f"fast.test:{h}?q", f"fast.test:{c}?q", f"bad host!:{h}",
            f"bad host!:{c}"]
    check([x["input"] for x in recs] == want,
          f"inputs {[x['input'] for x in recs]}")
    for x in recs:
        port = x["input"].split(":")[-1].split("/")[0].split("?")[0]
        if x["input"].startswith("bad"):
            check(x["error"] == "invalid_target", x["input"])
        elif port == str(c):
            check(x["error"] == "connect_refused" and x["port"] == c,
                  f"{x['input']}: {x['error']}")
        else:
            check(x["status"] in (200, 404) and x["port"] == h,
                  f"{x['input']}: {x['error']}")
    check(recs[5]["url"] == f"http://fast.test:{h}/x", "URL keeps its path")
    check("hscan: 11 targets, 5 ok," in r.stderr, f"summary {r.stderr}")
    for v in ["0", "65536", "80,80", "80-79", "", "a", "80,", "1-10,5"]:
        r = run(["--ports", v, "/dev/null"])
        check(r.returncode == 2 and "--ports" in r.stderr,
              f"--ports {v!r}: exit {r.returncode}: {r.stderr}")
    r = run(["--ports", "80", "--ports", "443", "/dev/null"])
    check(r.returncode == 2 and "twice" in r.stderr, "--ports twice")


def peak_rss(err):
    m = re.search(r"peak RSS ([0-9.]+) MiB", err)
    check(m is not None, f"no peak RSS in summary: {err}")
    return float(m.group(1))


def test_cidr_rss(t):
    """A /8 (16,777,216 targets) is an iterator: interrupted after 3 s
    its peak RSS is that of a run of a small range at the same -c.
    Loopback only, against a closed port (connect_refused at once)."""
    c = closed_port()
    san = os.environ.get("HSCAN_SANITIZE", "none") not in ("none", "")
    small_len, small_n = (18, 16384) if san else (16, 65536)
    args = [CLI, *PLAIN, "-c", "2000", "-o", "/dev/null", "--ports", str(c),
            "-"]
    r = subprocess.run(args, input=f"127.0.0.0/{small_len}\n",
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and
          f"hscan: {small_n} targets, 0 ok, errors: connect_refused="
          f"{small_n}," in r.stderr, f"/{small_len}: {r.stderr}")
    small = peak_rss(r.stderr)
    p = subprocess.Popen(args, stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.stdin.write("127.0.0.0/8\n")
    p.stdin.close()
    time.sleep(3)
    p.send_signal(signal.SIGINT)
    p.wait(timeout=30)
    err = p.stderr.read()
    check(p.returncode == 130, f"/8: exit {p.returncode}: {err}")
    m = re.search(r"hscan: (\d+) targets", err)
    check(m is not None and int(m.group(1)) > 2000, f"/8: {err}")
    big = peak_rss(err)
    print(f"peak RSS: /{small_len} ({small_n} targets) {small:.1f} MiB, "
          f"/8 stopped after {m.group(1)} targets {big:.1f} MiB")
    # ASan's quarantine grows with allocations: no RSS figure there
    check(san or big <= small * 1.25 + 2,
          f"/8 grew RSS: {big:.1f} MiB against {small:.1f} MiB")
