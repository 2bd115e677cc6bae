#!/usr/bin/env python3
"""The documented record keys are the record's keys.

Usage: check-record-keys.py CLI TESTD RESULTS_MD AUDIT_MD MAN_PAGE

Runs hscan-cli against hscan-testd for records of several shapes (ok
with a body and the audit, a followed redirect, TLS with a certificate
that fails verification, an https-first fallback, DNS and input
errors), collects every key path they hold, and compares the set with
what the documentation lists:

* docs/results.md, table "## Keys": every backticked name in its `key`
  column is a full path (`dns.addresses`, `redirects[].url`);
* docs/results.md, table "## HTTPS: the `tls` object": paths under
  `tls.`;
* docs/audit.md, table "## The JSON object": paths under `audit.`;
* the man page's OUTPUT section: the `.TP` / `.B key` list, top-level
  keys only, in record order.

Paths: an object's member is `parent.member`; the members of objects
inside an array are `array[].member`; arrays of strings or of arrays
(headers) are leaves.  A documented path implies its parents.

Fails with the differences listed both ways: a key added to
lib/result.c without a row in the tables fails here, and so does a row
for a key the record does not have.  The top-level keys of the table
must also be in the record's order (results.md promises it).
"""
import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testd import Testd  # noqa: E402

CLI, TESTD, RESULTS, AUDIT, MAN = sys.argv[1:6]
# only in records of a scan with a path list, with --favicon, with
# --extract
OPTIONAL = ["path", "favicon", "extracts"]
# Members of objects hscan-testd never sends (a stapled OCSP response,
# SCTs): test-tls-ocsp.py checks them against openssl s_server.
ELSEWHERE = ("tls.ocsp.", "tls.scts[].")


def scan(lines, *args, per_line=1):
    r = subprocess.run([CLI, "-q", "--max-per-ip", "0", *args],
                       input="\n".join(lines) + "\n", capture_output=True,
                       text=True, timeout=60)
    if r.returncode not in (0, 1):
        sys.exit(f"hscan-cli {args}: exit {r.returncode}: {r.stderr}")
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    if len(recs) != len(lines) * per_line:
        sys.exit(f"{len(recs)} records for {len(lines)} lines: {r.stdout}")
    return recs


def features():
    out = subprocess.run([CLI, "--version"], capture_output=True,
                         text=True, timeout=10).stdout
    return out.split("Features:")[-1].split()


def has_http2():
    return "http2" in features()


# body.wire_bytes, body.encoding, body.decode: with --compressed, which
# needs zlib or brotli built in.
DECODE_KEYS = ("body.wire_bytes", "body.encoding", "body.decode")


def coded_name():
    f = features()
    return "gzip" if "zlib" in f else "br" if "brotli" in f else None


def has_pcre2():
    out = subprocess.run([CLI, "--version"], capture_output=True,
                         text=True, timeout=10).stdout
    return "pcre2" in out.split("Features:")[-1].split()


def records(t):
    http, https = t.http, t.https
    common = ["--resolver", t.dns, "--timeout", "10"]
    recs = []
    # ok with a body, the audit; a redirect followed; errors
    recs += scan([f"fast.test:{http}", f"http://r302.test:{http}/",
                  "nx.test", "ftp://example.com/"],
                 *common, "--scheme", "http", "--audit", "--follow", "2")
    # TLS: verified, and one that fails verification (-k keeps it)
    recs += scan([f"https://valid.test:{https}/",
                  f"https://selfsigned.test:{https}/"],
                 *common, "--ca-file", t.ca, "-k", "--tls-chain")
    # https-first on a plain-HTTP port: the fallback
    recs += scan([f"fast.test:{http}"], *common, "--scheme", "https-first")
    # a path list: the optional "path" key (one record per path)
    recs += scan([f"fast.test:{http}"], *common, "--scheme", "http",
                 "--path", "/a", "--path", "/b", per_line=2)
    # the icon and every body hash: "favicon", body.md5, body.mmh3,
    # with a path list too (the record holding every optional key)
    recs += scan([f"fast.test:{http}"], *common, "--scheme", "http",
                 "--favicon", "--hash", "sha256,md5,mmh3",
                 "--path", "/b/fav-1", "--path", "/b/fav-0", per_line=2)
    # --compressed: a coded body, decoded (server-coded.c)
    if coded_name():
        recs += scan([f"127.0.0.1:{http}/ce/{coded_name()}"], *common,
                     "--scheme", "http", "--compressed")
    want = {"body": 1, "audit": 1, "redirects": 1, "tls": 1,
            "fallback": 1, "path": 1, "favicon": 1}
    if has_pcre2():
        # --extract: the optional "extracts" key, after "body"
        recs += scan([f"fast.test:{http}"], *common, "--scheme", "http",
                     "--extract", "<(?<tag>[a-z]+)>")
        want["extracts"] = 1
    if t.h2:
        # HTTP/2: facts, a GOAWAY and a reset stream (test/server-h2.h)
        p = t.h2["h2"]
        recs += scan([f"https://fast.test:{p}/h2/normal",
                      f"https://fast.test:{p}/h2/goaway",
                      f"https://fast.test:{p}/h2/rst"],
                     *common, "--ca-file", t.ca)
        want["h2"] = 1
        for k in ("goaway", "rst_stream"):
            if not any((r.get("h2") or {}).get(k) for r in recs):
                sys.exit(f"no record with h2.{k}: the HTTP/2 shapes no "
                         f"longer cover it")
    for k in want:
        if not any(r.get(k) for r in recs):
            sys.exit(f"no record with a non-empty {k!r}: the shapes "
                     f"above no longer cover it")
    return recs


def paths(v, prefix, out):
    if isinstance(v, dict):
        for k, x in v.items():
            p = f"{prefix}.{k}" if prefix else k
            out.add(p)
            paths(x, p, out)
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, dict):
                paths(x, prefix + "[]", out)


def table_keys(md, heading, prefix):
    """Backticked names in the `key` column of the first table after
    the line `heading`."""
    lines = open(md, encoding="utf-8").read().splitlines()
    if heading not in lines:
        sys.exit(f"{md}: heading {heading!r} not found")
    i = lines.index(heading) + 1
    while i < len(lines) and not lines[i].startswith("|"):
        i += 1
    cols = [c.strip() for c in lines[i].strip("|").split("|")]
    if "key" not in cols:
        sys.exit(f"{md}: the table under {heading!r} has no `key` column")
    col = cols.index("key")
    keys = []
    for row in lines[i + 2:]:
        if not row.startswith("|"):
            break
        cells = [c.strip() for c in row.strip("|").split("|")]
        for k in re.findall(r"`([^`]+)`", cells[col]):
            keys.append(prefix + k)
    return keys


def man_keys(man):
    text = open(man, encoding="utf-8").read()
    sect = text.split("\n.SH OUTPUT\n", 1)[1].split("\n.SH ", 1)[0]
    return re.findall(r"^\.TP\n\.B (\S+)$", sect, re.M)


def with_parents(keys):
    out = set()
    for k in keys:
        parts = k.split(".")
        for n in range(1, len(parts) + 1):
            p = ".".join(parts[:n])
            out.add(p[:-2] if p.endswith("[]") else p)
    return out


def diff(what, real, documented):
    missing = sorted(real - documented)
    stale = sorted(documented - real)
    msgs = []
    if missing:
        msgs.append(f"{what}: in the record but not documented: "
                    + ", ".join(missing))
    if stale:
        msgs.append(f"{what}: documented but not in any record: "
                    + ", ".join(stale))
    return msgs


def main():
    h2 = has_http2()
    t = Testd(TESTD, 120, h2=h2)
    try:
        recs = records(t)
    finally:
        t.stop()
    real = set()
    for r in recs:
        paths(r, "", real)
    # extracts.values: its member names are the patterns' groups
    real = {p for p in real if not p.startswith("extracts.values.")}
    # keys present only in some scans' records (results.md): every
    # record's keys are the fullest record's, less some of those
    full = max((list(r.keys()) for r in recs), key=len)
    for r in recs:          # keys of other records, after their forerunner
        keys = list(r.keys())
        for i, k in enumerate(keys):
            if k not in full:
                full.insert(full.index(keys[i - 1]) + 1 if i else 0, k)
    errs = [f"record {r['input']!r}: top-level keys {list(r.keys())}"
            for r in recs
            if [k for k in full if k in r] != list(r.keys()) or
            any(k not in r and k not in OPTIONAL for k in full)]

    top = table_keys(RESULTS, "## Keys", "")
    documented = with_parents(
        top + table_keys(RESULTS, "## HTTPS: the `tls` object", "tls.")
        + table_keys(AUDIT, "## The JSON object", "audit."))
    documented = {k for k in documented if not k.startswith(ELSEWHERE)}
    if not h2:      # a build without HTTP/2: its object is always null
        documented = {k for k in documented if not k.startswith("h2.")}
    if not coded_name():    # no decoder built in: never written
        documented = {k for k in documented if k not in DECODE_KEYS}
    if not has_pcre2():     # without PCRE2 no --extract: no "extracts"
        documented = {k for k in documented
                      if not k.startswith("extracts")}
    errs += diff("docs/results.md (and audit.md)", real, documented)
    top_order = [k for k in top if "." not in k and
                 (has_pcre2() or k != "extracts")]
    order = full
    if not errs and top_order != order:
        errs.append(f"docs/results.md: top-level keys in the order "
                    f"{top_order}, the record's is {order}")

    man = [k for k in man_keys(MAN) if has_pcre2() or k != "extracts"]
    errs += diff("hscan-cli.1 OUTPUT", set(order), set(man))
    if not errs and man != order:
        errs.append(f"hscan-cli.1 OUTPUT: keys in the order {man}, the "
                    f"record's is {order}")
    if errs:
        print("\n".join(errs))
        sys.exit(1)
    print(f"{len(real)} key paths in {len(recs)} records, all documented; "
          f"{len(order)} top-level keys in the man page")


if __name__ == "__main__":
    main()
