#!/usr/bin/env python3
"""Write the corpus families: status codes (100-119) and limits
(190-209).  The output is checked in; run this only to change them.
Limits are around hscan-cli's defaults (--max-header-bytes 65536,
--max-headers 256, docs/cli.md) and curl's (100 KiB per header line,
300 KiB per header block in curl 7.88)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def esc(data):
    out = []
    for b in data:
        c = chr(b)
        if c == "\r":
            out.append("\\r")
        elif c == "\n":
            out.append("\\n\n")         # a real newline after each LF
        elif c == "\\":
            out.append("\\\\")
        elif 0x20 <= b < 0x7f:
            out.append(c)
        else:
            out.append(f"\\x{b:02x}")
    text = "".join(out)
    # Long lines are wrapped (real newlines are not part of the reply);
    # a break never falls inside an escape, nor before a space.
    lines = []
    for line in text.split("\n"):
        while len(line) > 76:
            cut = 76
            while line[cut - 1] in "\\ " or line[cut] == " " or \
                    "\\" in line[cut - 3:cut]:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return "\n".join(lines).rstrip("\n") + "\n"


def write(cid, name, about, data, after=None):
    for old in os.listdir(HERE):
        if old.startswith(f"{cid:03d}-") and old.endswith(".http"):
            os.unlink(os.path.join(HERE, old))
    with open(os.path.join(HERE, f"{cid:03d}-{name}.http"), "w") as f:
        for line in about:
            f.write(f"# {line}\n")
        if after:
            f.write(f"# after: {after}\n")
        f.write("# (written by gen.py)\n")
        f.write(esc(data))


def codes():
    """RFC 9110 15: a status code is three digits, 100-599 defined;
    outside that range a client sees a malformed or unknown status."""
    for i, code in enumerate(["000", "001", "099", "200", "201", "226",
                              "299", "300", "399", "418", "451", "499",
                              "599", "600", "700", "999", "1000", "2000",
                              "12345", "20x"]):
        data = (f"HTTP/1.1 {code} Reason\r\nX-Case: code-{code}\r\n"
                f"Content-Length: 0\r\n\r\n").encode()
        write(100 + i, f"code-{code.lower()}",
              [f"Status code {code} (RFC 9110 15, 15.5, 15.6: three "
               "digits, 100-599 defined)"], data)


def head(n_fields, filler_len=20, status=b"HTTP/1.1 200 OK\r\n"):
    fields = [b"X-F-%04d: " % i + b"v" * filler_len + b"\r\n"
              for i in range(n_fields - 1)]
    return status + b"".join(fields) + b"Content-Length: 0\r\n\r\n"


def sized(total):
    """A header block of exactly `total` bytes, status line and the
    final CRLF included, in fields of ~1000 bytes."""
    start = b"HTTP/1.1 200 OK\r\n"
    end = b"Content-Length: 0\r\n\r\n"
    body = []
    left = total - len(start) - len(end)
    i = 0
    while left > 0:
        pre = b"X-S-%04d: " % i
        n = min(1000, left - len(pre) - 2)
        if n < 1:                       # too little room: widen the last
            last = body.pop()
            body.append(last[:-2] + b"w" * left + b"\r\n")
            break
        body.append(pre + b"s" * n + b"\r\n")
        left -= len(body[-1])
        i += 1
    data = start + b"".join(body) + end
    assert len(data) == total, (len(data), total)
    return data


def limits():
    for i, n in enumerate([100, 255, 256, 257, 1000]):
        write(190 + i, f"headers-{n}",
              [f"{n} header fields (hscan-cli --max-headers default 256)"],
              head(n))
    for i, n in enumerate([60000, 65535, 65536, 65537, 70000]):
        write(195 + i, f"block-{n}",
              [f"Status line plus header block of exactly {n} bytes "
               "(hscan-cli --max-header-bytes default 65536)"], sized(n))
    for i, n in enumerate([65000, 70000, 102500]):
        data = (b"HTTP/1.1 200 OK\r\nX-Long: " + b"L" * n +
                b"\r\nContent-Length: 0\r\n\r\n")
        write(200 + i, f"line-{n}",
              [f"One header value of {n} bytes (curl takes lines up to "
               "100 KiB; hscan-cli blocks up to 65536 bytes)"], data)
    write(203, "reason-8000",
          ["A reason phrase of 8000 bytes (RFC 9112 4: reason-phrase "
           "*( HTAB / SP / VCHAR / obs-text ), no length limit)"],
          b"HTTP/1.1 200 " + b"R" * 8000 + b"\r\nContent-Length: 0\r\n\r\n")
    write(204, "name-8000",
          ["A field name of 8000 bytes (RFC 9110 5.1: token, no length "
           "limit)"],
          b"HTTP/1.1 200 OK\r\n" + b"N" * 8000 +
          b": v\r\nContent-Length: 0\r\n\r\n")
    write(205, "headers-empty-values-300",
          ["300 header fields with empty values (count limit, few bytes)"],
          b"HTTP/1.1 200 OK\r\n" +
          b"".join(b"E%d:\r\n" % i for i in range(299)) +
          b"Content-Length: 0\r\n\r\n")


codes()
limits()
