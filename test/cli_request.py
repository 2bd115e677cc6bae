"""test-cli.py: options taken literally (no abbreviations, no silent
repeats), --user, -d/--data and --data-file: the bytes a server got.

Run through test-cli.py, which imports every test_* here."""
import base64
import os
import socket
import struct

from cli_common import TMP, Listener, check, run, records


class Capture(Listener):
    """A loopback server on `ip`:`port` that keeps each request (its
    head, and the body its Content-Length announces) and answers 200
    with no body; the first `fail` connections are reset at once, before
    any byte."""

    def __init__(self, fail=0, ip="127.0.0.1", port=0):
        self.reqs = []
        self.fail = fail
        super().__init__(ip, port)

    def handle(self, c):
        if len(self.peers) <= self.fail:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            return
        c.settimeout(30)
        data = b""
        while b"\r\n\r\n" not in data:
            got = c.recv(65536)
            if not got:
                break
            data += got
        head = data.split(b"\r\n\r\n", 1)[0]
        want = len(head) + 4
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                want += int(value)
        while len(data) < want:
            got = c.recv(65536)
            if not got:
                break
            data += got
        self.reqs.append(data)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                  b"Connection: close\r\n\r\n")

    def request(self, path):
        """The one request whose request line names `path`."""
        got = [r for r in self.reqs
               if r.split(b"\r\n", 1)[0].split(b" ")[1:2] == [path.encode()]]
        check(len(got) == 1, f"one request for {path}: {self.reqs}")
        return got[0]


def scan(cap, path, args):
    r = run(["-q", "-f", "json"] + args + ["-"],
            input=f"127.0.0.1:{cap.port}{path}\n")
    check(r.returncode == 0, f"{args}: exit {r.returncode}: {r.stderr}")
    recs = records(r.stdout)
    check(len(recs) == 1 and recs[0]["status"] == 200,
          f"{args}: {r.stdout}")
    return r, cap.request(path)


def head_body(req):
    head, body = req.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    return lines[0], lines[1:], body


def header(lines, name):
    return [l.split(b":", 1)[1].strip() for l in lines
            if l.split(b":", 1)[0].lower() == name.lower().encode()]


# ---- options mean exactly what they say ----

def test_options_exact(t):
    for args, word, cands in [
            (["--time", "1"], "--time", ["--timeout", "--tls-timeout"]),
            (["--user-ag", "x"], "--user-ag", ["--user-agent"]),
            (["--con=4"], "--con", ["--concurrency", "--connect-timeout"]),
            (["--pat", "/x"], "--pat", ["--path"]),
            (["--tls"], "--tls", ["--tls-timeout"])]:
        r = run(args + ["/dev/null"])
        check(r.returncode == 2, f"{args}: exit {r.returncode}")
        first = r.stderr.splitlines()[0] if r.stderr else ""
        check(first.startswith("hscan-cli: " + word + ": not an option") and
              "did you mean" in first and
              all(c in first for c in cands), f"{args}: {r.stderr}")
    # the value of an abbreviation is never echoed (it may be a secret)
    r = run(["--us=alice:s3cr3t", "/dev/null"])
    check(r.returncode == 2 and "s3cr3t" not in r.stderr and
          "--user" in r.stderr, f"--us=: {r.stderr}")
    r = run(["--no-such", "/dev/null"])
    check(r.returncode == 2 and "--no-such: not an option" in r.stderr,
          f"unknown: {r.stderr}")
    r = run(["--quiet=yes", "/dev/null"])
    check(r.returncode == 2 and "--quiet: takes no value" in r.stderr,
          f"--quiet=: {r.stderr}")
    r = run(["/dev/null", "--timeout"])
    check(r.returncode == 2 and "--timeout: needs a value" in r.stderr,
          f"no value: {r.stderr}")
    # both spellings of a value still work, also a value that looks
    # like an option, and options after the files
    cap = Capture()
    try:
        r, req = scan(cap, "/eq", ["--timeout=5", "--user-agent", "--time",
                                   "--read-timeout", "5"])
        check(header(head_body(req)[1], "User-Agent") == [b"--time"],
              f"-A value: {req}")
    finally:
        cap.close()


def test_options_repeated(t):
    for args, name in [(["-X", "GET", "--method", "HEAD"], "-X/--method"),
                       (["--all-ips", "--all-ips"], "--all-ips"),
                       (["-A", "a", "-A", "b"], "-A/--user-agent"),
                       (["--user", "a:b", "--user", "c:d"], "-u/--user"),
                       (["--timeout", "1", "--timeout=2"], "--timeout"),
                       (["-q", "--quiet"], "-q/--quiet"),
                       (["--ports", "80", "--ports", "81"], "--ports"),
                       (["-4", "-4"], "-4")]:
        r = run(args + ["/dev/null"])
        check(r.returncode == 2 and
              f"hscan-cli: {name}: given twice" in r.stderr,
              f"{args}: exit {r.returncode}: {r.stderr}")
        check("c:d" not in r.stderr and "a:b" not in r.stderr,
              f"{args}: no credentials in {r.stderr}")
    # the lists are repeatable
    r = run(["-H", "X-A: 1", "-H", "X-B: 2", "--header", "Server",
             "--header", "Date", "--match-status", "200",
             "--match-status", "301", "--resolver", "127.0.0.1",
             "--resolver", "127.0.0.2", "-f", "csv", "--fields", "input",
             "--fields", "status", "-d", "a", "-d", "b",
             "--data-file", "/dev/null", "--data-file", "/dev/null",
             "--match-error", "timeout", "--match-error", "canceled",
             "--path", "/a", "--path", "/b", "/dev/null"])
    check(r.returncode == 0, f"repeatable lists: {r.stderr}")


# ---- --user ----

def test_user(t):
    cap = Capture()
    try:
        r, req = scan(cap, "/u", ["--user", "alice:s3cr3t"])
        want = b"Basic " + base64.b64encode(b"alice:s3cr3t")
        check(header(head_body(req)[1], "Authorization") == [want],
              f"--user: {req}")
        check("s3cr3t" not in r.stdout and
              want.decode() not in r.stdout, "no credentials in records")
        # a password with ':' and '=' (RFC 7617: up to the first ':')
        r, req = scan(cap, "/u2", ["--user=bob:p:a=ss"])
        check(header(head_body(req)[1], "Authorization") ==
              [b"Basic " + base64.b64encode(b"bob:p:a=ss")], f"{req}")
        # an explicit -H Authorization replaces it, in any case
        r, req = scan(cap, "/u3", ["--user", "alice:s3cr3t", "-H",
                                   "authorization: Bearer t0k"])
        check(header(head_body(req)[1], "Authorization") ==
              [b"Bearer t0k"], f"-H wins: {req}")
        # "-H Authorization:" removes it
        r, req = scan(cap, "/u4", ["--user", "alice:s3cr3t", "-H",
                                   "Authorization:"])
        check(header(head_body(req)[1], "Authorization") == [],
              f"removed: {req}")
    finally:
        cap.close()
    r = run(["--user", "alice", "/dev/null"])
    check(r.returncode == 2 and "--user: needs USER:PASSWORD" in r.stderr,
          f"no colon: {r.stderr}")


# ---- -d/--data, --data-file ----

FORM = b"application/x-www-form-urlencoded"


def test_data(t):
    cap = Capture()
    try:
        _, req = scan(cap, "/d1", ["-d", "a=1&b=two"])
        line, hdrs, body = head_body(req)
        check(line == b"POST /d1 HTTP/1.1", f"POST implied: {line}")
        check(header(hdrs, "Content-Length") == [b"9"] and
              header(hdrs, "Content-Type") == [FORM] and body == b"a=1&b=two",
              f"-d: {req}")
        # -X wins; -H Content-Type replaces the form type
        _, req = scan(cap, "/d2", ["-X", "PUT", "--data={\"k\":1}", "-H",
                                   "Content-Type: application/json"])
        line, hdrs, body = head_body(req)
        check(line == b"PUT /d2 HTTP/1.1" and
              header(hdrs, "Content-Type") == [b"application/json"] and
              header(hdrs, "Content-Length") == [b"7"] and
              body == b'{"k":1}', f"-X -H: {req}")
        # an empty body is Content-Length: 0
        _, req = scan(cap, "/d3", ["-d", ""])
        line, hdrs, body = head_body(req)
        check(line == b"POST /d3 HTTP/1.1" and
              header(hdrs, "Content-Length") == [b"0"] and body == b"",
              f"empty: {req}")
        # pieces join with '&', as curl; -d @FILE drops CR and LF;
        # --data-file keeps every byte
        f1 = os.path.join(TMP, "form.txt")
        with open(f1, "wb") as f:
            f.write(b"x=1\r\ny=2\n")
        f2 = os.path.join(TMP, "blob.bin")
        blob = bytes(range(256)) * 300
        with open(f2, "wb") as f:
            f.write(blob)
        _, req = scan(cap, "/d4", ["-d", "a", "-d", "@" + f1])
        check(head_body(req)[2] == b"a&x=1y=2", f"@file: {req}")
        _, req = scan(cap, "/d5", ["-X", "POST", "--data-file", f2, "-H",
                                   "Content-Type: application/octet-stream"])
        line, hdrs, body = head_body(req)
        check(body == blob and
              header(hdrs, "Content-Length") == [str(len(blob)).encode()],
              f"--data-file: {len(body)} bytes")
    finally:
        cap.close()


def test_data_bound(t):
    big = os.path.join(TMP, "big.bin")
    with open(big, "wb") as f:
        f.truncate(16 * 1024 * 1024 + 1)
    r = run(["--data-file", big, "/dev/null"])
    check(r.returncode == 2 and "--data-file" in r.stderr and
          "16777216" in r.stderr, f"over the bound: {r.stderr}")
    exact = os.path.join(TMP, "exact.bin")
    with open(exact, "wb") as f:
        f.truncate(16 * 1024 * 1024)
    r = run(["--data-file", exact, "/dev/null"])
    check(r.returncode == 0, f"the bound itself: {r.stderr}")
    r = run(["--data-file", exact, "-d", "x", "/dev/null"])
    check(r.returncode == 2 and "16777216" in r.stderr,
          f"the sum over the bound: {r.stderr}")
    r = run(["--data-file", os.path.join(TMP, "none"), "/dev/null"])
    check(r.returncode == 2 and "cannot read" in r.stderr,
          f"missing file: {r.stderr}")
    # a body goes over HTTP/2 too (where HTTP/2 is built in)
    r = run(["--version"])
    h2 = "http2" in r.stdout.split("Features:")[-1].split()
    r = run(["--http2", "-d", "x", "/dev/null"])
    check(r.returncode == (0 if h2 else 2), f"--http2 -d: {r.stderr}")
