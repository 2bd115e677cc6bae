"""test-cli.py: the live status line and the summary table (docs/cli.md
"Progress", "Summary").

Run through test-cli.py, which imports every test_* here."""
import json
import os
import re
import subprocess

from cli_common import TMP, check, write_list, run, records, run_pty


# ---- live progress and the summary table (docs/cli.md "Progress",
# "Summary") ----

# one redraw on a terminal: "\r" DONE/TOTAL PCT% | RATE hosts/s | ...
PROGRESS_RE = re.compile(rb"\r(\d+)/(\d+) \d+% \| \d+ hosts/s \|[^\r]*?"
                         rb"\x1b\[K")
ERASE = b"\r\x1b[K"


def progress_list(t, name, n_fast=240, n_404=30, n_slow=30):
    """n_fast + n_404 + n_slow targets; the slow ones answer one after
    another over 0.3 to 1.5 s, so the status line is redrawn a few
    times with different counts."""
    lines = [f"f{i}.fast.test:{t.http}" for i in range(n_fast)]
    lines += [f"n{i}.notfound.test:{t.http}" for i in range(n_404)]
    lines += [f"s{i}.delay-{300 + 1200 * i // max(1, n_slow)}.test:"
              f"{t.http}" for i in range(n_slow)]
    return write_list(name, lines), len(lines)


def test_progress_pty(t):
    """stderr on a pseudo-terminal, records to a file: the status line
    is drawn there with done/total, never in the records, cut to the
    terminal's width, and erased before the summary."""
    lst, n = progress_list(t, "progress-pty.txt")
    out_path = os.path.join(TMP, "progress-pty.jsonl")
    with open(out_path, "wb") as out:
        rc, tty = run_pty(["--resolver", t.dns, lst], cols=100, stdout=out)
    check(rc == 0, f"exit {rc}: {tty[-2000:]!r}")
    raw = open(out_path, "rb").read()
    check(b"\r" not in raw and b"\x1b" not in raw and b"hosts/s" not in raw,
          "progress bytes in the records")
    check(len(records(raw.decode())) == n, "one record per target")
    draws = list(PROGRESS_RE.finditer(tty))
    done = [int(m.group(1)) for m in draws]
    check(len(draws) >= 3, f"{len(draws)} redraws: {tty[:2000]!r}")
    check(all(int(m.group(2)) == n for m in draws),
          f"total is not {n}: {[m.group(0) for m in draws]}")
    check(done == sorted(done) and done[-1] <= n and done[-1] >= n - 30,
          f"done counts {done}")
    check(all(len(m.group(0)) - 4 <= 99 for m in draws),
          "a status line wider than the terminal")
    summary = tty.find(b"hscan: %d targets" % n)
    check(summary > draws[-1].end(), "no summary after the status line")
    check(tty[summary - len(ERASE):summary] == ERASE,
          f"status not erased before the summary: "
          f"{tty[draws[-1].start():summary + 20]!r}")
    check(b"hosts/s |" not in tty[summary:], "status after the summary")
    # Narrow terminal: cut to 39 columns, so it never wraps.
    rc, tty = run_pty(["--resolver", t.dns, lst], cols=40,
                      stdout=subprocess.DEVNULL)
    cut = [m for m in re.finditer(rb"\r(\d+)/\d+ [^\r\x1b]*\x1b\[K", tty)]
    check(rc == 0 and cut and all(len(m.group(0)) - 4 <= 39 for m in cut),
          f"40 columns: {tty[:600]!r}")
    # Records to the same terminal: each stays a whole line (the status
    # is erased before a record and drawn again after).  JSON, not the
    # terminal's default table, so that each line can be parsed.
    rc, tty = run_pty(["--format", "json", "--resolver", t.dns, lst],
                      cols=100)
    recs = 0
    for m in re.finditer(rb'\{"schema"', tty):
        before = tty[max(0, m.start() - 4):m.start()]
        check(m.start() == 0 or before.endswith(b"\n") or before == ERASE,
              f"a record shares a line: {tty[m.start() - 120:m.start()]!r}")
        json.loads(tty[m.start():tty.index(b"\r\n", m.start())])
        recs += 1
    check(rc == 0 and recs == n, f"{recs} records on the terminal")
    check(len(PROGRESS_RE.findall(tty)) >= 3, "no status beside records")
    print(f"{len(draws)} redraws of {n} targets: "
          f"{draws[-1].group(0)[1:-3].decode()}")


def test_progress_pipe(t):
    """No status line on a pipe; --progress forces whole lines there;
    --no-progress and -q keep a terminal clean."""
    lines = [f"f{i}.fast.test:{t.http}" for i in range(20)]
    lines += [f"s{i}.delay-2300.test:{t.http}" for i in range(5)]
    lst = write_list("progress-pipe.txt", lines)
    r = run(["--resolver", t.dns, lst], timeout=60)
    check(r.returncode == 0 and r.stderr.startswith("hscan: 25 targets, "),
          f"pipe: {r.stderr}")
    check("progress" not in r.stderr and "\r" not in r.stderr and
          "\x1b" not in r.stderr, f"status on a pipe: {r.stderr!r}")
    r = run(["--progress", "--resolver", t.dns, lst], timeout=60)
    first = r.stderr.splitlines()[0] if r.stderr else ""
    check(re.match(r"hscan: progress 20/25 80% \| \d+ hosts/s \| 0:02, "
                   r"ETA .* \| ok 20, errors 0 \| 5 in flight \| avg ", first)
          is not None, f"--progress on a pipe: {r.stderr!r}")
    check("\r" not in r.stderr and "\x1b" not in r.stderr and
          "hscan: 25 targets, 25 ok" in r.stderr, f"{r.stderr!r}")
    check(len(records(r.stdout)) == 25, "records with --progress")
    short = write_list("progress-short.txt", lines[:20] + [
        f"s.delay-700.test:{t.http}"])
    rc, tty = run_pty(["--no-progress", "--resolver", t.dns, short],
                      stdout=subprocess.DEVNULL)
    check(rc == 0 and tty.startswith(b"hscan: 21 targets, 21 ok") and
          b"\x1b" not in tty, f"--no-progress on a terminal: {tty!r}")
    rc, tty = run_pty(["-q", "--resolver", t.dns, short],
                      stdout=subprocess.DEVNULL)
    check(rc == 0 and tty == b"", f"-q on a terminal: {tty!r}")
    rc, tty = run_pty(["--resolver", t.dns, short],
                      stdout=subprocess.DEVNULL)
    check(rc == 0 and PROGRESS_RE.search(tty), f"default: {tty!r}")
    r = run(["--progress", "--no-progress", lst])
    check(r.returncode == 2 and "--progress and --no-progress" in r.stderr,
          f"both: {r.returncode} {r.stderr}")
    # From a pipe the total is unknown: done only; -q keeps the status
    # that --progress asks for, not the summary.
    r = run(["-q", "--progress", "--resolver", t.dns, "-"], timeout=60,
            input="\n".join(lines) + "\n")
    check(r.stderr.startswith("hscan: progress 20 done | ") and
          "targets" not in r.stderr and len(records(r.stdout)) == 25,
          f"-q --progress, stdin pipe: {r.stderr!r}")


def table_rows(err):
    """The table under the summary line: {label: [cells]}."""
    rows = {}
    for line in err.splitlines()[1:]:
        label, _, rest = line.strip().partition(" ")
        if label == "timing":
            label, rest = "timing", rest.replace("ms", "", 1)
        rows[label] = rest.split()
    return rows


def test_summary_table(t):
    """A known mix: the table's status classes, errors and timing counts
    are exact; the one-line summary above it is unchanged."""
    lines = ([f"ok{i}.fast.test:{t.http}" for i in range(7)] +
             [f"nf{i}.notfound.test:{t.http}" for i in range(4)] +
             [f"e{i}.error.test:{t.http}" for i in range(2)] +
             [f"m{i}.r301.test:{t.http}" for i in range(3)] +
             [f"i.status-101.test:{t.http}", f"o.status-650.test:{t.http}"] +
             [f"x{i}.nx.test:{t.http}" for i in range(5)] +
             ["bad host!", f"h.delay-1000.test:{t.http}"])
    lst = write_list("table.txt", lines)
    r = run(["--resolver", t.dns, "--read-timeout", "0.3", lst])
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    first = r.stderr.splitlines()[0]
    check(re.match(r"hscan: 25 targets, 18 ok, errors: .*, [0-9.]+ s, \d+ "
                   r"hosts/s, peak RSS [0-9.]+ MiB, DNS \d+ lookups", first)
          is not None, f"summary line: {first}")
    rows = table_rows(r.stderr)
    classes = dict(zip(rows["status"], map(int, rows["records"])))
    check(classes == {"1xx": 1, "2xx": 7, "3xx": 3, "4xx": 4, "5xx": 2,
                      "other": 1, "none": 7}, f"status classes: {classes}")
    errs = dict(re.findall(r"(\w+) (\d+)", " ".join(rows["errors"])))
    check(errs == {"dns_nxdomain": "5", "invalid_target": "1",
                   "read_timeout": "1"}, f"errors: {errs}")
    check(rows["timing"] == ["p50", "p90", "p99", "max", "count"],
          f"timing header {rows['timing']}")
    # total: every target that reached a probe (not the invalid line);
    # dns: those looked up; tls: none over plain HTTP
    for phase, count in (("total", 24), ("dns", 24), ("connect", 19),
                         ("tls", 0), ("ttfb", 18)):
        row = rows[phase]
        check(len(row) == 5 and int(row[4]) == count,
              f"{phase}: {row}, want count {count}")
    check(rows["tls"][:4] == ["-"] * 4, "tls percentiles without TLS")
    p50, p90, p99, mx = map(float, rows["total"][:4])
    check(0 <= p50 <= p90 <= p99 <= mx and mx >= 250,
          f"total percentiles {rows['total']}")
    check(re.match(r"\d+ \(25 records in [0-9.]+ s\)",
                   " ".join(rows["hosts/s"])) is not None, "hosts/s row")
    check(re.match(r"[0-9.]+ s user \+ [0-9.]+ s sys, \d+% of one core, "
                   r"[0-9.]+ ms/record", " ".join(rows["CPU"])) is not None,
          f"CPU row {rows['CPU']}")
    m = re.search(r"peak RSS ([0-9.]+) MiB", first)
    check(rows["memory"] == [m.group(1), "MiB", "peak", "RSS"],
          f"memory row {rows['memory']}")
    check(all(len(x) <= 80 for x in r.stderr.splitlines()[1:]),
          "a table line wider than 80 columns")
    r = run(["-q", "--resolver", t.dns, lst])
    check(r.stderr == "", f"-q: {r.stderr!r}")
