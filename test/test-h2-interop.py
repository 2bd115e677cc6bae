#!/usr/bin/env python3
"""Interop test: hscan-cli's HTTP/2 against real servers, curl as the oracle.

Usage: test-h2-interop.py CLI

Starts, on 127.0.0.1 ports found free by binding port 0, with a test CA
and server certificate made by the openssl CLI in a temporary directory:

  nghttpd   TLS, h2 only, a small htdocs directory (/, a 404, a 301)
  nginx     one process (master_process off, daemon off), four listeners:
            `ssl http2`, `ssl` (no h2: ALPN offering only h2 is refused
            with alert no_application_protocol, nginx >= 1.21.4),
            `http2` (h2c, prior knowledge), and add_header lines so the
            header list has order and duplicates to keep
  s_server  openssl s_server -www: TLS without ALPN (selects nothing)

and reads each URL with curl (`-sS -D - -o /dev/null`) and hscan-cli
(JSON Lines), then compares, record by record: `status`, `headers`
(names and values in order; Date by presence only, the requests are not
the same instant), `http_version`, and for HTTP/2 `reason` null, the
`h2` object, `tls.alpn` "h2"; the title of each 200 page.  The modes:

  default     h2 from nghttpd and nginx (vs curl --http2); HTTP/1.1 from
              the nginx listener without h2 (curl --http2 falls back too)
  --http1.1   HTTP/1.1 from nginx's h2 listener (vs curl --http1.1)
  --http2     h2 from nginx; error h2_not_negotiated from the listener
              without h2 and from s_server
  --h2c       h2 with prior knowledge from nginx (vs curl
              --http2-prior-knowledge)
  --compressed  nginx's gzip over h2 and h2c, decoded: the body's SHA-256
              against curl --compressed's bytes (with zlib built in)

A missing program is a failure naming its Debian package
(tools/install-deps.sh installs them), never a skip.  Every wait is
bounded (DEADLINE for the whole run); the servers are killed at the end
whatever happened, and their logs are printed when a check fails.
"""
import difflib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DEADLINE = 100          # seconds for the whole run (meson gives 120)
START_WAIT = 10         # seconds for one server to listen
START_TRIES = 3         # a port taken between our probe and the server
CURL_MAX_TIME = 10
TITLE = "hscan h2 interop"
INDEX = (f"<!doctype html>\n<html><head><title>{TITLE}</title></head>\n"
         "<body><p>HTTP/2 interop page.</p></body></html>\n")

# Program -> the Debian package that has it.
PROGRAMS = {"curl": "curl", "openssl": "openssl",
            "nghttpd": "nghttp2-server", "nginx": "nginx-light"}


class Fail(Exception):
    pass


def find_program(name):
    # nghttpd and nginx live in /usr/sbin, not in every user's PATH.
    path = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin"
    exe = shutil.which(name, path=path)
    if exe is None:
        raise Fail(f"{name} not found: install the Debian package "
                   f"'{PROGRAMS[name]}' (tools/install-deps.sh)")
    return exe


def run(argv, timeout, what=None):
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail(f"{what or argv[0]} ran over {timeout} s: {argv}")
    return p.returncode, p.stdout, p.stderr


# ---------------------------------------------------------------- setup

def free_ports(n):
    """n distinct ports free on 127.0.0.1 now.  All are held until all
    are known, so they differ; a server may still lose one to another
    process before it binds (start_server() tries again)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def make_certs(openssl, d):
    """A CA and a server certificate for 127.0.0.1 (SAN IP) signed by it,
    P-256 keys (fast to make).  -> (ca.pem, srv.pem, srv.key)."""
    ca, ca_key = f"{d}/ca.pem", f"{d}/ca.key"
    crt, key, csr, ext = (f"{d}/srv.pem", f"{d}/srv.key", f"{d}/srv.csr",
                          f"{d}/srv.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    steps = [
        [openssl, "req", "-x509", "-new", *ec, "-keyout", ca_key,
         "-out", ca, "-days", "2", "-subj", "/CN=hscan h2-interop CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        [openssl, "req", "-new", *ec, "-keyout", key, "-out", csr,
         "-subj", "/CN=127.0.0.1"],
        [openssl, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt],
    ]
    for argv in steps:
        rc, out, err = run(argv, 30)
        if rc != 0:
            raise Fail(f"openssl {argv[1]} exit {rc}: "
                       f"{err.decode(errors='replace').strip()}")
    return ca, crt, key


def make_htdocs(d):
    """/index.html, /sub/index.html (so /sub is nghttpd's 301 to /sub/);
    /nope.html does not exist."""
    os.makedirs(f"{d}/sub")
    for p in ("index.html", "sub/index.html"):
        with open(f"{d}/{p}", "w") as f:
            f.write(INDEX)


NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    types {{ text/html html; }}
    default_type application/octet-stream;
    # --compressed (check_compressed): gzip only when a request offers
    # it, so the other cases see the page as it is.
    gzip on;
    gzip_types text/html;
    gzip_min_length 1;
    ssl_certificate {crt};
    ssl_certificate_key {key};
    root {htdocs};
    # Order and a repeated name for the header list to keep.
    add_header X-Interop-A "one" always;
    add_header Cache-Control "no-store" always;
    add_header X-Dup 1 always;
    add_header X-Dup 2 always;
    add_header X-Interop-B "two, three" always;
    server {{
        listen 127.0.0.1:{h2} ssl http2;
        location = /redirect {{ return 301 /index.html; }}
    }}
    server {{
        listen 127.0.0.1:{h1} ssl;
    }}
    server {{
        listen 127.0.0.1:{h2c} http2;
    }}
}}
"""


class Server:
    """A server process in its own session, output to LOG."""

    def __init__(self, name, argv, log, ports, extra_logs=()):
        self.name, self.argv, self.log = name, argv, log
        self.ports, self.extra_logs = ports, list(extra_logs)
        self.out = open(log, "wb")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=self.out, stderr=subprocess.STDOUT,
                                  start_new_session=True)

    def wait_ready(self):
        """True once every port accepts a connection; False when the
        process ended first (a port taken: try others)."""
        end = time.monotonic() + START_WAIT
        todo = list(self.ports)
        while todo:
            if self.p.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", todo[0]),
                                         timeout=1).close()
                todo.pop(0)
                continue
            except OSError:
                pass
            if time.monotonic() > end:
                raise Fail(f"{self.name} not listening on {todo} after "
                           f"{START_WAIT} s\n{self.logs()}")
            time.sleep(0.05)
        # nginx retries a taken port for 2.5 s before it gives up, and
        # meanwhile another process answers there: still running?
        time.sleep(0.1)
        return self.p.poll() is None

    def stop(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(timeout=5)
            except ProcessLookupError:
                pass
        self.out.close()

    def logs(self, tail=60):
        text = []
        for path in [self.log] + self.extra_logs:
            try:
                lines = open(path, errors="replace").read().splitlines()
            except OSError:
                continue
            text.append(f"--- {self.name}: {path} (last {tail} lines, "
                        f"exit {self.p.poll()})")
            text += lines[-tail:]
        return "\n".join(text)


def start_server(name, make, nports, servers):
    """make(ports) -> Server; new ports when the process ends before it
    listens (another process took one), START_TRIES times."""
    for _ in range(START_TRIES):
        s = make(free_ports(nports))
        servers.append(s)
        if s.wait_ready():
            return s
        s.stop()
        servers.remove(s)
        last = s.logs()
    raise Fail(f"{name} did not start in {START_TRIES} tries\n{last}")


def start_all(tmp, crt, key, htdocs, servers):
    nghttpd, nginx, openssl = (find_program(p) for p in
                               ("nghttpd", "nginx", "openssl"))

    def make_nghttpd(ports):
        return Server("nghttpd", [nghttpd, "-a", "127.0.0.1", "-d", htdocs,
                                  str(ports[0]), key, crt],
                      f"{tmp}/nghttpd.log", ports)

    def make_nginx(ports):
        d = tempfile.mkdtemp(prefix="nginx-", dir=tmp)
        os.makedirs(f"{d}/tmp")
        with open(f"{d}/nginx.conf", "w") as f:
            f.write(NGINX_CONF.format(d=d, crt=crt, key=key, htdocs=htdocs,
                                      h2=ports[0], h1=ports[1],
                                      h2c=ports[2]))
        # -e: the log before the configuration is read (else a path
        # under /var/log that a user cannot write).
        return Server("nginx", [nginx, "-p", f"{d}/", "-c",
                                f"{d}/nginx.conf", "-e", f"{d}/error.log"],
                      f"{d}/stdout.log", ports, [f"{d}/error.log"])

    def make_s_server(ports):
        return Server("s_server", [openssl, "s_server", "-accept",
                                   f"127.0.0.1:{ports[0]}", "-cert", crt,
                                   "-key", key, "-www", "-quiet"],
                      f"{tmp}/s_server.log", ports)

    ng = start_server("nghttpd", make_nghttpd, 1, servers)
    nx = start_server("nginx", make_nginx, 3, servers)
    ss = start_server("s_server", make_s_server, 1, servers)
    return {"nghttpd": ng.ports[0], "nginx-h2": nx.ports[0],
            "nginx-h1": nx.ports[1], "nginx-h2c": nx.ports[2],
            "s_server": ss.ports[0]}


# ---------------------------------------------------------------- clients

def curl_head(curl, ca, mode, url):
    """curl's view of URL: {"version","status","headers"} of the final
    response from `-D -` (no 1xx expected here; the last block is
    taken).  HTTP/2 names come as received, lowercase."""
    # hscan asks HTTP/1.1 servers to close (one request a connection),
    # and nginx's Connection field answers that: ask the same.  Over
    # HTTP/2 curl drops the field (RFC 9113 8.2.2), as hscan must.
    rc, out, err = run([curl, mode, "-H", "Connection: close", "-sS",
                        "-D", "-", "-o", "/dev/null",
                        "--max-time", str(CURL_MAX_TIME), "--cacert", ca,
                        url], CURL_MAX_TIME + 10, "curl")
    if rc != 0:
        raise Fail(f"curl {mode} {url}: exit {rc}: "
                   f"{err.decode(errors='replace').strip()}")
    blocks, cur = [], None
    for line in out.decode("utf-8", "surrogateescape").split("\n"):
        line = line[:-1] if line.endswith("\r") else line
        if cur is None:
            if line:
                cur = {"line": line, "headers": []}
                blocks.append(cur)
        elif line == "":
            cur = None
        else:
            n, _, v = line.partition(":")
            cur["headers"].append([n, v.strip(" \t")])
    if not blocks:
        raise Fail(f"curl {mode} {url}: no response head in {out!r}")
    words = blocks[-1]["line"].split()
    return {"version": words[0], "status": int(words[1]),
            "headers": blocks[-1]["headers"]}


def hscan_records(cli, ca, flags, urls, tmp):
    """{url: record} from one hscan-cli run over URLS with FLAGS, or a
    string saying why there is none (hscan-cli refused the flags...)."""
    lst = f"{tmp}/targets-{len(os.listdir(tmp))}.txt"
    with open(lst, "w") as f:
        f.write("".join(u + "\n" for u in urls))
    rc, out, err = run([cli, "-q", "--ca-file", ca, "--max-per-ip", "0",
                        "--timeout", "10", *flags, lst], 60, "hscan-cli")
    if rc != 0:
        return (f"hscan-cli {' '.join(flags)} exit {rc}: "
                f"{err.decode(errors='replace').strip()[:300]}")
    recs = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        r = json.loads(line)
        recs[r["input"]] = r
    missing = [u for u in urls if u not in recs]
    if missing:
        return f"hscan-cli {' '.join(flags)} gave no record for {missing}"
    return recs


# ---------------------------------------------------------------- compare

def comparable(headers):
    """Date varies between two requests: its value is not compared, its
    presence and position are."""
    return [f"{n}: <date>" if n.lower() == "date" else f"{n}: {v}"
            for n, v in headers]


def record_problems(rec, want, title):
    """What in hscan's record disagrees with curl's view `want` (its
    version, status, headers); `title`: the page's <title>, or None."""
    p = []
    if rec.get("error") is not None:
        p.append(f"error {rec['error']} ({rec.get('error_detail')}); "
                 f"tls.alert {(rec.get('tls') or {}).get('alert')}")
    if rec.get("http_version") != want["version"]:
        p.append(f"http_version {rec.get('http_version')!r}, curl "
                 f"{want['version']!r}")
    if rec.get("status") != want["status"]:
        p.append(f"status {rec.get('status')}, curl {want['status']}")
    a = comparable(want["headers"])
    b = comparable(rec.get("headers") or [])
    if a != b:
        p.append("headers differ (- curl, + hscan):\n      " +
                 "\n      ".join(difflib.unified_diff(a, b, "curl", "hscan",
                                                      lineterm="", n=20)))
    if title is not None and rec.get("title") != title:
        p.append(f"title {rec.get('title')!r}, want {title!r}")
    tls = rec.get("tls")
    alpn = {"HTTP/2": "h2", "HTTP/1.1": "http/1.1"}.get(want["version"])
    if tls is not None and tls.get("alpn") != alpn:
        p.append(f"tls.alpn {tls.get('alpn')!r}, want {alpn!r}")
    if want["version"] == "HTTP/2":
        if rec.get("reason", "") is not None:
            p.append(f"reason {rec.get('reason')!r}, want null over HTTP/2")
        p += h2_problems(rec.get("h2", "(no key)"))
    return p


def h2_problems(h2):
    if not isinstance(h2, dict):
        return [f"h2 {h2!r}, want an object"]
    p = [f"h2 has no key {k!r}" for k in
         ("settings", "window_update", "goaway", "rst_stream") if k not in h2]
    s = h2.get("settings")
    if "settings" in h2 and not (
            isinstance(s, list) and s and
            all(isinstance(x, list) and len(x) == 2 and
                all(isinstance(y, int) for y in x) for x in s)):
        # Every server here sends a non-empty SETTINGS frame.
        p.append(f"h2.settings {s!r}, want [[id, value], ...]")
    return p


class Checks:
    def __init__(self):
        self.rows = []

    def add(self, name, problems):
        self.rows.append((name, problems))
        print(("ok   " if not problems else "FAIL ") + name, flush=True)
        for x in problems:
            print("      " + x)

    def failed(self):
        return [n for n, p in self.rows if p]


def compare_run(checks, cli, curl, ca, tmp, label, flags, cases):
    """cases: [(url, curl_mode, title)]; one hscan-cli run over them."""
    want = {}
    for url, mode, _ in cases:
        want[url] = curl_head(curl, ca, mode, url)
    recs = hscan_records(cli, ca, flags, [c[0] for c in cases], tmp)
    for url, mode, title in cases:
        name = f"{label}: {url} (curl {mode}: {want[url]['version']} " \
               f"{want[url]['status']})"
        if isinstance(recs, str):
            checks.add(name, [recs])
        else:
            checks.add(name, record_problems(recs[url], want[url],
                                             title if want[url]["status"]
                                             == 200 else None))
    return want


def check_refused(checks, cli, ca, tmp, urls):
    """--http2 against servers that do not pick h2."""
    recs = hscan_records(cli, ca, ["--http2"], urls, tmp)
    for url in urls:
        name = f"--http2 without h2: {url} -> error h2_not_negotiated"
        if isinstance(recs, str):
            checks.add(name, [recs])
            continue
        r, p = recs[url], []
        if r.get("error") != "h2_not_negotiated":
            p.append(f"error {r.get('error')!r} ({r.get('error_detail')}); "
                     f"tls.alert {(r.get('tls') or {}).get('alert')}, "
                     f"tls.alpn {(r.get('tls') or {}).get('alpn')}")
        if r.get("status") is not None:
            p.append(f"status {r.get('status')}, want null")
        checks.add(name, p)


def check_compressed(checks, cli, curl, ca, tmp, cases):
    """cases: [(url, curl_mode, hscan_flags)]: hscan-cli --compressed
    decodes nginx's gzip over HTTP/2 to the bytes curl --compressed
    gives (SHA-256 compared); a build without zlib is not asked."""
    rc, out, _ = run([cli, "--version"], 10, "hscan-cli")
    if "zlib" not in out.decode().split("Features:")[-1].split():
        return
    for url, mode, flags in cases:
        name = f"--compressed {' '.join(flags)}: {url} (curl {mode})"
        rc, body, err = run([curl, mode, "-sS", "--compressed",
                             "--max-time", str(CURL_MAX_TIME), "--cacert",
                             ca, url], CURL_MAX_TIME + 10, "curl")
        recs = hscan_records(cli, ca, ["--compressed"] + flags, [url], tmp)
        if isinstance(recs, str):
            checks.add(name, [recs])
            continue
        r, p = recs[url], []
        b = r.get("body") or {}
        if rc != 0:
            p.append(f"curl exit {rc}: {err.decode(errors='replace')}")
        if r.get("http_version") != "HTTP/2":
            p.append(f"http_version {r.get('http_version')}")
        if b.get("sha256") != hashlib.sha256(body).hexdigest():
            p.append(f"body {b}, curl gave {len(body)} bytes")
        if b.get("encoding") != "gzip" or b.get("decode") != "done" or \
                r.get("title") != TITLE:
            p.append(f"title {r.get('title')!r}, body {b}")
        checks.add(name, p)


def main():
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    cli = sys.argv[1]
    start = time.monotonic()
    feats = subprocess.run([cli, "--version"], capture_output=True,
                           text=True, timeout=10).stdout
    if "http2" not in feats.split("Features:")[-1].split():
        print("skip: hscan-cli built without HTTP/2 (" +
              feats.strip().replace("\n", "; ") + ")")
        sys.exit(77)
    curl = find_program("curl")
    for p in PROGRAMS:
        find_program(p)
    servers = []

    def deadline(signum, frame):
        raise Fail(f"the run took over {DEADLINE} s")
    signal.signal(signal.SIGALRM, deadline)
    signal.alarm(DEADLINE)
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="hscan-h2-interop-") as tmp:
        try:
            ca, crt, key = make_certs(find_program("openssl"), tmp)
            htdocs = f"{tmp}/htdocs"
            make_htdocs(htdocs)
            port = start_all(tmp, crt, key, htdocs, servers)
            run_checks(checks, cli, curl, ca, tmp, port)
        except Fail as e:
            checks.add("setup", [str(e)])
        finally:
            signal.alarm(0)
            failed = checks.failed()
            if failed:
                for s in servers:
                    print(s.logs())
            for s in servers:
                s.stop()
    ver = run([curl, "--version"], 10)[1].decode().split("\n")[0]
    print(f"{len(checks.rows)} checks, {len(failed)} failed; {ver}  "
          f"[{time.monotonic() - start:.1f} s]")
    sys.exit(1 if failed else 0)


def run_checks(checks, cli, curl, ca, tmp, port):
    def url(server, path, scheme="https"):
        return f"{scheme}://127.0.0.1:{port[server]}{path}"

    # The oracle first: curl gets HTTP/2 where it should, else the
    # comparisons below test nothing.
    for server, mode, u in (
            ("nghttpd", "--http2", url("nghttpd", "/")),
            ("nginx", "--http2", url("nginx-h2", "/")),
            ("nginx", "--http2-prior-knowledge",
             url("nginx-h2c", "/", "http"))):
        h = curl_head(curl, ca, mode, u)
        server_hdr = dict((n.lower(), v) for n, v in h["headers"]).get(
            "server", "")
        p = [] if h["version"] == "HTTP/2" else [f"curl got {h['version']}"]
        if not server_hdr.startswith(server):
            p.append(f"Server {server_hdr!r}: another process on the port?")
        checks.add(f"oracle: curl {mode} {u} speaks HTTP/2 to {server}", p)

    t = TITLE
    compare_run(checks, cli, curl, ca, tmp, "default (h2,http/1.1)", [], [
        (url("nghttpd", "/"), "--http2", t),
        (url("nghttpd", "/nope.html"), "--http2", None),
        (url("nghttpd", "/sub"), "--http2", None),
        (url("nginx-h2", "/"), "--http2", t),
        (url("nginx-h2", "/nope.html"), "--http2", None),
        (url("nginx-h2", "/redirect"), "--http2", None),
        # No h2 there: both fall back to HTTP/1.1.
        (url("nginx-h1", "/"), "--http2", t)])
    compare_run(checks, cli, curl, ca, tmp, "--http1.1", ["--http1.1"], [
        (url("nginx-h2", "/"), "--http1.1", t),
        (url("nginx-h2", "/nope.html"), "--http1.1", None),
        (url("nginx-h2", "/redirect"), "--http1.1", None)])
    compare_run(checks, cli, curl, ca, tmp, "--http2", ["--http2"], [
        (url("nghttpd", "/"), "--http2", t),
        (url("nginx-h2", "/"), "--http2", t)])
    compare_run(checks, cli, curl, ca, tmp, "--h2c", ["--h2c"], [
        (url("nginx-h2c", "/", "http"), "--http2-prior-knowledge", t)])
    check_compressed(checks, cli, curl, ca, tmp, [
        (url("nginx-h2", "/"), "--http2", []),
        (url("nginx-h2c", "/", "http"), "--http2-prior-knowledge",
         ["--h2c"])])
    # nginx refuses an offer of h2 alone with a fatal alert
    # (no_application_protocol); s_server completes the handshake and
    # selects nothing.  Both are "the server did not pick h2".
    check_refused(checks, cli, ca, tmp, [url("nginx-h1", "/"),
                                         url("s_server", "/")])


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print(f"FAIL {e}")
        sys.exit(1)
