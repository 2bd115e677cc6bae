#!/usr/bin/env python3
"""hscan-cli end to end, against hscan-testd on loopback.

Usage: test-cli.py CLI TESTD [TEST...]   (no TEST: all but the slowest)
       test-cli.py --list B_SANITIZE     (the tests, for test/meson.build)
Every subprocess has a timeout; traffic goes only to 127.0.0.1.

This file's tests run the CLI at scale, under signals and limits, and
with --resume; cli_shard.py, cli_progress.py, cli_formats.py,
cli_input.py, cli_help.py, cli_request.py, cli_conn.py, cli_expand.py
cli_family.py, cli_tlschain.py, cli_favicon.py, cli_compressed.py and
cli_match.py hold the others, cli_common.py what they share.
"""
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testd import Testd as _Testd, meson, collect, list_tests  # noqa: E402
import cli_exclude  # noqa: E402
import cli_compressed  # noqa: E402
import cli_conn  # noqa: E402
import cli_expand  # noqa: E402
import cli_family  # noqa: E402
import cli_formats  # noqa: E402
import cli_help  # noqa: E402
import cli_input  # noqa: E402
import cli_match  # noqa: E402
import cli_progress  # noqa: E402
import cli_request  # noqa: E402
import cli_shard  # noqa: E402
import cli_tlschain  # noqa: E402
import cli_favicon  # noqa: E402
from cli_common import (LISTING, CLI, TESTD, PLAIN, plain, TMP, check,
                        write_list, run, records, check_one_each)  # noqa: E402


def test_usage(t):
    r = run(["--help"])
    check(r.returncode == 0 and "--concurrency" in r.stdout, "--help")
    r = run(["--version"])
    check(r.returncode == 0 and r.stdout.startswith("hscan-cli "),
          "--version")
    r = run(["--no-such-option"])
    check(r.returncode == 2 and "hscan-cli" in r.stderr, "bad option")
    r = run(["--timeout", "abc", "/dev/null"])
    check(r.returncode == 2 and "--timeout" in r.stderr, "bad duration")
    r = run(["-c", "0", "/dev/null"])
    check(r.returncode == 2 and "--concurrency" in r.stderr, "bad -c")
    r = run(["-4", "-6", "/dev/null"])
    check(r.returncode == 2, "-4 -6")
    r = run(["--resolver", "not-an-ip", "/dev/null"])
    check(r.returncode == 2 and "resolver" in r.stderr, "bad --resolver")


def test_basic(t):
    lst = write_list("basic.txt", [
        "# comment", "", f"fast.test:{t.http}", "nx.test",
        f"  notfound.test:{t.http}  ", "bad host!",
        f"127.0.0.1:{t.http}/b/many-3", f"http://delay-50.test:{t.http}/x?y"])
    r = run(["--resolver", t.dns, lst])
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    recs = {x["input"]: x for x in records(r.stdout)}
    check(len(recs) == 6, f"6 records, got {len(recs)}")
    check(recs[f"fast.test:{t.http}"]["status"] == 200, "fast")
    check(recs["nx.test"]["error"] == "dns_nxdomain", "nx")
    check(recs[f"notfound.test:{t.http}"]["status"] == 404, "trimmed")
    check(recs["bad host!"]["error"] == "invalid_target", "invalid")
    many = recs[f"127.0.0.1:{t.http}/b/many-3"]
    check([h[0] for h in many["headers"]] ==
          ["Server", "X-H-0", "X-H-1", "X-H-2", "Content-Length"],
          "header order")
    d = recs[f"http://delay-50.test:{t.http}/x?y"]
    check(d["url"] == f"http://delay-50.test:{t.http}/x?y", "url")
    check(d["timing_ms"]["ttfb"] >= 40, "ttfb")
    check("6 targets, 4 ok" in r.stderr, f"summary: {r.stderr}")
    check("dns_nxdomain=1" in r.stderr, "summary errors")
    # -q silences the summary; -o writes to a file; '-' is stdin
    out = os.path.join(TMP, "o.jsonl")
    r = run(["-q", "--resolver", t.dns, "-o", out, "-"],
            input=f"fast.test:{t.http}\n")
    check(r.returncode == 0 and r.stderr == "" and r.stdout == "", "-q -o")
    check(len(records(open(out).read())) == 1, "-o content")


def test_strict(t):
    """Odd framing is read and named by default; --strict refuses it
    as llhttp's strict mode did, keeping the status and the fields."""
    lst = write_list("strict.txt", [f"clte.test:{t.http}",
                                    f"obsfold.test:{t.http}"])
    r = run(["-q", "--scheme", "http", "--resolver", t.dns,
             "--fields", "input,status,error,anomalies", "-f", "csv", lst])
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    rows = sorted(r.stdout.splitlines()[1:])
    check(rows == [f"clte.test:{t.http},200,,cl_and_te",
                   f"obsfold.test:{t.http},200,,obs_fold"], f"{rows}")
    r = run(["-q", "--strict", "--scheme", "http", "--resolver", t.dns,
             lst])
    recs = {x["input"]: x for x in records(r.stdout)}
    c = recs[f"clte.test:{t.http}"]
    check(c["error"] == "http_parse" and c["status"] == 200 and
          c["error_detail"] == "strict: cl_and_te" and
          c["headers"][1] == ["Content-Length", "5"], f"{c}")
    check(recs[f"obsfold.test:{t.http}"]["error"] is None, "obs-fold")


def test_missing_file(t):
    ok = write_list("ok.txt", [f"fast.test:{t.http}"])
    r = run(["--resolver", t.dns, "/nonexistent/list", ok])
    check(r.returncode == 1, f"exit {r.returncode}")
    check("/nonexistent/list" in r.stderr, "names the file")
    check(len(records(r.stdout)) == 1, "other files still scanned")


def count_threads(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return None


def scan_big(t, n, conc, sample_threads=False):
    lst = os.path.join(TMP, f"big{n}.txt")
    with open(lst, "w") as f:
        for i in range(n):
            f.write(f"h{i}.fast.test:{t.http}\n")
    out = os.path.join(TMP, f"big{n}.jsonl")
    start = time.monotonic()
    p = subprocess.Popen([CLI, *PLAIN, "--resolver", t.dns, "-c", str(conc),
                          "-o", out, lst], stderr=subprocess.PIPE, text=True)
    threads = set()
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        c = count_threads(p.pid) if sample_threads else None
        if c is not None:
            threads.add(c)
        time.sleep(0.01)
    p.returncode = os.waitstatus_to_exitcode(status)
    secs = time.monotonic() - start
    err = p.stderr.read()
    check(p.returncode == 0, f"exit {p.returncode}: {err}")
    # The CLI's own peak (VmHWM, counted from exec).  ru_maxrss would also
    # count this Python parent's pages copied by fork before the exec.
    m = re.search(r"peak RSS ([0-9.]+) MiB", err)
    check(m is not None, f"no peak RSS in summary: {err}")
    rss = float(m.group(1))
    seen = {}
    ok = 0
    with open(out) as f:
        for line in f:
            rec = json.loads(line)
            seen[rec["input"]] = seen.get(rec["input"], 0) + 1
            ok += rec["error"] is None
    check(len(seen) == n, f"{len(seen)} distinct inputs, want {n}")
    check(all(v == 1 for v in seen.values()), "an input appeared twice")
    os.unlink(out)
    os.unlink(lst)
    return secs, rss, ok, threads


def test_scale(t):
    secs, rss, ok, threads = scan_big(t, 20000, 2000, sample_threads=True)
    print(f"20000 targets at -c 2000: {secs:.2f} s, {20000 / secs:.0f} "
          f"hosts/s, {ok} ok, peak RSS {rss:.1f} MiB, "
          f"threads seen {sorted(threads)}")
    check(threads == {1}, f"thread counts seen: {sorted(threads)}")
    check(ok >= 19900, f"only {ok} of 20000 ok on loopback")


def test_wide(t):
    """10,000 in flight against servers that answer after 200 ms: every
    record right.  Without DNS pacing the lookup burst overflowed the
    UDP buffers and 8% of the records were false dns_timeout."""
    lst = os.path.join(TMP, "wide.txt")
    with open(lst, "w") as f:
        for i in range(30000):
            f.write(f"h{i}.delay.test:{t.http}\n")
    start = time.monotonic()
    r = subprocess.run([CLI, *PLAIN, "--resolver", t.dns, "-c", "10000",
                        lst], capture_output=True, text=True, timeout=120)
    secs = time.monotonic() - start
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    recs = records(r.stdout)
    bad = [x for x in recs if x["error"] is not None]
    print(f"30000 targets, 200 ms servers, -c 10000: {secs:.2f} s, "
          f"{len(bad)} errors; {r.stderr.strip()}")
    check(len(recs) == 30000, f"{len(recs)} records")
    check(not bad, f"{len(bad)} errors, first: {bad[:1]}")


def test_rate(t):
    """--rate spaces the starts: 100 fast targets at 100/s with no burst
    cannot finish in under 0.99 s (a lower bound, so a slow machine
    cannot make it fail), and --burst lets 50 of them start at once."""
    lst = write_list("rate.txt", [f"h{i}.fast.test:{t.http}"
                                  for i in range(100)])
    start = time.monotonic()
    r = run(["-q", "--resolver", t.dns, "--rate", "100", "--burst", "1",
             lst])
    slow = time.monotonic() - start
    check(r.returncode == 0 and len(records(r.stdout)) == 100, "records")
    check(slow >= 0.99, f"100 targets at --rate 100 took {slow:.2f} s")
    start = time.monotonic()
    r = run(["-q", "--resolver", t.dns, "--rate", "100", "--burst", "50",
             lst])
    burst = time.monotonic() - start
    check(r.returncode == 0 and len(records(r.stdout)) == 100, "records")
    check(burst >= 0.49, f"with --burst 50: {burst:.2f} s")
    r = run(["--rate", "0", lst])
    check(r.returncode == 2 and "--rate" in r.stderr, "--rate 0 refused")
    print(f"100 targets at --rate 100: {slow:.2f} s (burst 1), "
          f"{burst:.2f} s (burst 50)")


# 200,000 targets: too slow under sanitizers, and RSS there is ASan's.
@meson(timeout=600, sanitized=False)
def test_rss(t):
    s1, r1, ok1, _ = scan_big(t, 20000, 2000)
    s2, r2, ok2, _ = scan_big(t, 200000, 2000)
    ratio = r2 / r1
    print(f"peak RSS: 20k targets {r1:.1f} MiB ({s1:.1f} s), "
          f"200k targets {r2:.1f} MiB ({s2:.1f} s, "
          f"{200000 / s2:.0f} hosts/s); ratio {ratio:.3f}")
    check(ratio <= 1.10, f"RSS grew with input: ratio {ratio:.3f}")


def scan_https(t, n, conc, scheme_args):
    lst = os.path.join(TMP, "https.txt")
    with open(lst, "w") as f:
        for i in range(n):
            f.write(f"https://h{i}.valid.test:{t.https}/\n" if scheme_args
                    else f"h{i}.fast.test:{t.http}\n")
    out = os.path.join(TMP, "https.jsonl")
    args = [CLI, "--resolver", t.dns, "-c", str(conc), "-o", out,
            "--max-per-ip", "0", lst]
    args += ["--ca-file", t.ca] if scheme_args else plain(args)
    if os.environ.get("HSCAN_SANITIZE", "none") != "none":
        # under ASan a handshake costs several times its CPU: on a
        # loaded 2-core machine 500 at once can outlast the defaults
        args += ["--timeout", "60", "--tls-timeout", "30",
                 "--connect-timeout", "30"]
    start = time.monotonic()
    p = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    threads = set()
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        c = count_threads(p.pid)
        if c is not None:
            threads.add(c)
        time.sleep(0.01)
    wall = time.monotonic() - start
    err = p.stderr.read()
    check(os.waitstatus_to_exitcode(status) == 0, f"exit: {err}")
    cpu = ru.ru_utime + ru.ru_stime
    rss = float(re.search(r"peak RSS ([0-9.]+) MiB", err).group(1))
    recs = records(open(out).read())
    ok = sum(1 for r in recs if r["error"] is None)
    check(len(recs) == n and len({r["input"] for r in recs}) == n,
          f"{len(recs)} records for {n} inputs")
    check(threads == {1}, f"threads seen {sorted(threads)}")
    return wall, cpu, rss, ok, recs


def test_https_scale(t):
    """5,000 HTTPS targets at concurrency 500, next to the same scan
    over plain HTTP."""
    w1, c1, r1, ok1, recs = scan_https(t, 5000, 500, True)
    check(ok1 == 5000, f"{ok1} of 5000 ok")
    check(all(r["tls"]["verified"] for r in recs), "all verified")
    w2, c2, r2, ok2, _ = scan_https(t, 5000, 500, False)
    print(f"5000 HTTPS at -c 500: {w1:.2f} s wall, {c1:.2f} s CPU, "
          f"peak RSS {r1:.1f} MiB; same over HTTP: {w2:.2f} s wall, "
          f"{c2:.2f} s CPU, peak RSS {r2:.1f} MiB")


def test_slow_stdin(t):
    """A slow producer must not stall probes in flight: the delay-300
    probe's record must be written (and flushed) while stdin is idle."""
    p = subprocess.Popen([CLI, *PLAIN, "-q", "--resolver", t.dns], text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    p.stdin.write(f"delay-300.test:{t.http}\n")
    p.stdin.flush()
    start = time.monotonic()
    line = p.stdout.readline()          # arrives with stdin still open
    waited = time.monotonic() - start
    rec = json.loads(line)
    check(rec["status"] == 200, "first record")
    check(rec["timing_ms"]["total"] < 1500, "probe stalled by input")
    p.stdin.write(f"fast.test:{t.http}\n")
    p.stdin.close()
    rest = p.stdout.read()
    p.wait(timeout=10)
    check(len(records(rest)) == 1 and p.returncode == 0, "second record")
    print(f"first record after {waited * 1000:.0f} ms with stdin idle")


def test_sigint(t):
    lst = write_list("hang.txt", [f"h{i}.hang.test:{t.http}"
                                  for i in range(300)])
    p = subprocess.Popen([CLI, *PLAIN, "--resolver", t.dns, "--read-timeout", "60",
                          lst], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    recs = records(out)
    check(p.returncode == 130, f"exit {p.returncode}")
    check(len(recs) == 300, f"{len(recs)} records, want 300")
    check(len({r["input"] for r in recs}) == 300, "duplicates")
    check(all(r["error"] == "canceled" for r in recs), "canceled")


def test_nofile_limit(t):
    lst = write_list("nofile.txt", [f"h{i}.delay-100.test:{t.http}"
                                    for i in range(500)])
    r = subprocess.run(["prlimit", "--nofile=64:64", CLI, *PLAIN, "--resolver",
                        t.dns, "-c", "1000", lst], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    check("open-file limit" in r.stderr, "warning about the limit")
    recs = records(r.stdout)
    check(len(recs) == 500, f"{len(recs)} records")
    check(all(x["status"] == 200 for x in recs), "all ok after clamping")


def test_epipe(t):
    lst = write_list("pipe.txt", [f"h{i}.fast.test:{t.http}"
                                  for i in range(3000)])
    r = subprocess.run(f"'{CLI}' --scheme http --max-per-ip 0 -q --resolver {t.dns} '{lst}' | head -1",
                       shell=True, capture_output=True, text=True,
                       timeout=60)
    check(len(records(r.stdout)) == 1 and r.stderr == "",
          f"quiet on EPIPE: {r.stderr}")
    r = run(["--resolver", t.dns, "-o", "/dev/full", lst])
    check(r.returncode == 1 and "/dev/full" not in r.stdout and
          "writing /dev/full: No space left" in r.stderr,
          f"ENOSPC: {r.returncode} {r.stderr}")


def test_max_per_ip(t):
    # By default 4 connections at once to one address: 20 targets on
    # 127.0.0.1 answering after 200 ms take five rounds, none times out
    # although the whole scan is longer than --timeout.
    lst = write_list("perip.txt", [f"d{i}.delay.test:{t.http}"
                                   for i in range(20)])
    start = time.monotonic()
    r = subprocess.run([CLI, "--scheme", "http", "--resolver", t.dns,
                        "--timeout", "0.6", lst], capture_output=True,
                       text=True, timeout=60)
    secs = time.monotonic() - start
    recs = records(r.stdout)
    check(r.returncode == 0 and len(recs) == 20, f"{len(recs)} records")
    check(all(x.get("status") == 200 for x in recs), "all answered")
    check(secs >= 0.95, f"five rounds of 200 ms took {secs:.2f} s")
    check("16 waited for --max-per-ip" in r.stderr, f"summary: {r.stderr}")
    # --max-per-ip 0 lifts it: one round
    start = time.monotonic()
    r = run(["--resolver", t.dns, lst])
    secs = time.monotonic() - start
    check(len(records(r.stdout)) == 20 and "waited" not in r.stderr,
          f"no limit: {r.stderr}")
    print(f"20 targets on one address at 200 ms: --max-per-ip 4 "
          f"took 5 rounds; 0: {secs:.2f} s")
    # the DNS summary: 20 names, no repeats
    check("DNS 20 lookups (0 cached, 0 shared)" in r.stderr,
          f"dns summary: {r.stderr}")


def test_resume_kill(t):
    # SIGKILL at random points, five times in a row, resuming each time;
    # then one resume to the end: exactly one record per input.
    import random
    rnd = random.Random(int(os.environ.get("HSCAN_TEST_SEED", "0")) or None)
    inputs = [f"k{i}.delay-50.test:{t.http}" for i in range(6000)]
    lst = write_list("kill.txt", inputs)
    out = os.path.join(TMP, "kill.jsonl")
    args = [CLI, *PLAIN, "-q", "--resolver", t.dns, "-c", "300",
            "--resume", out, lst]
    sizes = []
    for _ in range(5):
        p = subprocess.Popen(args)
        time.sleep(rnd.uniform(0.1, 0.8))
        p.kill()
        p.wait(timeout=10)
        sizes.append(os.path.getsize(out) if os.path.exists(out) else 0)
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    check_one_each(out, inputs)
    print(f"five SIGKILLs at file sizes {sizes}, then resumed to the end")


def test_resume_sigint(t):
    # Ctrl-C leaves canceled records; a cut last line (as a kill during a
    # write could leave) and a line of garbage are repaired; the resumed
    # run scans the canceled inputs again and drops their old lines.
    inputs = [f"s{i}.delay-300.test:{t.http}" for i in range(1500)]
    inputs += ["#comment", "", "bad input line", "s1.delay-300.test:" +
               str(t.http)]                  # a duplicate: scanned twice
    lst = write_list("sigint-resume.txt", inputs)
    out = os.path.join(TMP, "sigint.jsonl")
    args = [CLI, *PLAIN, "-q", "--resolver", t.dns, "-c", "400",
            "--resume", out, lst]
    p = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=30)
    check(p.returncode == 130, f"exit {p.returncode}")
    recs = records(open(out).read())
    canceled = sum(r["error"] == "canceled" for r in recs)
    check(canceled > 0, "some canceled")
    with open(out, "a") as f:
        f.write('{"schema":2,"input":"s5.de')
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    recs = records(open(out).read())
    want = {}
    for i in inputs:
        i = i.strip()
        if i and not i.startswith("#"):
            want[i] = want.get(i, 0) + 1
    got = {}
    for x in recs:
        check(x["error"] != "canceled", "canceled left")
        got[x["input"]] = got.get(x["input"], 0) + 1
    check(got == want, f"records per input differ: "
          f"{[k for k in want if got.get(k) != want[k]][:3]}")
    print(f"{canceled} canceled after Ctrl-C, all scanned again")


def test_resume_both(t):
    # --scheme both writes two records per input: a kill between the two
    # leaves half a pair, which is dropped and the input scanned again.
    inputs = [f"b{i}.delay-50.test:{t.http}" for i in range(2000)]
    lst = write_list("both.txt", inputs)
    out = os.path.join(TMP, "both.jsonl")
    args = [CLI, "--scheme", "both", "--max-per-ip", "0", "-q", "--resolver",
            t.dns, "-c", "300", "--tls-timeout", "1", "--resume", out, lst]
    for delay in (0.3, 0.6):
        p = subprocess.Popen(args)
        time.sleep(delay)
        p.kill()
        p.wait(timeout=10)
    # make sure half a pair is there to repair: drop the last http record
    lines = open(out).read().splitlines(keepends=True)
    lines = [x for x in lines if x.endswith("\n")]
    with open(out, "w") as f:
        f.writelines(lines[:-1])
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    recs = check_one_each(out, inputs, per_input=2)
    for i in inputs[:50]:
        schemes = sorted(x["scheme"] for x in recs if x["input"] == i)
        check(schemes == ["http", "https"], f"{i}: {schemes}")


def test_sigint_twice(t):
    # The second signal stops at once, by that signal, and every line
    # written is whole.  SIGTERM then SIGINT: two different signals are
    # both delivered however close together (two SIGINTs may merge).
    lst = write_list("twice.txt", [f"t{i}.delay-100.test:{t.http}"
                                   for i in range(200000)])
    out = os.path.join(TMP, "twice.jsonl")
    p = subprocess.Popen([CLI, *PLAIN, "--resolver", t.dns, "-c", "2000",
                          "--read-timeout", "60", "-o", out, lst],
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    p.send_signal(signal.SIGTERM)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=10)
    # killed by whichever the CLI saw second
    check(p.returncode in (-signal.SIGINT, -signal.SIGTERM),
          f"exit {p.returncode}")
    data = open(out).read()
    check(data == "" or data.endswith("\n"), "last line whole")
    recs = records(data)
    check(len(recs) > 0, "records written before the stop")
    check(all(r["error"] != "canceled" for r in recs), "no canceled yet")
    # A reader that stopped reading holds the rest of the output: the
    # first Ctrl-C waits for it, the second still ends the process.
    p = subprocess.Popen([CLI, *PLAIN, "--resolver", t.dns, "-c", "2000",
                          "--read-timeout", "60", lst],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)                     # > 64 KiB of records by now
    p.send_signal(signal.SIGINT)
    time.sleep(0.5)
    check(p.poll() is None, "waits for the reader after one Ctrl-C")
    start = time.monotonic()
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError("second Ctrl-C did not stop a blocked writer")
    secs = time.monotonic() - start
    check(p.returncode == -signal.SIGINT, f"exit {p.returncode}")
    print(f"{len(recs)} whole records at the second signal; a blocked "
          f"writer stopped {secs:.2f} s after the second Ctrl-C")


def test_slow_consumer(t):
    # The reader sleeps while 30,000 records (~15 MB) are made: the CLI
    # holds at most a few MB, stops taking input meanwhile, and no probe
    # is charged the time the reader slept (they would time out at 1 s).
    lst = write_list("slowpipe.txt", [f"p{i}.fast.test:{t.http}"
                                      for i in range(30000)])
    p = subprocess.Popen([CLI, *PLAIN, "--resolver", t.dns, "--timeout", "1",
                          lst], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(3)                       # nobody reads
    out, err = p.communicate(timeout=120)
    recs = records(out.decode())
    check(p.returncode == 0 and len(recs) == 30000, f"{len(recs)} records")
    bad = [x for x in recs if x["error"]]
    check(not bad, f"{len(bad)} errors, e.g. {bad[:1]}")
    m = re.search(r"peak RSS ([0-9.]+) MiB", err.decode())
    check(m is not None, f"summary: {err.decode()}")
    if os.environ.get("HSCAN_SANITIZE", "none") == "none":   # ASan's own
        check(float(m.group(1)) < 64, f"memory: {err.decode()}")
    print(f"slow reader: 30000 ok, peak RSS {m.group(1)} MiB")


def test_port_exhaustion(t):
    # Inside a network namespace of its own with 10 ephemeral ports: 40
    # targets on one address that holds every connection open.  The 10
    # that connect time out waiting for the response (read_timeout: the
    # 2 s budget, shorter than the read timeout); the other 30 cannot get a port (the kernel
    # says EADDRNOTAVAIL at once), back off and retry within their
    # deadline, and are recorded as resource_exhausted.  Nothing is lost.
    if os.geteuid() != 0 or subprocess.run(
            ["unshare", "--net", "true"], capture_output=True).returncode:
        print("SKIP: needs root for unshare --net")
        return
    script = f"""
set -e
ip link set lo up
echo "50000 50009" > /proc/sys/net/ipv4/ip_local_port_range
{TESTD} --lifetime 60 --http-port 40080 --https-port 40443 --dns-port 40053 > {TMP}/ns-testd.out 2>&1 &
T=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
    grep -q '^ca ' {TMP}/ns-testd.out 2>/dev/null && break; sleep 0.2
done
for i in $(seq 40); do echo "127.0.0.1:40080/b/hang?$i"; done |
    {CLI} --scheme http --max-per-ip 0 --timeout 2 -c 40 || rc=$?
kill $T; wait $T || true
exit ${{rc:-0}}
"""
    r = subprocess.run(["unshare", "--net", "sh", "-c", script],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    recs = records(r.stdout)
    errs = {}
    for x in recs:
        errs[x["error"]] = errs.get(x["error"], 0) + 1
    check(len(recs) == 40, f"{len(recs)} records")
    check(errs == {"read_timeout": 10, "resource_exhausted": 30}, f"{errs}")
    rt = [x for x in recs if x["error"] == "read_timeout"][0]
    check("overall budget of 2000 ms" in rt["error_detail"],
          f"detail: {rt['error_detail']}")
    ex = [x for x in recs if x["error"] == "resource_exhausted"][0]
    check(ex["timing_ms"]["total"] >= 1900, "retried until the deadline")
    print(f"10 ports: {errs}; detail: {ex['error_detail']}")


# Runs the CLI under memcheck, which cannot host ASan.
@meson(timeout=900, sanitized=False)
def test_valgrind_scan(t):
    # A leak check of a 10,000-target scan: plain and TLS answers, DNS
    # failures, timeouts, a redirect loop, under memcheck with full leak
    # checking; any error or leaked block fails the run (exit 99).
    if subprocess.run(["sh", "-c", "command -v valgrind"],
                      capture_output=True).returncode:
        raise AssertionError("valgrind is not installed "
                             "(tools/install-deps.sh installs it)")
    lines = []
    for i in range(10000):
        k = i % 10
        if i % 100 == 99:
            lines.append(f"v{i}.hang.test:{t.http}")
        elif k == 7 and i % 20 == 7:
            # 500 over TLS: each handshake is ~5 M instructions, which
            # memcheck runs some 50 times slower; the TLS paths and their
            # frees are the same for every one of them
            lines.append(f"https://v{i}.fast.test:{t.https}/")
        elif k < 8:
            lines.append(f"v{i}.fast.test:{t.http}")
        elif k == 8:
            lines.append(f"v{i}.nx.test")
        else:
            lines.append(f"http://v{i}.fast.test:{t.http}/loop")
    lst = write_list("valgrind.txt", lines)
    start = time.monotonic()
    r = subprocess.run(["valgrind", "--leak-check=full", "--error-exitcode=99",
                        "--quiet", CLI, *PLAIN, "--resolver", t.dns,
                        "--ca-file", t.ca, "--timeout", "60",
                        "--read-timeout", "10", "--follow", "2", "-c", "300",
                        lst],
                       capture_output=True, text=True, timeout=600)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-3000:]}")
    recs = records(r.stdout)
    check(len(recs) == 10000, f"{len(recs)} records")
    kinds = {}
    for x in recs:
        kinds[x["error"] or "ok"] = kinds.get(x["error"] or "ok", 0) + 1
    # a loaded machine may turn some answers into timeouts; the paths
    # must all have run
    tls_ok = sum(1 for x in recs if x["scheme"] == "https" and not x["error"])
    check(kinds.get("ok", 0) >= 5000 and tls_ok >= 250 and
          kinds.get("dns_nxdomain") == 1000 and
          kinds.get("read_timeout", 0) >= 100 and
          kinds.get("too_many_redirects", 0) >= 500, f"{kinds}")
    print(f"memcheck clean over 10,000 targets {kinds} in "
          f"{time.monotonic() - start:.0f} s")


TESTS = collect(globals(), vars(cli_shard), vars(cli_progress),
                vars(cli_formats), vars(cli_input), vars(cli_help),
                vars(cli_request), vars(cli_exclude), vars(cli_conn),
                vars(cli_expand), vars(cli_family), vars(cli_tlschain),
                vars(cli_favicon), vars(cli_compressed), vars(cli_match))


def main():
    if LISTING:
        list_tests(TESTS, 180, sys.argv[2])
        return
    names = sys.argv[3:] or [n for n in TESTS
                             if n not in ("rss", "https_scale", "valgrind_scan")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    t = _Testd(TESTD, 600)
    failed = 0
    try:
        for n in names:
            try:
                TESTS[n](t)
                print(f"ok   {n}")
            except Exception as e:       # report and go on
                failed += 1
                print(f"FAIL {n}: {e!r}")
    finally:
        t.stop()
    print(f"{len(names)} tests, {failed} failed")
    sys.exit(1 if failed else 0)


main()
