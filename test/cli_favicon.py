"""test-cli.py: --favicon (the page's icon in a "favicon" object) and
--hash (md5 and mmh3 beside or instead of sha256 in "body").

Every expected hash is computed here, independently of the library:
MurmurHash3 x86_32 written from Austin Appleby's public algorithm,
over Python's own base64.encodebytes (what Shodan hashes); md5 and
sha256 from hashlib.  The icons are test/server-favicon.c's: byte i of
/b/icon-N is (7 * i + 3) & 255, and /favicon.ico is icon-318.

Run through test-cli.py, which imports every test_* here."""
import base64
import hashlib
import socket
import struct

from cli_common import PLAIN, Listener, check, run, records


def murmur3_32(data, seed=0):
    """MurmurHash3 x86_32 as a signed number (Python's mmh3.hash)."""
    c1, c2, mask = 0xcc9e2d51, 0x1b873593, 0xffffffff
    h = seed & mask
    n = len(data) // 4 * 4

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & mask

    def mix(k):
        return (rotl((k * c1) & mask, 15) * c2) & mask

    for i in range(0, n, 4):
        h = (rotl(h ^ mix(struct.unpack_from("<I", data, i)[0]), 13)
             * 5 + 0xe6546b64) & mask
    k = 0
    for j, b in enumerate(data[n:]):
        k |= b << (8 * j)
    if len(data) > n:
        h ^= mix(k)
    h ^= len(data) & mask
    h ^= h >> 16
    h = (h * 0x85ebca6b) & mask
    h ^= h >> 13
    h = (h * 0xc2b2ae35) & mask
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def shodan(data):
    return murmur3_32(base64.encodebytes(data))


def icon(n):
    return bytes((7 * i + 3) & 255 for i in range(n))


def hashes(data):
    return {"sha256": hashlib.sha256(data).hexdigest(),
            "md5": hashlib.md5(data).hexdigest(), "mmh3": shodan(data)}


def scan(lines, args, timeout=60):
    if "--max-per-ip" not in args:
        args = ["--max-per-ip", "0"] + args
    r = run(["-q", "-f", "json"] + args + ["-"],
            input="".join(x + "\n" for x in lines), timeout=timeout)
    check(r.returncode in (0, 1), f"{args}: exit {r.returncode}: {r.stderr}")
    recs = records(r.stdout)
    check(len(recs) == len(lines), f"{args}: {r.stdout}")
    return {x["input"]: x for x in recs}


def test_mmh3_reference(t):
    # the published MurmurHash3 x86_32 vectors hold for the Python
    # above (so it is the reference algorithm), and a few Shodan-style
    # values pin the Base64 framing: 57 bytes make exactly one line
    for data, seed, want in [(b"", 0, 0), (b"", 1, 0x514E28B7),
                             (b"", 0xffffffff, 0x81F16F39),
                             (b"\0\0\0\0", 0, 0x2362F9DE),
                             (b"aaaa", 0x9747b28c, 0x5A97808A),
                             (b"Hello, world!", 0x9747b28c, 0x24884CBA),
                             (b"The quick brown fox jumps over the lazy "
                              b"dog", 0x9747b28c, 0x2FA826CD)]:
        got = murmur3_32(data, seed) & 0xffffffff
        check(got == want, f"murmur3({data!r}, {seed:#x}) {got:#x}")
    check(base64.encodebytes(b"a" * 57).count(b"\n") == 1 and
          base64.encodebytes(b"a" * 58).count(b"\n") == 2, "framing")
    # the library's, over bodies of every length around the Base64
    # group (3) and line (57 bytes) boundaries, and a long one
    sizes = [0, 1, 2, 3, 4, 5, 56, 57, 58, 59, 113, 114, 115, 1000, 20000]
    lines = [f"127.0.0.1:{t.http}/b/icon-{n}" for n in sizes]
    recs = scan(lines, PLAIN + ["--body-bytes", "65536", "--hash",
                                "mmh3,md5,sha256"])
    for n, line in zip(sizes, lines):
        b = recs[line]["body"]
        want = hashes(icon(n))
        check(b["bytes"] == n and not b["truncated"], f"{n}: {b}")
        for k in ("sha256", "md5", "mmh3"):
            check(b[k] == want[k], f"icon-{n} {k}: {b[k]} != {want[k]}")
        check(list(b) == ["bytes", "truncated", "sha256", "words", "lines",
                          "md5", "mmh3"],
              f"body members in order: {list(b)}")


def test_hash_choice(t):
    line = f"127.0.0.1:{t.http}/b/icon-100"
    want = hashes(icon(100))
    b = scan([line], PLAIN)[line]["body"]
    check(list(b) == ["bytes", "truncated", "sha256", "words", "lines"]
          and b["sha256"] == want["sha256"], f"default: {b}")
    b = scan([line], PLAIN + ["--hash", "sha256"])[line]["body"]
    check(list(b) == ["bytes", "truncated", "sha256", "words", "lines"],
          f"sha256: {b}")
    b = scan([line], PLAIN + ["--hash", "md5"])[line]["body"]
    check(b == {"bytes": 100, "truncated": False, "sha256": None,
                "words": b["words"], "lines": b["lines"],
                "md5": want["md5"]}, f"md5 alone: {b}")
    b = scan([line], PLAIN + ["--hash", "mmh3,sha256"])[line]["body"]
    check(b["sha256"] == want["sha256"] and b["mmh3"] == want["mmh3"] and
          "md5" not in b, f"mmh3,sha256: {b}")
    # a cut body: the hashes are of the bytes read
    b = scan([line], PLAIN + ["--hash", "mmh3", "--body-bytes",
                              "10"])[line]["body"]
    check(b["truncated"] and b["mmh3"] == shodan(icon(10)), f"cut: {b}")
    for bad in ["", "sha1", "md5,md5", "md5,", ",md5", "MD5"]:
        r = run(["--hash", bad, "/dev/null"])
        check(r.returncode == 2 and "--hash" in r.stderr,
              f"--hash {bad!r}: {r.returncode} {r.stderr}")
    r = run(["--hash", "md5", "--hash", "mmh3", "/dev/null"])
    check(r.returncode == 2, f"--hash twice: {r.returncode}")


def test_favicon_links(t):
    base = f"http://127.0.0.1:{t.http}"
    pages = {
        0: (f"{base}/favicon.ico", 318),        # no icon link
        1: (f"{base}/b/icon-300?v=1&x=2", 300),  # relative, shortcut icon
        2: (f"{base}/b/icon-500", 500),          # absolute
        3: (f"{base}/b/icon-501", 501),          # scheme-relative
        7: (f"{base}/b/icon-20", 20),            # icon beats apple
        8: (f"{base}/b/icon-11", 11),            # apple alone
        9: (f"{base}/favicon.ico", 318),         # other origin: default
        10: (f"{base}/b/icon-13", 13),           # '>' in a quoted value
    }
    lines = [f"{base}/b/fav-{n}" for n in pages]
    recs = scan(lines, ["--favicon"])
    for n, (url, size) in pages.items():
        r = recs[f"{base}/b/fav-{n}"]
        f = r.get("favicon")
        check(r["error"] is None and r["status"] == 200 and
              r["title"] == "fav", f"page {n}: the record stands: {r}")
        check(list(r)[list(r).index("body") + 1] == "favicon",
              f"page {n}: favicon after body")
        check(f and f["url"] == url and f["status"] == 200 and
              f["bytes"] == size and f["truncated"] is False and
              f["error"] is None and f["ms"] > 0, f"page {n}: {f}")
        want = hashes(icon(size))
        check(all(f[k] == want[k] for k in want), f"page {n}: {f} {want}")
    # without --favicon: no key, and the body as before
    r = scan([lines[0]], [])[lines[0]]
    check("favicon" not in r and list(r["body"]) ==
          ["bytes", "truncated", "sha256", "words", "lines"],
          f"no --favicon: {r}")
    # after a followed redirect: the link of the final page, resolved
    # against its URL; the record's redirects are the page's only.  A
    # link to an icon that redirects: the 3xx is the answer
    line = f"{base}/r?to=/b/fav-1"
    r = scan([line], ["--favicon", "--follow", "2"])[line]
    check(r["url"] == f"{base}/b/fav-1" and len(r["redirects"]) == 1 and
          r["favicon"]["url"] == pages[1][0] and
          r["favicon"]["status"] == 200, f"after a redirect: {r}")
    line = f"{base}/b/fav-12"
    r = scan([line], ["--favicon", "--follow", "2"])[line]
    f = r["favicon"]
    check(r["redirects"] == [] and f["url"] == f"{base}/r?to=/b/icon-5" and
          f["status"] == 302 and f["mmh3"] is None, f"icon's 302: {r}")
    line = f"{base}/r?to=/b/fav-2"
    r = scan([line], ["--favicon"])[line]
    check(r["status"] == 302 and r["favicon"]["url"] == f"{base}/favicon.ico"
          and r["favicon"]["status"] == 200, f"a 302 page: {r}")
    # --body-bytes 0 is turned on again for the link
    r = scan([lines[1]], ["--favicon", "--body-bytes", "0"])[lines[1]]
    check(r["favicon"]["url"] == pages[1][0], f"body-bytes 0: {r}")


def test_favicon_odd(t):
    base = f"http://127.0.0.1:{t.http}"
    lines = [f"{base}/b/fav-{n}" for n in (4, 5, 6, 11)]
    recs = scan(lines, ["--favicon", "--timeout", "3s"])
    nf = recs[lines[0]]["favicon"]
    check(nf["status"] == 404 and nf["bytes"] == 10 and
          nf["sha256"] is None and nf["md5"] is None and
          nf["mmh3"] is None and nf["error"] is None, f"404: {nf}")
    big = recs[lines[1]]["favicon"]
    check(big["status"] == 200 and big["truncated"] is True and
          big["bytes"] == 1 << 20 and big["mmh3"] is None and
          big["sha256"] is None, f"oversize: {big}")
    data = recs[lines[2]]["favicon"]
    want = hashes(bytes(range(6)))
    check(data["url"] == "data:image/png;base64," and
          data["status"] is None and data["bytes"] == 6 and
          all(data[k] == want[k] for k in want), f"data: {data}")
    hang = recs[lines[3]]
    check(hang["error"] is None and hang["status"] == 200 and
          hang["favicon"]["error"] in ("timeout", "read_timeout") and
          hang["favicon"]["status"] is None, f"icon hangs: {hang}")


def test_favicon_https(t):
    lines = [f"https://valid.test:{t.https}/b/fav-3",
             f"https://valid.test:{t.https}/b/fav-0"]
    recs = scan(lines, ["--favicon", "--resolver", t.dns, "--ca-file",
                        t.ca])
    for line, url, n in [(lines[0], f"https://valid.test:{t.https}"
                          "/b/icon-501", 501),
                         (lines[1], f"https://valid.test:{t.https}"
                          "/favicon.ico", 318)]:
        r = recs[line]
        f = r["favicon"]
        check(r["tls"]["verified"] and r["error"] is None and
              r["url"] == line, f"{line}: the page's record: {r}")
        check(f["url"] == url and f["status"] == 200 and f["bytes"] == n
              and f["mmh3"] == shodan(icon(n)), f"{line}: {f}")


class IconServer(Listener):
    """A page without an icon link, then the icon's request.  `mode`:
    "keep" answers both on one connection (HTTP/1.1 keep-alive);
    "close" says Connection: close, "drop" says nothing but closes
    anyway, and "reset" says Connection: close and resets the second
    connection (the icon's)."""

    PAGE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n%s\r\nhello"
    ICON = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nICO"

    def __init__(self, mode):
        self.reqs = []
        self.mode = mode
        super().__init__()

    def request(self, c, data):
        while b"\r\n\r\n" not in data:
            got = c.recv(65536)
            if not got:
                return None, b""
            data += got
        head, rest = data.split(b"\r\n\r\n", 1)
        want = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                want = int(value)
        while len(rest) < want:
            rest += c.recv(65536)
        self.reqs.append(head + b"\r\n\r\n" + rest[:want])
        return True, rest[want:]

    def handle(self, c):
        c.settimeout(30)
        first = not self.reqs
        ok, rest = self.request(c, b"")
        if not ok:
            return
        if first:
            close = b"Connection: close\r\n" if self.mode in (
                "close", "reset") else b""
            c.sendall(self.PAGE % close)
            if self.mode != "keep":
                return
            ok, rest = self.request(c, rest)
            if not ok:
                return
        if self.mode == "reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            return
        c.sendall(self.ICON)


def test_favicon_connection(t):
    # keep-alive: the icon's GET of /favicon.ico goes on the page's
    # connection, without the page's request body or method
    for mode, conns in [("keep", 1), ("close", 2), ("drop", 2)]:
        srv = IconServer(mode)
        try:
            line = f"127.0.0.1:{srv.port}/page"
            r = scan([line], PLAIN + ["--favicon", "-d", "x=1"])[line]
            check(len(srv.peers) == conns and len(srv.reqs) == 2,
                  f"{mode}: {conns} connection(s): {srv.peers} {srv.reqs}")
            check(srv.reqs[0].startswith(b"POST /page ") and
                  srv.reqs[0].endswith(b"\r\n\r\nx=1") and
                  srv.reqs[1].startswith(b"GET /favicon.ico HTTP/1.1\r\n")
                  and b"content-length" not in srv.reqs[1].lower(),
                  f"{mode}: requests: {srv.reqs}")
            f = r["favicon"]
            check(r["status"] == 200 and r["error"] is None and
                  f["status"] == 200 and f["mmh3"] == shodan(b"ICO") and
                  f["error"] is None and r["body"]["bytes"] == 5,
                  f"{mode}: record: {r}")
        finally:
            srv.close()
    # its failure is the icon's: the record is the page's, ok
    srv = IconServer("reset")
    try:
        line = f"127.0.0.1:{srv.port}/"
        r = scan([line], PLAIN + ["--favicon"])[line]
        f = r["favicon"]
        check(r["error"] is None and r["status"] == 200 and
              r["body"]["bytes"] == 5 and f["error"] and
              f["error"] != "timeout" and f["status"] is None and
              f["url"] == f"http://127.0.0.1:{srv.port}/favicon.ico",
              f"icon reset: {r}")
        check(r["timing_ms"]["ttfb"] is not None and r["ip"] == "127.0.0.1",
              f"the page's facts: {r}")
    finally:
        srv.close()
