#!/usr/bin/env python3
"""hscan-cli through proxies: real ones and hostile ones.

Usage: test-proxy.py HSCAN_CLI HSCAN_TESTD

Real programs from Debian (tools/install-deps.sh installs them), started
here on free loopback ports: tinyproxy (HTTP CONNECT; one without and
one with BasicAuth) and microsocks (SOCKS5; one without and one with
username/password).  Through each, http:// and https:// targets of
hscan-testd must answer as they do directly (status, title), with
`proxy` naming the proxy without its credentials and timing_ms.proxy
set; socks5:// resolves here (`ip` is the target's; with
--prefer-ipv6 the IPv6 address is the one sent, and no other is tried
when the proxy cannot reach it), socks5h:// and http:// do not (`ip`
and `dns` null).  Wrong or missing credentials are
proxy_auth_failed, a closed proxy port proxy_unreachable, --no-proxy
goes direct.  Hostile proxies written here (threads on loopback): one
that never answers (proxy_timeout, within --proxy-timeout), one that
answers garbage (proxy_protocol_error), one that closes in the middle
of the SOCKS5 exchange, one that refuses every SOCKS5 method
(proxy_auth_failed), one that answers CONNECT with 403 (proxy_refused)
and one with 502 (proxy_target_unreachable).  Every wait is bounded.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testd import Testd  # noqa: E402

CLI, TESTD = sys.argv[1:3]
fails = []
procs = []


def check(cond, what):
    if not cond:
        fails.append(what)
        print("FAIL", what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def need(prog, package):
    path = shutil.which(prog) or shutil.which(prog, path="/usr/sbin:/sbin")
    if not path:
        sys.exit(f"{prog} not found: install the package {package} "
                 f"(tools/install-deps.sh)")
    return path


def wait_port(port, proc, what):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited at once ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} did not listen on {port} within 10 s")


def start(argv, port, what):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    procs.append(p)
    wait_port(port, p, what)
    return p


def tinyproxy(tmp, auth=None):
    port = free_port()
    conf = os.path.join(tmp, f"tinyproxy-{port}.conf")
    with open(conf, "w") as f:
        f.write(f"Port {port}\nListen 127.0.0.1\nTimeout 20\n"
                f"MaxClients 100\nAllow 127.0.0.1\nLogLevel Critical\n")
        if auth:
            f.write(f"BasicAuth {auth[0]} {auth[1]}\n")
    start([need("tinyproxy", "tinyproxy"), "-d", "-c", conf], port,
          "tinyproxy")
    return port


def microsocks(auth=None):
    port = free_port()
    argv = [need("microsocks", "microsocks"), "-i", "127.0.0.1", "-p",
            str(port)]
    if auth:
        argv += ["-u", auth[0], "-P", auth[1]]
    start(argv, port, "microsocks")
    return port


# ---- hostile proxies ----

def serve(handler):
    """A listening socket on a free port whose connections `handler`
    takes (one thread each, daemon: they die with the test)."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)

    def loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.settimeout(10)
            threading.Thread(target=run, args=(c,), daemon=True).start()

    def run(c):
        try:
            handler(c)
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass
    threading.Thread(target=loop, daemon=True).start()
    return srv.getsockname()[1]


def silent(c):
    c.recv(4096)
    time.sleep(8)


def garbage(c):
    c.recv(4096)
    c.sendall(b"hello, I am not a proxy\r\n\r\n")


def socks_close_midway(c):
    c.recv(16)
    c.sendall(b"\x05")          # half the method reply, then the close


def socks_no_method(c):
    c.recv(16)
    c.sendall(b"\x05\xff")


def http_status(code):
    def h(c):
        c.recv(4096)
        c.sendall(b"HTTP/1.1 %d Nope\r\nContent-Length: 0\r\n\r\n" % code)
    return h


def scan(lines, *args):
    r = subprocess.run([CLI, "-q", "--max-per-ip", "0", "-c", "8", *args],
                       input="\n".join(lines) + "\n", capture_output=True,
                       text=True, timeout=60)
    if r.returncode not in (0, 1):
        sys.exit(f"hscan-cli {args}: exit {r.returncode}: {r.stderr}")
    recs = {}
    for x in r.stdout.splitlines():
        rec = json.loads(x)
        recs[rec["input"]] = rec
    check(len(recs) == len(lines), f"{len(recs)} records for {len(lines)}")
    return recs, r.stdout


def run(t, tmp):
    http = f"http://127.0.0.1:{t.http}/"
    https = f"https://127.0.0.1:{t.https}/"
    named = f"http://fast.test:{t.http}/"
    common = ["--ca-file", t.ca, "--resolver", t.dns, "--timeout", "15"]
    direct, _ = scan([http, https], *common)

    tp = tinyproxy(tmp)
    tp_auth = tinyproxy(tmp, ("bob", "pw1"))
    ms = microsocks()
    ms_auth = microsocks(("alice", "s3cret"))
    good = [(f"http://127.0.0.1:{tp}", f"http://127.0.0.1:{tp}", False),
            (f"http://bob:pw1@127.0.0.1:{tp_auth}",
             f"http://127.0.0.1:{tp_auth}", False),
            (f"socks5://127.0.0.1:{ms}", f"socks5://127.0.0.1:{ms}", True),
            (f"socks5h://127.0.0.1:{ms}", f"socks5h://127.0.0.1:{ms}",
             False),
            (f"socks5://alice:s3cret@127.0.0.1:{ms_auth}",
             f"socks5://127.0.0.1:{ms_auth}", True)]
    for url, shown, local in good:
        lines = [http, https] + ([named] if local else [])
        recs, out = scan(lines, *common, "--proxy", url)
        check("s3cret" not in out and "pw1" not in out,
              f"{shown}: credentials in the output")
        for line in lines:
            r = recs.get(line, {})
            want = direct.get(line, direct[http])
            check(r.get("error") is None and
                  r.get("status") == want["status"] and
                  r.get("title") == want["title"],
                  f"{shown} {line}: {r.get('error')} "
                  f"{r.get('error_detail')} {r.get('status')}")
            check(r.get("proxy") == shown, f"{shown}: proxy {r.get('proxy')}")
            check((r.get("timing_ms") or {}).get("proxy") is not None,
                  f"{shown}: no timing_ms.proxy")
            if local:
                check(r.get("ip") == "127.0.0.1", f"{shown}: ip {r.get('ip')}")
            else:
                check(r.get("ip") is None and r.get("dns") is None,
                      f"{shown}: ip {r.get('ip')} dns {r.get('dns')}")

    # --prefer-ipv6/--prefer-ipv4 behind socks5://: the preferred
    # family's address is the one sent, nothing races or falls back
    # (hscan-testd serves 127.0.0.1 only, so microsocks cannot reach ::1)
    both = f"http://both.test:{t.http}/"
    for pref, ip, err in [("--prefer-ipv4", "127.0.0.1", None),
                          ("--prefer-ipv6", "::1",
                           "proxy_target_unreachable")]:
        recs, _ = scan([both], *common, "--proxy",
                       f"socks5://127.0.0.1:{ms}", pref)
        r = recs.get(both, {})
        check(r.get("ip") == ip and r.get("error") == err,
              f"socks5 {pref}: {r.get('ip')} {r.get('error')} "
              f"({r.get('error_detail')})")

    # credentials wrong or missing; a closed port; --no-proxy
    cases = [(f"http://bob:nope@127.0.0.1:{tp_auth}", "proxy_auth_failed"),
             (f"http://127.0.0.1:{tp_auth}", "proxy_auth_failed"),
             (f"socks5://alice:nope@127.0.0.1:{ms_auth}",
              "proxy_auth_failed"),
             (f"socks5://127.0.0.1:{ms_auth}", "proxy_auth_failed"),
             (f"socks5://127.0.0.1:{free_port()}", "proxy_unreachable")]
    hostile = [(silent, "http", "proxy_timeout"),
               (silent, "socks5", "proxy_timeout"),
               (garbage, "http", "proxy_protocol_error"),
               (garbage, "socks5", "proxy_protocol_error"),
               (socks_close_midway, "socks5", "proxy_protocol_error"),
               (socks_no_method, "socks5", "proxy_auth_failed"),
               (http_status(403), "http", "proxy_refused"),
               (http_status(502), "http", "proxy_target_unreachable")]
    for h, scheme, err in hostile:
        cases.append((f"{scheme}://127.0.0.1:{serve(h)}", err))
    for url, err in cases:
        t0 = time.monotonic()
        recs, _ = scan([http], *common, "--proxy", url, "--proxy-timeout",
                       "1")
        took = time.monotonic() - t0
        r = recs.get(http, {})
        check(r.get("error") == err and r.get("status") is None,
              f"{url}: {r.get('error')} ({r.get('error_detail')}), "
              f"want {err}")
        check(took < 5, f"{url}: took {took:.1f} s")
    dead = serve(silent)
    recs, _ = scan([http], *common, "--proxy", f"http://127.0.0.1:{dead}",
                   "--no-proxy", "example.org,127.0.0.0/8")
    r = recs.get(http, {})
    check(r.get("error") is None and r.get("proxy") is None,
          f"--no-proxy: {r.get('error')} {r.get('proxy')}")
    # a bad URL is a usage error
    bad = subprocess.run([CLI, "--proxy", "ftp://x"], input="",
                         capture_output=True, text=True, timeout=10)
    check(bad.returncode == 2 and "proxy" in bad.stderr,
          f"--proxy ftp://x: exit {bad.returncode} {bad.stderr!r}")


def main():
    t = Testd(TESTD, 120)
    try:
        with tempfile.TemporaryDirectory(prefix="hscan-proxy-") as tmp:
            run(t, tmp)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        t.stop()
    if fails:
        sys.exit(f"{len(fails)} checks failed")
    print("all proxy checks passed")


if __name__ == "__main__":
    main()
