"""test-cli.py: output formats, -f json|csv|table, --fields, --header
(docs/cli.md "Output formats").

Run through test-cli.py, which imports every test_* here."""
import os
import re
import subprocess

from cli_common import (CLI, plain, TMP, check, write_list, run,
                        records, run_pty)


# ---- output formats: -f json|csv|table, --fields, --header NAME
# (docs/cli.md "Output formats") ----

def run_bytes(args, timeout=60, env=None):
    return subprocess.run([CLI] + plain(args) + args, capture_output=True,
                          timeout=timeout, env=env)


def csv_rows(raw):
    """Parse CSV output (bytes as received: surrogateescape) with
    Python's csv module; every physical line must end in CRLF."""
    import csv
    import io
    check(raw.endswith(b"\r\n"), f"CSV does not end in CRLF: {raw[-40:]!r}")
    check(b"\n" not in raw.replace(b"\r\n", b""), "a bare LF in the CSV")
    text = raw.decode("utf-8", "surrogateescape")
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


def raw_bytes(s):
    return s.encode("utf-8", "surrogateescape")


def format_list(t):
    return write_list("format.txt", [
        f"fast.test:{t.http}", "nx.test", "bad host!",
        f'127.0.0.1:{t.http}/r?to=a,"b"', f"127.0.0.1:{t.http}/b/ctl",
        f"http://notfound.test:{t.http}/"])


CSV_DEFAULT = ["input", "url", "status", "title", "server", "content_type",
               "content_length", "tls_not_after", "total_ms", "error"]


def test_format_csv(t):
    """-f csv: a header row, then one RFC 4180 row per target that
    Python's csv module reads back to the values the JSON record has."""
    lst = format_list(t)
    r = run_bytes(["-q", "--resolver", t.dns, "-f", "csv", lst])
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr!r}")
    check(r.stdout.startswith(b",".join(x.encode() for x in CSV_DEFAULT) +
                              b"\r\n"), f"header row: {r.stdout[:200]!r}")
    rows = csv_rows(r.stdout)
    check(rows[0] == CSV_DEFAULT, f"header {rows[0]}")
    check(all(len(x) == len(CSV_DEFAULT) for x in rows), "ragged rows")
    got = {x[0]: dict(zip(CSV_DEFAULT, x)) for x in rows[1:]}
    check(len(rows) == 7 and len(got) == 6, f"{len(rows)} rows")
    fast = got[f"fast.test:{t.http}"]
    want = {"url": f"http://fast.test:{t.http}/", "status": "200",
            "title": "fast", "server": "hscan-test",
            "content_type": "text/html", "content_length": "32",
            "tls_not_after": "", "error": ""}
    check({k: fast[k] for k in want} == want, f"fast row {fast}")
    check(re.fullmatch(r"\d+\.\d{3}", fast["total_ms"]), "total_ms")
    nx = got["nx.test"]
    check(nx["url"] == "http://nx.test/" and nx["status"] == "" and
          nx["error"] == "dns_nxdomain" and nx["server"] == "", f"nx {nx}")
    bad = got["bad host!"]
    check(bad["url"] == "" and bad["total_ms"] == "0.000" and
          bad["error"] == "invalid_target", f"invalid {bad}")
    # a comma and quotes in the input and URL: quoted, quotes doubled
    red = f'127.0.0.1:{t.http}/r?to=a,"b"'
    check(got[red]["status"] == "302", f"302 row {got[red]}")
    check(f'"127.0.0.1:{t.http}/r?to=a,""b"""'.encode() in r.stdout,
          "quoting")
    # the same values as the JSON records
    j = {x["input"]: x for x in records(run(["-q", "--resolver", t.dns,
                                                "-f", "json", lst]).stdout)}
    for inp, row in got.items():
        rec = j[inp]
        server = [v for n, v in rec["headers"] if n.lower() == "server"]
        check(row["url"] == (rec["url"] or "") and
              row["status"] == str(rec["status"] or "") and
              row["server"] == (server[0] if server else "") and
              row["error"] == (rec["error"] or ""),
              f"{inp}: CSV {row} vs JSON {rec}")
    # response-header bytes as received: tab, DEL, invalid UTF-8
    r = run_bytes(["-q", "--resolver", t.dns, "-f", "csv", "--fields",
                   "input,location,header:X-Bin", lst])
    rows = {x[0]: x for x in csv_rows(r.stdout)[1:]}
    check(rows[red][1] == 'a,"b"', f"Location {rows[red]}")
    check(raw_bytes(rows[f"127.0.0.1:{t.http}/b/ctl"][2]) ==
          b"a\tb\x7fc\xff\xfed\xc3\xa9e", f"X-Bin {rows}")
    # an empty scan still has its header row
    r = run_bytes(["-q", "-f", "csv", "/dev/null"])
    check(r.returncode == 0 and r.stdout ==
          ",".join(CSV_DEFAULT).encode() + b"\r\n", f"empty: {r.stdout!r}")


def display_width(s):
    import unicodedata
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in s)


def test_format_table(t):
    """-f table into a pipe: a header line, then one line per target in
    fixed columns no wider than COLUMNS, server bytes made harmless,
    long values cut with an ellipsis, no colour off a terminal."""
    long_path = "/" + "p" * 300
    lst = write_list("table.txt", [
        f"fast.test:{t.http}", "nx.test", f"127.0.0.1:{t.http}/b/ctl",
        f"127.0.0.1:{t.http}/b/binval", f"127.0.0.1:{t.http}{long_path}",
        f"https://fast.test:{t.https}/"])
    for cols in (120, 200):
        env = dict(os.environ, COLUMNS=str(cols))
        r = run_bytes(["-q", "--resolver", t.dns, "-f", "table", "--header",
                       "X-Bin", lst], env=env)
        check(r.returncode == 0, f"exit {r.returncode}: {r.stderr!r}")
        text = r.stdout.decode("utf-8")      # valid UTF-8, whatever came
        lines = text.split("\n")
        check(lines[-1] == "" and len(lines) == 8, f"{len(lines)} lines")
        lines = lines[:-1]
        head = lines[0]
        labels = ["STATUS", "URL", "SERVER", "TITLE", "TLS EXPIRY", "MS",
                  "ERROR", "X-Bin"]
        pos = [head.find(x) for x in labels]
        check(pos[0] == 0 and pos == sorted(pos) and -1 not in pos,
              f"header {head!r}")
        for ln in lines:
            check(display_width(ln) <= cols, f"wider than {cols}: {ln!r}")
            check(not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f
                          for c in ln), f"control character: {ln!r}")
            check(ln == ln.rstrip(), "trailing blanks")
        by = {}
        for ln in lines[1:]:
            by[ln[pos[1]:pos[2]].strip()] = ln   # the URL column
        fast = by.get(f"http://fast.test:{t.http}/")
        check(fast is not None, f"no fast line: {lines}")
        check(fast[:pos[1]].strip() == "200" and
              fast[pos[2]:pos[3]].strip() == "hscan-test" and
              fast[pos[3]:pos[4]].strip() == "fast" and
              re.fullmatch(r"\d+(\.\d)?", fast[pos[4]:pos[6]].strip()) and
              fast[pos[6]:].strip() == "", f"fast line {fast!r}")
        nx = by["http://nx.test/"]
        check(nx[:pos[1]].strip() == "" and
              nx[pos[6]:pos[7]].strip() == "dns_nxdomain", f"nx {nx!r}")
        tls = by[f"https://fast.test:{t.https}/"]
        check(re.fullmatch(r"\d{4}-\d\d-\d\d", tls[pos[4]:pos[4] + 10])
              and "tls_cert_invalid" in tls, f"tls line {tls!r}")
        ctl = by[f"http://127.0.0.1:{t.http}/b/ctl"]
        want = "a b\ufffdc\ufffd\ufffdd\u00e9e"    # tab, DEL, 0xff 0xfe
        cell = ctl[pos[7]:]
        check(cell == want or (cols < 200 and cell.endswith("\u2026") and
                               want.startswith(cell[:-1]) and len(cell) > 4),
              f"ctl {ctl!r}")
        cut = [ln for ln in lines if "pppp" in ln][0]
        url = cut[pos[1]:pos[2]].rstrip()
        check(url.endswith("\u2026") and len(url) == pos[2] - pos[1] - 2,
              f"long URL not cut to its column: {cut!r}")
        check("\x1b" not in text, "colour into a pipe")
    # --audit adds an AUDIT column before ERROR
    r = run_bytes(["-q", "--resolver", t.dns, "-f", "table", "--audit",
                   lst], env=dict(os.environ, COLUMNS="120"))
    head = r.stdout.decode().split("\n")[0]
    check(r.returncode == 0 and re.search(r"\bAUDIT +ERROR$", head),
          f"--audit header {head!r}")


def test_format_tty(t):
    """On a terminal the default is the table, with colour unless
    NO_COLOR is set; with -o FILE it is JSON again."""
    lst = write_list("tty.txt", [f"fast.test:{t.http}", "nx.test"])
    rc, tty = run_pty(["-q", "--resolver", t.dns, lst], cols=120)
    text = tty.decode("utf-8")
    check(rc == 0 and "STATUS" in text and "hscan-test" in text,
          f"exit {rc}: {tty!r}")
    check("\x1b[32m200\x1b[0m" in text and "\x1b[31mdns_nxdomain" in text,
          f"colour: {tty!r}")
    plain = re.sub("\x1b\\[[0-9;]*m", "", text).replace("\r\n", "\n")
    check(all(display_width(x) <= 120 for x in plain.split("\n")),
          "wider than the terminal")
    os.environ["NO_COLOR"] = "1"
    try:
        rc, tty = run_pty(["-q", "--resolver", t.dns, lst], cols=90)
    finally:
        del os.environ["NO_COLOR"]
    check(rc == 0 and b"STATUS" in tty and b"\x1b" not in tty,
          f"NO_COLOR: {tty!r}")
    out = os.path.join(TMP, "tty.jsonl")
    rc, tty = run_pty(["-q", "--resolver", t.dns, "-o", out, lst], cols=90)
    check(rc == 0 and tty == b"" and len(records(open(out).read())) == 2,
          f"-o on a terminal: {tty!r}")


def test_format_fields(t):
    """--fields picks and orders the columns, --header NAME adds one,
    -H 'Name: value' is still a request header; bad names and
    conflicts exit 2 naming the option."""
    lst = format_list(t)
    r = run_bytes(["-q", "--resolver", t.dns, "-f", "csv", "--fields",
                   "status, input,header:x-dup", "--fields", "location",
                   "--header", "Server", "-H", "X-Req: 1", lst])
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr!r}")
    rows = csv_rows(r.stdout)
    check(rows[0] == ["status", "input", "header:x-dup", "location",
                      "header:Server"], f"header {rows[0]}")
    by = {x[1]: x for x in rows[1:]}
    check(by[f"fast.test:{t.http}"] ==
          ["200", f"fast.test:{t.http}", "1, 2", "", "hscan-test"],
          f"fast {by[f'fast.test:{t.http}']}")
    check(by["nx.test"] == ["", "nx.test", "", "", ""], "nx")
    # without -f, columns on a pipe mean CSV (JSON has every field)
    r = run_bytes(["-q", "--resolver", t.dns, "--header", "X-Dup", lst])
    check(r.returncode == 0 and
          csv_rows(r.stdout)[0] == CSV_DEFAULT + ["header:X-Dup"],
          f"implicit CSV: {r.stdout[:200]!r}")
    bad = [
        (["--fields", "status,nope"], ["--fields", "'nope'", "final_url"]),
        (["--fields", ","], ["--fields"]),
        (["--header", "X Y"], ["--header", "'X Y'", "Name: value"]),
        (["--header", ""], ["--header"]),
        (["-f", "json", "--fields", "status"], ["--fields", "jq"]),
        (["-f", "json", "--header", "Server"], ["--header", "jq"]),
        (["-f", "xml"], ["--format", "'xml'"]),
        (["--fields", "status", "-H", ": v"], ["-H"]),
    ]
    for args, words in bad:
        r = run(args + ["/dev/null"])
        check(r.returncode == 2 and all(w in r.stderr for w in words),
              f"{args}: exit {r.returncode}, {r.stderr!r}")
    # --resume reads JSON Lines: refused with csv/table, file untouched
    out = os.path.join(TMP, "resume-fmt.csv")
    with open(out, "wb") as f:
        f.write(b"status\r\n200\r\n")
    for args in (["-f", "csv"], ["-f", "table"], ["--fields", "status"]):
        r = run(args + ["--resume", out, "/dev/null"])
        check(r.returncode == 2 and "--resume" in r.stderr and
              "JSON" in r.stderr, f"{args}: {r.returncode} {r.stderr!r}")
    check(open(out, "rb").read() == b"status\r\n200\r\n",
          "--resume touched it")
    r = run(["--help"])
    check(all(w in r.stdout for w in ("--format", "--fields",
                                      "--header NAME")), "--help")


def test_format_default(t):
    """Into a pipe or a file the records are JSON Lines exactly as
    -f json writes them (and as before formats existed): no header
    row, nothing else."""
    lst = format_list(t)
    mask = re.compile(rb'"timing_ms":\{[^}]*\}')

    def norm(raw):
        return sorted(mask.sub(b"T", x) for x in raw.split(b"\n") if x)
    piped = run_bytes(["-q", "--resolver", t.dns, lst])
    asked = run_bytes(["-q", "--resolver", t.dns, "-f", "json", lst])
    out = os.path.join(TMP, "default.jsonl")
    filed = run_bytes(["-q", "--resolver", t.dns, "-o", out, lst])
    check(piped.returncode == asked.returncode == filed.returncode == 0,
          "exit")
    check(piped.stdout.startswith(b'{"schema":2,') and
          piped.stdout.endswith(b"}\n"), f"not JSON Lines: {piped.stdout!r}")
    check(len(records(piped.stdout.decode("utf-8"))) == 6, "6 records")
    check(norm(piped.stdout) == norm(asked.stdout) ==
          norm(open(out, "rb").read()), "default differs from -f json")
    check(b"\r" not in piped.stdout, "CR in JSON Lines")
