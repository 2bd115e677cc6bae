#!/usr/bin/env python3
"""The HTTP/2 test server (test/server-h2.h) against real clients.

Usage: test-h2-server.py HSCAN_TESTD

Starts hscan-testd --h2 (built with nghttp2; it prints "h2",
"h2-h1only", "h2-h1talk" and "h2c" listeners after "ca"), then checks
each behaviour two ways: curl (HTTP/2 through libcurl's nghttp2:
status, fields in order, body; the hostile behaviours make it fail,
each within CURL_MAX_TIME) and a raw h2c client written here, which
reads the frames themselves: the SETTINGS values and their order, the connection
WINDOW_UPDATE, HEADERS + CONTINUATION of `bighead`, the GOAWAY and
RST_STREAM codes, and the floods' first frames. curl without HTTP/2
support is a failure (tools/install-deps.sh installs it). Every
subprocess and socket has a timeout; hscan-testd's lifetime bounds the
rest.
"""
import socket
import struct
import subprocess
import sys
import time

CURL_MAX_TIME = 15      # seconds; the server's own cap is 10 s
SOCK_TIMEOUT = 15
LIFETIME = 120          # hscan-testd --lifetime

SETTINGS = [(3, 100), (4, 65535), (5, 16384), (6, 65536)]
WINDOW_INCREMENT = 983041
BODY = (b"<!DOCTYPE html>\n<html><head><title>h2 normal</title></head>"
        b"<body><p>hello over HTTP/2</p></body></html>\n")
NORMAL_FIELDS = [("server", "hscan-test-h2"), ("content-type", "text/html"),
                 ("x-dup", "1"), ("x-dup", "2"),
                 ("content-length", str(len(BODY)))]

# Frame types (RFC 9113 6).
DATA, HEADERS, RST_STREAM, SETTINGS_T, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 1, 4, 1

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, file=sys.stderr)


class Testd:
    def __init__(self, path):
        self.p = subprocess.Popen([path, "--h2", "--lifetime",
                                   str(LIFETIME)],
                                  stdout=subprocess.PIPE, text=True)
        self.ports = {}
        while True:
            line = self.p.stdout.readline()
            if not line:
                break
            word, value = line.split(maxsplit=1)
            self.ports[word] = value.strip()
            if word == "h2c":
                break
        for k in ("h2", "h2-h1only", "h2-h1talk", "h2c"):
            if k not in self.ports:
                raise SystemExit("hscan-testd printed no '%s' line" % k)
            self.ports[k] = int(self.ports[k].rsplit(":", 1)[1])
        self.ca = self.ports["ca"]

    def stop(self):
        """SIGTERM; it must exit 0: every connection closed, the loop
        empty (and, sanitized, no leak)."""
        self.p.terminate()
        rc = self.p.wait(timeout=10)
        check(rc == 0, "hscan-testd exit status %d" % rc)


# ---- curl ----

def curl_get(d, listener, path, extra=()):
    """GET through curl; returns (rc, status line, fields, body, secs)."""
    scheme = "http" if listener == "h2c" else "https"
    url = "%s://fast.test:%d%s" % (scheme, d.ports[listener], path)
    args = ["--resolve", "fast.test:%d:127.0.0.1" % d.ports[listener],
            "-o", "-", "-D", "/dev/stderr"]
    if scheme == "https":
        args += ["--cacert", d.ca]
    t0 = time.monotonic()
    p = subprocess.run(["curl", "-sS", "--max-time", str(CURL_MAX_TIME)] +
                       list(extra) + args + [url], capture_output=True,
                       timeout=CURL_MAX_TIME + 10)
    secs = time.monotonic() - t0
    lines = p.stderr.decode("latin-1").split("\r\n")
    status = lines[0] if lines else ""
    fields = []
    for ln in lines[1:]:
        if not ln:
            break
        name, _, value = ln.partition(":")
        fields.append((name, value.strip()))
    return p.returncode, status, fields, p.stdout, secs


def test_curl(d):
    rc, status, fields, body, _ = curl_get(d, "h2", "/h2/normal",
                                           ["--http2"])
    check(rc == 0 and status == "HTTP/2 200 ", "normal: %d %r" % (rc, status))
    check(fields == NORMAL_FIELDS, "normal fields %r" % fields)
    check(body == BODY, "normal body %r" % body)

    rc, status, fields, body, _ = curl_get(d, "h2c", "/h2/normal",
                                           ["--http2-prior-knowledge"])
    check(rc == 0 and status == "HTTP/2 200 " and fields == NORMAL_FIELDS
          and body == BODY, "h2c normal: %d %r %r" % (rc, status, fields))

    rc, status, fields, body, _ = curl_get(d, "h2", "/h2/many", ["--http2"])
    check(rc == 0 and fields == [("x-h-%d" % i, "v%d" % i)
                                 for i in range(1, 151)] and body == b"",
          "many: %d, %d fields" % (rc, len(fields)))

    rc, status, fields, body, _ = curl_get(d, "h2", "/h2/bighead",
                                           ["--http2"])
    check(rc == 0 and [f[0] for f in fields] ==
          ["x-big-%d" % i for i in range(1, 41)] and
          all(len(f[1]) == 1000 and f[1].isalnum() for f in fields),
          "bighead: %d, %d fields" % (rc, len(fields)))

    rc, status, fields, body, _ = curl_get(d, "h2", "/h2/redirect",
                                           ["--http2"])
    check(rc == 0 and status == "HTTP/2 301 " and
          fields == [("location", "/h2/normal"), ("content-length", "0")],
          "redirect: %d %r %r" % (rc, status, fields))
    rc, status, fields, body, _ = curl_get(d, "h2", "/h2/redirect",
                                           ["--http2", "-L"])
    check(rc == 0 and body == BODY, "redirect -L: %d" % rc)

    # HTTP/1.1: h2 not offered, never picked, or picked and not spoken.
    h1 = NORMAL_FIELDS + [("Connection", "close")]
    for listener, extra in (("h2", ["--http1.1"]), ("h2-h1only", ["--http2"])):
        rc, status, fields, body, _ = curl_get(d, listener, "/", extra)
        check(rc == 0 and status == "HTTP/1.1 200 OK" and
              [(n.lower(), v) for n, v in fields] ==
              [(n.lower(), v) for n, v in h1] and body == BODY,
              "%s %s: %d %r %r" % (listener, extra, rc, status, fields))
    # curl 7.88 names it "Empty reply from server" (52): its nghttp2
    # found no frame in "HTTP/1.1 200 OK"; newer ones a framing error.
    rc, status, _, body, _ = curl_get(d, "h2-h1talk", "/", ["--http2"])
    check(rc in (16, 52, 56) and body == b"",
          "h2-h1talk: curl exit %d, want 16, 52 or 56" % rc)

    # Hostile: curl fails, fast. 16: HTTP/2 framing (GOAWAY), 92: stream
    # error (RST_STREAM), 56: nghttp2 saw a flood or endless
    # CONTINUATION. curl answers every PING in time, so ping-flood runs
    # to the server's byte cap, and the end races curl's own writes: 18
    # (closed mid-stream), 55 (send failed) or 56 (receive failed).
    flood = {16, 18, 55, 56}
    for path, codes in (("goaway", {16}), ("rst", {92}),
                        ("settings-flood", flood), ("ping-flood", flood),
                        ("cont-flood", flood)):
        rc, _, _, _, secs = curl_get(d, "h2", "/h2/" + path, ["--http2"])
        check(rc in codes and secs < 12,
              "%s: curl exit %d after %.1f s, want %s" % (path, rc, secs,
                                                          codes))


# ---- a raw h2c client ----

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + \
        struct.pack(">BBI", ftype, flags, stream) + payload


def request_block(path):
    """GET http://h2.test<path> in HPACK: static indexes and literals
    without indexing (RFC 7541 appendix A, 6.2.2)."""
    def lit(index, value):
        assert len(value) < 127
        return bytes([index, len(value)]) + value
    return (b"\x82\x86" + lit(0x04, path.encode()) +
            lit(0x01, b"h2.test"))


class Raw:
    def __init__(self, port, path):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=SOCK_TIMEOUT)
        self.buf = b""
        self.s.sendall(PREFACE + frame(SETTINGS_T, 0, 0, b"") +
                       frame(HEADERS, END_STREAM | END_HEADERS, 1,
                             request_block(path)))

    def next(self):
        """The next frame (type, flags, stream, payload), or None at
        EOF."""
        while True:
            if len(self.buf) >= 9:
                n = int.from_bytes(self.buf[:3], "big")
                if len(self.buf) >= 9 + n:
                    t, fl, st = struct.unpack(">BBI", self.buf[3:9])
                    p = self.buf[9:9 + n]
                    self.buf = self.buf[9 + n:]
                    return t, fl, st & 0x7fffffff, p
            try:
                got = self.s.recv(65536)
            except ConnectionResetError:
                got = b""
            if not got:
                return None
            self.buf += got

    def close(self):
        self.s.close()


def raw_opening(r):
    """The server's SETTINGS and WINDOW_UPDATE come first."""
    f = r.next()
    check(f and f[0] == SETTINGS_T and f[1] == 0 and f[2] == 0,
          "first frame %r" % (f,))
    if f:
        got = [struct.unpack(">HI", f[3][i:i + 6])
               for i in range(0, len(f[3]), 6)]
        check(got == SETTINGS, "SETTINGS %r" % got)
    f = r.next()
    check(f and f[0] == WINDOW_UPDATE and f[2] == 0 and
          struct.unpack(">I", f[3])[0] == WINDOW_INCREMENT,
          "second frame %r" % (f,))


def raw_until(r, want):
    """Frames up to the first of type `want` (SETTINGS ACK skipped);
    returns them, the `want` one last."""
    got = []
    while True:
        f = r.next()
        if f is None or (f[0] == SETTINGS_T and f[1] & ACK):
            if f is None:
                return got
            continue
        got.append(f)
        if f[0] == want:
            return got


def test_raw(d):
    port = d.ports["h2c"]

    r = Raw(port, "/h2/bighead")
    raw_opening(r)
    frames, block = [], b""
    while True:
        f = r.next()
        if f is None or (f[0] == SETTINGS_T and f[1] & ACK):
            if f is None:
                break
            continue
        frames.append(f[:2])
        block += f[3]
        check(len(f[3]) <= 16384, "bighead frame of %d bytes" % len(f[3]))
        if f[1] & END_HEADERS:
            break
    r.close()
    types = [t for t, _ in frames]
    check(len(types) >= 2 and types[0] == HEADERS and
          all(t == CONTINUATION for t in types[1:]) and len(block) > 16384,
          "bighead: frames %r, block %d bytes" % (frames, len(block)))

    r = Raw(port, "/h2/goaway")
    raw_opening(r)
    f = raw_until(r, GOAWAY)[-1:]
    check(f and f[0][0] == GOAWAY and
          struct.unpack(">II", f[0][3][:8]) == (0, 0xb) and
          f[0][3][8:] == b"h2-goaway", "goaway: %r" % f)
    check(r.next() is None, "goaway: the connection stays open")
    r.close()

    r = Raw(port, "/h2/rst")
    raw_opening(r)
    f = raw_until(r, RST_STREAM)
    check([x[0] for x in f] == [RST_STREAM] and f[0][2] == 1 and
          struct.unpack(">I", f[0][3])[0] == 2, "rst: %r" % f)
    r.close()

    for path, ftype, n in (("settings-flood", SETTINGS_T, 5000),
                           ("ping-flood", PING, 5000),
                           ("cont-flood", CONTINUATION, 200)):
        r = Raw(port, "/h2/" + path)
        raw_opening(r)
        seen, first = 0, None
        while seen < n:
            f = r.next()
            if f is None:
                break
            if f[0] == SETTINGS_T and f[1] & ACK:
                continue
            first = first or f
            check(f[1] & END_HEADERS == 0 if path == "cont-flood" else
                  f[0] == ftype, "%s: frame %r" % (path, f[:3]))
            seen += 1
        check(seen == n, "%s: %d frames, want %d" % (path, seen, n))
        if path == "cont-flood":
            check(first and first[0] == HEADERS and first[2] == 1,
                  "cont-flood: first %r" % (first[:3],))
        r.close()


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    v = subprocess.run(["curl", "--version"], capture_output=True,
                       text=True, timeout=10).stdout
    if "HTTP2" not in v:
        raise SystemExit("curl without HTTP2: install curl with nghttp2")
    d = Testd(sys.argv[1])
    held = None
    try:
        test_curl(d)
        test_raw(d)
        # One connection left open at the stop: a flood whose reader
        # stopped reading.
        held = Raw(d.ports["h2c"], "/h2/ping-flood")
        raw_opening(held)
    finally:
        d.stop()
    if held:
        held.close()
    if failures:
        raise SystemExit("%d failure(s)" % len(failures))
    print("ok")


if __name__ == "__main__":
    main()
