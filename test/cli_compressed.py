"""hscan-cli --compressed (test-cli.py runs these): what is offered,
and bodies decoded from hscan-testd's /ce/NAME replies (server-coded.c),
with curl --compressed as the oracle of the decoded bytes."""
import hashlib
import shutil
import subprocess

from cli_common import check, run, records
from cli_request import Capture, scan, head_body, header


def features():
    r = run(["--version"])
    return r.stdout.split("Features:")[-1].split()


def offer():
    f = features()
    return ", ".join((["gzip", "deflate"] if "zlib" in f else []) +
                     (["br"] if "brotli" in f else []))


def test_compressed_offer(t):
    cap = Capture()
    try:
        if not offer():
            r = run(["--compressed", "/dev/null"])
            check(r.returncode == 2 and "--compressed" in r.stderr and
                  "built in" in r.stderr, f"none built in: {r.stderr}")
            return
        _, req = scan(cap, "/on", ["--compressed"])
        lines = head_body(req)[1]
        check(header(lines, "Accept-Encoding") == [offer().encode()],
              f"offered: {req}")
        # as curl: Accept, then Accept-Encoding
        names = [l.split(b":", 1)[0] for l in lines]
        check(names.index(b"Accept-Encoding") == names.index(b"Accept") + 1,
              f"order: {names}")
        _, req = scan(cap, "/off", [])
        check(header(head_body(req)[1], "Accept-Encoding") == [],
              f"not offered: {req}")
        # a user's line wins (and is sent once)
        _, req = scan(cap, "/user", ["--compressed", "-H",
                                     "Accept-Encoding: br"])
        check(header(head_body(req)[1], "Accept-Encoding") == [b"br"],
              f"user line: {req}")
        # a flag, once
        r = run(["--compressed", "--compressed", "/dev/null"])
        check(r.returncode == 2 and "--compressed" in r.stderr,
              f"twice: {r.stderr}")
        r = run(["--help"])
        check("--compressed" in r.stdout, "--help")
    finally:
        cap.close()


def curl_sha(url, limit):
    """SHA-256 of the first `limit` bytes curl --compressed gives (a
    bomb's gigabyte is never read: curl is stopped there)."""
    p = subprocess.Popen(["curl", "-s", "--compressed", "--max-time", "30",
                          url], stdout=subprocess.PIPE)
    try:
        got = b""
        while len(got) < limit:
            chunk = p.stdout.read(min(65536, limit - len(got)))
            if not chunk:
                break
            got += chunk
    finally:
        if len(got) >= limit:
            p.kill()
        p.stdout.close()
        rc = p.wait(timeout=60)
    return hashlib.sha256(got).hexdigest(), 0 if len(got) >= limit else rc


def hscan(t, names, args):
    lines = "".join(f"127.0.0.1:{t.http}/ce/{n}\n" for n in names)
    r = run(["-q", "-f", "json", "--compressed", "-c", "4"] + args + ["-"],
            input=lines)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    recs = {x["input"].rsplit("/", 1)[1]: x for x in records(r.stdout)}
    check(len(recs) == len(names), f"records: {r.stdout}")
    return recs


def test_compressed_decode(t):
    f = features()
    if "zlib" not in f and "brotli" not in f:
        return                  # test_compressed_offer: refused
    check(shutil.which("curl") is not None, "curl is needed "
          "(tools/install-deps.sh)")
    names = ((["gzip", "xgzip", "deflate", "rawdeflate", "gzchunked"]
              if "zlib" in f else []) +
             (["br"] if "brotli" in f else []) +
             (["gzipbr"] if "zlib" in f and "brotli" in f else []))
    recs = hscan(t, names + ["identity"], ["--body-bytes", "1000000"])
    plain = recs["identity"]
    want = plain["body"]["sha256"]
    check(plain["title"] == "Coded page" and
          plain["body"]["decode"] is None and
          plain["body"]["encoding"] is None and
          plain["body"]["wire_bytes"] == plain["body"]["bytes"],
          f"identity: {plain}")
    for n in names:
        rec = recs[n]
        b = rec["body"]
        ce = [v for k, v in rec["headers"] if k == "Content-Encoding"]
        check(rec["title"] == "Coded page" and b["sha256"] == want and
              b["bytes"] == plain["body"]["bytes"] and
              not b["truncated"] and b["decode"] == "done" and
              b["encoding"] == ce[0].lower() and
              0 < b["wire_bytes"] < b["bytes"], f"{n}: {rec}")
        sha, rc = curl_sha(f"http://127.0.0.1:{t.http}/ce/{n}", 1 << 30)
        check(rc == 0 and sha == b["sha256"], f"{n}: curl gave {sha}")
        # the order in the record: decode's keys right after sha256
        check(list(b)[:6] == ["bytes", "truncated", "sha256",
                               "wire_bytes", "encoding", "decode"],
              f"{n}: keys {list(b)}")
    # without --compressed: the bytes as they came, no decode keys
    r = run(["-q", "-f", "json", "-"], input=f"127.0.0.1:{t.http}/ce/"
            f"{names[0]}\n")
    raw = records(r.stdout)[0]
    check(raw["title"] is None and raw["body"]["sha256"] != want and
          "decode" not in raw["body"], f"off: {raw}")


def test_compressed_faults(t):
    f = features()
    if "zlib" not in f:
        return
    recs = hscan(t, ["gzcorrupt", "gzcut", "unknown", "gzbomb"] +
                 (["brbomb"] if "brotli" in f else []),
                 ["--body-bytes", "1048576"])
    c = recs["gzcorrupt"]["body"]
    check(c["decode"] == "corrupt" and c["truncated"], f"corrupt: {c}")
    c = recs["gzcut"]["body"]
    check(c["decode"] == "cut" and 0 < c["bytes"], f"cut: {c}")
    c = recs["unknown"]
    check(c["body"]["decode"] == "unknown_encoding" and
          c["body"]["encoding"] == "compress" and
          c["title"] == "Coded page", f"unknown: {c}")
    # a bomb: the decoded cap ends it at once, named; curl agrees on
    # the bytes up to there
    for n in ["gzbomb", "brbomb"] if "brotli" in f else ["gzbomb"]:
        b = recs[n]["body"]
        check(b["decode"] == "decoded_limit" and b["truncated"] and
              b["bytes"] == 1048576 and b["wire_bytes"] < 1048576,
              f"{n}: {b}")
        sha, _ = curl_sha(f"http://127.0.0.1:{t.http}/ce/{n}", 1048576)
        check(sha == b["sha256"], f"{n}: curl gave {sha}")
    # memory: ten bombs at once stay within the decoders' state and the
    # 1 MiB of each body
    r = run(["-f", "json", "--compressed", "-c", "10", "--body-bytes",
             "1048576", "-"],
            input=f"127.0.0.1:{t.http}/ce/gzbomb\n" * 10)
    rss = float(r.stderr.split("peak RSS ")[1].split(" MiB")[0])
    check(r.returncode == 0 and rss < 64, f"RSS {rss} MiB: {r.stderr}")
