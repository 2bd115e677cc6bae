#!/usr/bin/env python3
"""Differential test: hscan-cli against curl on a corpus of raw replies.

Usage: test-curl-diff.py CLI CORPUS_DIR EXPECT_FILE RESULTS_MD

Each case of test/http-corpus/ (format in its README.md) is served on
127.0.0.1 (a port-0 listener, one case per connection, picked by the
request path /case/NNN) and read by curl (`curl -sS -D - -o /dev/null`)
and by hscan-cli (every case in one run, JSON Lines).  For every case
curl reads, the status and the header list (names and values, in order)
must agree, unless the case is an intended difference (INTENDED below,
the same ids as docs/results.md "Differences from curl") or listed in
EXPECT_FILE (disagreements known on main, waiting for the parser).  A
case on neither list that disagrees fails the test; a listed case that
now agrees is reported so the list can shrink.  curl missing is a
failure, not a skip: CI installs it (tools/install-deps.sh).

Every subprocess has a timeout; the whole run is bounded by DEADLINE.
"""
import asyncio
import json
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import time

DEADLINE = 90           # seconds for the whole run: 10 CPU-seconds,
                        # 45 s on two cores at load 20
CURL_JOBS = 16          # curl processes at once
CURL_MAX_TIME = 5       # curl --max-time
REQ_HEAD_MAX = 16384    # request head bytes the server reads at most
RESET_AFTER = 0.2       # seconds between the last byte and a RST

# Intended differences: case id -> why hscan does not follow curl there.
# docs/results.md "Differences from curl" lists the same ids (checked).
_CAP = ("hscan-cli caps each probe's header block (--max-headers 256, "
        "--max-header-bytes 65536: bounded memory per target); curl takes "
        "any count, 100 KiB a line, 300 KiB a block")
_OWS = ("RFC 9110 5.5: white space around a field value is not part of "
        "it; hscan records the value without it at either end (as browsers "
        "do, Fetch's normalize); curl -D prints the line's bytes")
_FOLD = ("RFC 9112 5.2: a recipient replaces each obs-fold with SP; hscan "
         "joins the continuation with one SP and names obs_fold; curl keeps "
         "the continuation's own white space")
_NAME_WS = ("RFC 9112 5.1: no white space between name and colon (a proxy "
            "MUST remove it); hscan records the name without it and names "
            "space_before_colon; curl keeps it in the name")
INTENDED = {
    "193": _CAP,        # 257 fields
    "194": _CAP,        # 1000 fields
    "199": _CAP,        # 70000-byte block
    "201": _CAP,        # one 70000-byte line
    "205": _CAP,        # 300 empty fields
    "028": _OWS,        # Content-Length:    3   
    "044": _OWS,        # Transfer-Encoding: chunked <tab><sp>
    "144": _OWS,        # X-A: v <tab><sp>
    "029": _OWS,        # Content-Length:<tab>3<tab>
    "123": _FOLD,       # continuation starting with HTAB
    "125": _FOLD,       # empty first line, then a continuation
    "128": _NAME_WS,    # "X-A : 1"
    "129": _NAME_WS,    # "X-A<tab>: 1"
    "225": ("the server closed inside an interim 103's head: hscan has no "
            "final response (read_closed, the 103 in `interim` only when "
            "its head ended); curl reports the 103 as the response"),
}


class Fail(Exception):
    pass


# ---------------------------------------------------------------- corpus

ESC = re.compile(rb"\\(x[0-9a-fA-F]{2}|[rnt\\]|.)", re.S)


def decode_body(text, where):
    """Corpus escapes: \\r \\n \\t \\\\ \\xNN; real newlines are not part
    of the reply (test/http-corpus/README.md)."""
    raw = text.replace(b"\r", b"").replace(b"\n", b"")

    def one(m):
        e = m.group(1)
        if e[:1] == b"x" and len(e) == 3:
            return bytes([int(e[1:], 16)])
        simple = {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"\\": b"\\"}
        if e in simple:
            return simple[e]
        raise Fail(f"{where}: unknown escape \\{e.decode(errors='replace')}")
    return ESC.sub(one, raw)


def load_case(path):
    """-> dict(id, name, after, hold, about, data)."""
    base = os.path.basename(path)
    m = re.fullmatch(r"(\d{3})-([a-z0-9-]+)\.http", base)
    if not m:
        raise Fail(f"{base}: want NNN-name.http")
    lines = open(path, "rb").read().split(b"\n")
    about, after, hold = [], "close", 0.0
    while lines and lines[0].startswith(b"#"):
        line = lines.pop(0)[1:].strip().decode()
        if line.startswith("after:"):
            words = line[6:].split()
            after = words[0]
            if after not in ("close", "reset", "hold") or \
                    (after == "hold") != (len(words) == 2):
                raise Fail(f"{base}: bad '# after:' line")
            if after == "hold":
                hold = float(words[1])
        else:
            about.append(line)
    return {"id": m.group(1), "name": m.group(2), "after": after,
            "hold": hold, "about": " ".join(about),
            "data": decode_body(b"\n".join(lines), base)}


def load_corpus(d):
    cases = [load_case(os.path.join(d, f)) for f in sorted(os.listdir(d))
             if f.endswith(".http")]
    ids = [c["id"] for c in cases]
    if len(set(ids)) != len(ids):
        raise Fail("two corpus files share an id")
    return {c["id"]: c for c in cases}


def load_expect(path):
    """EXPECT_FILE: 'NNN reason' lines, '#' comments."""
    out = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            cid, _, why = line.partition(" ")
            out[cid] = why.strip()
    return out


def doc_ids(path):
    """Case ids in the first column of the table under docs/results.md's
    "Differences from curl" heading."""
    text = open(path).read()
    m = re.search(r"^## Differences from curl\n(.*?)(?=^## |\Z)", text,
                  re.S | re.M)
    if not m:
        raise Fail(f"{path}: no '## Differences from curl' section")
    return {x for x in re.findall(r"^\| *`?(\d{3})`? *\|", m.group(1), re.M)}


# ---------------------------------------------------------------- server

async def serve_one(reader, writer, cases):
    sock = writer.get_extra_info("socket")
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError,
            asyncio.TimeoutError, ConnectionError):
        writer.close()
        return
    m = re.match(rb"[A-Z]+ /case/(\d{3}) ", head)
    case = cases.get(m.group(1).decode()) if m else None
    if case is None:
        writer.write(b"HTTP/1.1 404 No Such Case\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        return
    try:
        writer.write(case["data"])
        await writer.drain()
        if case["after"] == "hold":
            await asyncio.sleep(case["hold"])
        elif case["after"] == "reset":
            # A RST makes the peer's kernel drop what it has not read
            # yet: give the client time to read the bytes first.
            await asyncio.sleep(RESET_AFTER)
            # SO_LINGER 0: close() sends RST instead of FIN.  (A client
            # that has already closed, as hscan does once it has what it
            # reads, took the socket with it.)
            if not writer.transport.is_closing():
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
    except OSError:             # ConnectionError included
        pass
    writer.close()


# ---------------------------------------------------------------- clients

async def run_proc(argv, timeout):
    p = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(p.communicate(), timeout)
    except asyncio.TimeoutError:
        raise Fail(f"{argv[0]} ran over {timeout} s: {argv[1:]}")
    finally:
        # Also when DEADLINE cancels the run: leave no process behind.
        if p.returncode is None:
            p.kill()
            await p.wait()
    return p.returncode, out, err


def parse_curl(rc, out, err):
    """curl's -D output: blocks of lines (split at LF, one CR before it
    dropped), a block ended by an empty line or one that starts with CR
    (curl 7.88 ends the header block there).  The first block that is
    not a 1xx (101 is final) is the response; those before it are
    interim responses, one after it holds a chunked body's trailers.

    A field's name is what precedes the first ':'; its value what
    follows, leading SP/HTAB dropped, trailing white space kept (curl
    prints each line as received).  A line starting with SP or HTAB
    continues the previous field (obs-fold, RFC 9112 5.2) and is joined
    as curl_easy_header() joins it (curl lib/headers.c, unfold_value):
    trailing SP/HTAB dropped from the value so far and from the
    continuation, the continuation's leading blanks cut to its last one,
    then appended.

    curl read the case when it printed a status line and either exited
    0 (it takes a header block cut off by the close as the response) or
    ended a final response's header block before its error (a body
    error, --max-time).
    """
    m = re.search(rb"@@curl-diff (\d+)", err)
    code = int(m.group(1)) if m else 0
    msg = re.sub(rb"@@curl-diff \d+\n?", b"", err).decode(
        errors="replace").strip()
    blocks, cur = [], None
    lines = out.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for line in lines:
        if line.endswith(b"\r"):
            line = line[:-1]
        if cur is None:
            cur = {"status_line": line, "headers": [], "ended": False}
            blocks.append(cur)
        elif line == b"" or line[:1] == b"\r":
            cur["ended"] = True
            cur = None
        elif line[:1] in (b" ", b"\t") and cur["headers"]:
            n, v = cur["headers"][-1]
            cont = line.rstrip(b" \t")
            while len(cont) > 1 and cont[1:2] in (b" ", b"\t"):
                cont = cont[1:]
            cur["headers"][-1] = (n, v.rstrip(b" \t") + cont)
        else:
            n, _, v = line.partition(b":")
            cur["headers"].append((n, v.lstrip(b" \t")))
    # The response is the first block that is not a 1xx (101 is final);
    # a block after it holds trailer fields of a chunked body.
    def interim(b):
        return re.match(rb"\S+[ \t]+1(?!01)\d\d\b", b["status_line"])
    final = 0
    while final + 1 < len(blocks) and interim(blocks[final]):
        final += 1
    last = blocks[final] if blocks else None
    return {"rc": rc, "msg": msg, "code": code,
            "read": last is not None and code > 0 and
            (rc == 0 or (last["ended"] and not interim(last))),
            "interim": final, "trailers": len(blocks) - final - 1
            if blocks else 0,
            "ended": bool(last and last["ended"]),
            "headers": last["headers"] if last else []}


async def run_curl(port, cid, sem):
    async with sem:
        rc, out, err = await run_proc(
            ["curl", "-sS", "-D", "-", "-o", "/dev/null",
             "--max-time", str(CURL_MAX_TIME),
             "-w", "%{stderr}@@curl-diff %{http_code}\n",
             f"http://127.0.0.1:{port}/case/{cid}"], CURL_MAX_TIME + 10)
    return parse_curl(rc, out, err)


# \u0080..\u00ff escapes stand for raw bytes (docs/results.md "String
# encoding"): make them lone surrogates, back to bytes below.
RAW = re.compile(r'(?<!\\)((?:\\\\)*)\\u00([89a-fA-F][0-9a-fA-F])')


def to_bytes(s):
    return s.encode("utf-8", "surrogateescape")


async def run_hscan(cli, port, ids, tmp):
    lst = os.path.join(tmp, "targets.txt")
    with open(lst, "w") as f:
        for cid in ids:
            f.write(f"http://127.0.0.1:{port}/case/{cid}\n")
    rc, out, err = await run_proc(
        [cli, "-q", "--scheme", "http", "--max-per-ip", "0", "-c", "64",
         "--timeout", "10", lst], 60)
    if rc != 0:
        raise Fail(f"hscan-cli exit {rc}: {err.decode(errors='replace')}")
    recs = {}
    for line in out.decode().splitlines():
        r = json.loads(RAW.sub(r"\1\\udc\2", line))
        cid = r["input"].rsplit("/", 1)[1]
        recs[cid] = {"status": r["status"], "error": r["error"],
                     "detail": r["error_detail"],
                     "headers": [(to_bytes(n), to_bytes(v))
                                 for n, v in r["headers"]]}
    missing = [c for c in ids if c not in recs]
    if missing:
        raise Fail(f"hscan-cli gave no record for {missing}")
    return recs


async def collect(cli, cases, tmp):
    server = await asyncio.start_server(
        lambda r, w: serve_one(r, w, cases), "127.0.0.1", 0,
        limit=REQ_HEAD_MAX)
    port = server.sockets[0].getsockname()[1]
    sem = asyncio.Semaphore(CURL_JOBS)
    ids = sorted(cases)
    try:
        got = await asyncio.gather(run_hscan(cli, port, ids, tmp),
                                   *(run_curl(port, c, sem) for c in ids))
    finally:
        server.close()
    return got[0], dict(zip(ids, got[1:]))


# ---------------------------------------------------------------- compare

def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"field {i}: curl {x!r} hscan {y!r}"[:160]
    return f"curl {len(a)} fields, hscan {len(b)}"


def compare(cases, hscan, curl, expect):
    """One table row per case, a note per case that does not agree."""
    rows, notes = [], []
    n_read = st_ok = hd_ok = refused = 0
    intended, pending, unexpected, stale = [], [], [], []
    for cid in sorted(cases):
        c, h, k = cases[cid], hscan[cid], curl[cid]
        hs = (f"{h['status']}" if h["status"] is not None else "-") + \
             (f" {h['error']}" if h["error"] else "")
        cs = f"rc={k['rc']} {k['code'] or '-'}" + \
            (f" +{k['interim']}x1xx" if k["interim"] else "") + \
            (" +trailers" if k["trailers"] else "") + \
            ("" if k["ended"] or not k["read"] else " (no blank line)")
        detail = f" ({h['detail']})" if h["detail"] else ""
        if not k["read"]:
            refused += 1
            verdict = "curl refused"
            notes.append(f"{cid}: curl refused ({k['msg'] or k['rc']}); "
                         f"hscan: {hs}{detail}")
            if cid in INTENDED or cid in expect:
                stale.append(cid)
        else:
            n_read += 1
            s_same = h["status"] == k["code"]
            h_same = h["headers"] == k["headers"]
            st_ok += s_same
            hd_ok += h_same
            if s_same and h_same:
                verdict = "agree"
                if cid in INTENDED or cid in expect:
                    stale.append(cid)
            else:
                why = [] if s_same else [f"status curl {k['code']} hscan {hs}"]
                if not h_same:
                    why.append(first_diff(k["headers"], h["headers"]))
                why = "; ".join(why)
                if cid in INTENDED:
                    verdict = "intended"
                    intended.append(cid)
                elif cid in expect:
                    verdict = "pending"
                    pending.append(cid)
                else:
                    verdict = "DISAGREE"
                    unexpected.append(f"{cid}-{c['name']}: {why}")
                notes.append(f"{cid}: {verdict}: {why}{detail}")
        rows.append(f"{cid} {c['name'][:34]:34} {cs:28} {hs:26} {verdict}")
    return {"rows": rows, "notes": notes, "read": n_read, "st_ok": st_ok,
            "hd_ok": hd_ok, "refused": refused, "intended": intended,
            "pending": pending, "unexpected": unexpected, "stale": stale}


def main():
    args = sys.argv[1:]
    if len(args) != 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    cli, corpus, expect_file, results_md = args
    start = time.monotonic()
    if shutil.which("curl") is None:
        raise Fail("curl not found: install it (tools/install-deps.sh)")
    cases = load_corpus(corpus)
    expect = load_expect(expect_file)
    problems = []
    for name, ids in (("INTENDED", INTENDED), (expect_file, expect)):
        bad = sorted(set(ids) - set(cases))
        if bad:
            problems.append(f"{name} names cases not in the corpus: {bad}")
    both = sorted(set(INTENDED) & set(expect))
    if both:
        problems.append(f"cases both intended and pending: {both}")
    in_doc = doc_ids(results_md)
    if in_doc != set(INTENDED):
        problems.append("docs/results.md 'Differences from curl' and "
                        f"INTENDED differ: only in the doc "
                        f"{sorted(in_doc - set(INTENDED))}, only in the "
                        f"script {sorted(set(INTENDED) - in_doc)}")
    with tempfile.TemporaryDirectory(prefix="hscan-curl-diff-") as tmp:
        try:
            hscan, curl = asyncio.run(asyncio.wait_for(
                collect(cli, cases, tmp), DEADLINE))
        except asyncio.TimeoutError:
            raise Fail(f"the run took over {DEADLINE} s")
    r = compare(cases, hscan, curl, expect)
    ver = os.popen("curl --version").readline().strip()
    print(f"{len(cases)} cases; {ver}")
    print(f"{'id':3} {'case':34} {'curl':28} {'hscan':26} verdict")
    for row in r["rows"]:
        print(row)
    for n in r["notes"]:
        print("  " + n)
    if r["stale"]:
        print("listed as differences but no longer differing (agree, or "
              "curl refuses them): " + " ".join(r["stale"]) +
              "; take them off the list")
    print(f"status: {r['st_ok']}/{r['read']} agree, headers: "
          f"{r['hd_ok']}/{r['read']} agree, curl refused: {r['refused']}, "
          f"intended differences: {len(r['intended'])}, pending (expect "
          f"file): {len(r['pending'])}, unexpected: {len(r['unexpected'])}"
          f"  [{time.monotonic() - start:.1f} s]")
    problems += [f"unexpected disagreement {u}" for u in r["unexpected"]]
    for p in problems:
        print("FAIL " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print(f"FAIL {e}")
        sys.exit(1)
