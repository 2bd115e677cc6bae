"""test-cli.py: matchers, filters and extractors (docs/cli.md "Matchers,
filters, extractors"): each flag, the httpx combination rule, the body
word and line counts, --extract, the usage errors, and --resume with
filters after kill -9 (OUT.filtered).

Run through test-cli.py, which imports every test_* here."""
import json
import os
import subprocess
import time

from cli_common import CLI, PLAIN, TMP, check, write_list, run, records
from cli_input import written, HAVE_PCRE2


def targets(t):
    """The test server's canned replies (test/server-http.c) and their
    bodies: fast "<html><title>fast</title></html>" (1 word, 1 line, 32
    bytes; also delay-600's, 600 ms late), notfound "not found\\n" (2,
    1, 10), error "error\\n" (1, 1, 6), r301 and status-503 empty (0, 0,
    0), nx.test no response."""
    h = t.http
    d = {k: f"{k}.test:{h}" for k in
         ("fast", "notfound", "error", "r301", "status-503")}
    d.update({"nx": "nx.test", "slow": f"delay-600.test:{h}"})
    return d


def test_match_flags(t):
    """Each flag writes exactly the records it names, the summary counts
    all and says how many were filtered."""
    if not HAVE_PCRE2:
        return
    T = targets(t)
    lst = write_list("match.txt", list(T.values()))
    every = set(T)
    cases = [
        (["--match-string", "TITLE>fast"], {"fast", "slow"}),
        (["--match-string", "nope", "--match-string", "error"], {"error"}),
        (["--filter-string", "not FOUND"], every - {"notfound"}),
        (["--match-regex", "^not"], {"notfound"}),
        (["--match-regex", "o", "--match-regex", "r{2}"], {"error"}),
        (["--filter-regex", "^(not|err)", "--filter-regex", "<html>"],
         {"r301", "status-503", "nx"}),
        (["--match-header", "Location: fast"], {"r301"}),
        (["--match-header", ": ^X-Dup: 2$"], {"fast", "slow"}),
        (["--filter-header", "Server:"], {"status-503", "nx"}),
        (["--match-length", "0"], {"r301", "status-503"}),
        (["--match-length", "<11,>=30"], every - {"nx"}),
        (["--filter-length", "1-31"], every - {"notfound", "error"}),
        (["--match-words", "2"], {"notfound"}),
        (["--filter-words", "0-1"], {"notfound", "nx"}),
        (["--match-lines", "1"], {"fast", "notfound", "error", "slow"}),
        (["--filter-lines", "0"], every - {"r301", "status-503"}),
        (["--match-time", ">=400ms"], {"slow"}),
        (["--filter-time", ">0.4"], every - {"slow"}),
        # the rule: kinds AND, values of one kind OR, any filter drops
        (["--match-words", "1,2", "--match-string", "o"],
         {"notfound", "error"}),
        (["--match-words", "1,2", "--filter-regex", "found"],
         {"fast", "error", "slow"}),
        (["--match-status", "200", "--match-lines", "1"], {"fast", "slow"}),
    ]
    for args, want in cases:
        r = run(["--resolver", t.dns, "--follow", "0", *args, lst])
        check(r.returncode == 0, f"{args}: exit {r.returncode}: {r.stderr}")
        got = written(r)
        check(got == sorted(T[k] for k in want),
              f"{args}: wrote {got}, want {sorted(T[k] for k in want)}")
        check(f"hscan: {len(T)} targets" in r.stderr and
              f"{len(T) - len(want)} filtered" in r.stderr,
              f"{args}: summary: {r.stderr}")


def test_match_body_counts(t):
    """body.words and body.lines as httpx counts them; a body option
    with --body-bytes 0 reads the body anyway."""
    T = targets(t)
    lst = write_list("counts.txt", [T["fast"], T["notfound"], T["r301"]])
    r = run(["--resolver", t.dns, lst])
    got = {x["input"]: (x["body"]["words"], x["body"]["lines"])
           for x in records(r.stdout)}
    check(got == {T["fast"]: (1, 1), T["notfound"]: (2, 1),
                  T["r301"]: (0, 0)}, f"counts: {got}")
    r = run(["--resolver", t.dns, "--body-bytes", "0", lst])
    check(all(x["body"] is None for x in records(r.stdout)),
          "no body without --body-bytes")
    if HAVE_PCRE2:
        r = run(["--resolver", t.dns, "--body-bytes", "0",
                 "--match-string", "found", lst])
        check(written(r) == [T["notfound"]], f"body read: {r.stdout}")


def test_match_extract(t):
    """--extract: named groups as keys, else extract_N; all matches in
    order; "extracts" after "body" only with --extract."""
    if not HAVE_PCRE2:
        return
    T = targets(t)
    lst = write_list("extract.txt", [T["fast"], T["nx"]])
    r = run(["--resolver", t.dns, "--extract", "<(?<tag>[a-z]+)>",
             "--extract", "f.st", lst])
    check(r.returncode == 0, r.stderr)
    recs = {x["input"]: x for x in records(r.stdout)}
    check(recs[T["fast"]]["extracts"] ==
          {"values": {"tag": ["html", "title"], "extract_2": ["fast"]},
           "truncated": False}, f"{recs[T['fast']]}")
    check(recs[T["nx"]]["extracts"] == {"values": {}, "truncated": False},
          "no response: no values")
    line = r.stdout.splitlines()[0]
    keys = list(json.loads(line))
    check(keys[keys.index("body") + 1] == "extracts", f"order: {keys}")
    r = run(["--resolver", t.dns, lst])
    check(all("extracts" not in x for x in records(r.stdout)),
          "no key without --extract")


def test_match_usage(t):
    """Bad values exit 2 naming the option; without PCRE2 a pattern
    option names the feature."""
    if not HAVE_PCRE2:
        for opt in ("--match-regex", "--match-string", "--extract",
                    "--match-header"):
            r = run([opt, "x: y", "/dev/null"])
            check(r.returncode == 2 and opt in r.stderr and
                  "pcre2" in r.stderr, f"{opt}: {r.stderr}")
        r = run(["--match-words", "1", "/dev/null"])
        check(r.returncode == 0, "numbers need no PCRE2")
        return
    bad = [
        (["--match-regex", "a(b"], ["--match-regex", "a(b",
                                    "bad regular expression"]),
        (["--extract", "(?<x"], ["--extract", "bad regular expression"]),
        (["--filter-header", "nocolon"], ["--filter-header", "nocolon"]),
        (["--match-header", "X: ("], ["regular expression"]),
        (["--match-length", "5-3"], ["--match-length", "5-3"]),
        (["--match-words", "1.5"], ["--match-words"]),
        (["--match-lines", "<0"], ["--match-lines"]),
        (["--match-time", "fast"], ["--match-time", "times"]),
        (["--filter-time", "1h"], ["--filter-time"]),
        (["--match-length", ""], ["--match-length"]),
        (["--resume", os.path.join(TMP, "b.jsonl"), "--scheme", "both",
          "--match-string", "x"], ["--resume", "--scheme both"]),
    ]
    for args, words in bad:
        r = run([*args, "/dev/null"])
        check(r.returncode == 2 and r.stdout == "",
              f"{args}: exit {r.returncode}")
        check(all(w in r.stderr for w in words),
              f"{args}: message lacks {words}: {r.stderr}")


def test_match_resume_kill(t):
    """kill -9 twice in the middle of a filtered scan, then --resume to
    the end: every input exactly once across OUT and OUT.filtered, and
    each where the filter puts it (the notfound replies filtered out)."""
    if not HAVE_PCRE2:
        return
    h = t.http
    inputs = [f"k{i}.delay-40.test:{h}" if i % 2 else
              f"n{i}.notfound.test:{h}" for i in range(1500)]
    lst = write_list("mkill.txt", inputs)
    out = os.path.join(TMP, "mkill.jsonl")
    side = out + ".filtered"
    args = [CLI, *PLAIN, "-q", "--resolver", t.dns, "-c", "100",
            "--match-string", "<title>fast", "--resume", out, lst]
    sizes = []
    for k in range(2):
        p = subprocess.Popen(args)
        # kill once this run has written records (a slow start, as under
        # ASan on a loaded machine, must not make the kill land first)
        deadline, n = time.time() + 30, 0
        while time.time() < deadline:
            time.sleep(0.02)
            n = sum(os.path.getsize(f) for f in (out, side)
                    if os.path.exists(f))
            if n > 100000 * (k + 1):
                break
        p.kill()
        p.wait(timeout=10)
        sizes.append(n)
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    where = {}
    for path in (out, side):
        data = open(path, "rb").read()
        check(not data or data.endswith(b"\n"), f"{path}: last line")
        for line in data.decode().splitlines():
            x = json.loads(line)
            check(x["error"] != "canceled", "canceled left")
            where.setdefault(x["input"], []).append(path)
    missing = [i for i in inputs if i not in where]
    twice = [i for i in where if len(where[i]) != 1]
    check(not missing and not twice,
          f"{len(missing)} missing, {len(twice)} twice, e.g. "
          f"{(missing + twice)[:3]}")
    wrong = [i for i in inputs
             if where[i][0] != (side if ".notfound." in i else out)]
    check(not wrong, f"{len(wrong)} in the wrong file, e.g. {wrong[:3]}")
    check(sizes[0] < sum(os.path.getsize(f) for f in (out, side)),
          f"the kills did not land mid-run: {sizes}")
    print(f"two SIGKILLs at {sizes} bytes, then resumed: 750 in OUT, "
          f"750 in OUT.filtered, each once")
