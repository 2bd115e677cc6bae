"""test-cli.py: --shard K/N (docs/scaling.md).

Run through test-cli.py, which imports every test_* here."""
import os
import re
import signal
import subprocess
import time

from cli_common import (CLI, PLAIN, TMP, check, write_list, run, records,
                        check_one_each)


# ---- --shard K/N (docs/scaling.md) ----

def fnv1a64(data):
    """64-bit FNV-1a, as hscan_shard_of() documents it."""
    h = 0xcbf29ce484222325
    for c in data:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h


def shard_of(key, n):
    """The shard of a placement key: the lowercase host (no trailing dot,
    no IPv6 brackets) of a valid line, the trimmed text of an invalid
    one.  The tests derive the key themselves from how they built each
    line."""
    return fnv1a64(key.encode()) % n


SHARD_RE = re.compile(r"shard (\d+)/(\d+): (\d+) lines left to other shards")


def shard_run(t, lst, out, spec, extra=()):
    """Run the CLI on `lst` into `out`, as shard `spec` ("K/N") or
    unsharded (None): (records, stderr)."""
    args = ["--resolver", t.dns, "-k", "-c", "200", "--timeout", "5",
            "-o", out, *extra]
    if spec:
        args += ["--shard", spec]
    r = run(args + [lst], timeout=60)
    check(r.returncode == 0, f"--shard {spec}: exit {r.returncode}: "
          f"{r.stderr}")
    return records(open(out).read()), r.stderr


def shard_summary(err, k, n, recs):
    """The summary names the shard and the lines left to the others, and
    counts this shard's records as its targets."""
    m = SHARD_RE.search(err)
    check(m is not None, f"shard {k}/{n}: no shard count in summary: {err}")
    check((int(m.group(1)), int(m.group(2))) == (k, n),
          f"summary names shard {m.group(1)}/{m.group(2)}, not {k}/{n}")
    check(f"hscan: {len(recs)} targets," in err,
          f"shard {k}/{n}: summary targets: {err}")
    return int(m.group(3))


def shard_list(t):
    """A few hundred lines: each host in several URL forms (ports,
    paths, schemes, case, a trailing dot, surrounding blanks), testd
    names resolving to 127.0.0.K, IPv4 and IPv6 literals, invalid lines,
    duplicates, blank and comment lines.  Returns (lines, key) where
    key maps each trimmed non-skipped line to its placement key and
    whether it is valid."""
    import random
    rnd = random.Random(7)
    H, S = t.http, t.https
    key = {}
    lines = []

    def add(line, k, valid=True):
        lines.append(line)
        key[line.strip()] = (k, valid)

    for i in range(60):
        h = f"h{i}.fast.test"
        forms = [f"{h}:{H}", f"http://{h}:{H}/p{i}?q=1", f"{h.upper()}:{H}/x",
                 f"{h}.:{H}", f"https://{h}:{S}/", f"  Http://{h}:{H}/#f  "]
        for f in forms[:2 + i % 5]:
            add(f, h)
    for k in range(2, 42):
        h = f"ip-127-0-0-{k}.fast.test"
        add(f"{h}:{H}", h)
        add(f"http://{h}:{H}/a", h)
    for j in range(8):
        add(f"127.0.0.1:{H}/lit{j}", "127.0.0.1")
    add(f"http://127.0.0.1:{H}/", "127.0.0.1")
    add(f"127.0.0.3:{H}", "127.0.0.3")
    add(f"[::1]:{H}/", "::1")
    add(f"http://[::1]:{H}/z", "::1")
    for j in range(6):
        for bad in (f"bad host {j}!", f"ftp://f{j}.test/",
                    f"h{j}.fast.test:99999", f"Bad_Host{j}!.test"):
            add(bad, bad, valid=False)
    lines += rnd.sample(lines, 25)                  # duplicates
    lines += ["", "# a comment", "   ", "#h1.fast.test:1"]
    rnd.shuffle(lines)
    return lines, key


def test_shard_union(t):
    """Three shards cover the list exactly once, every form of one host
    in one shard, placed by the documented hash; each summary counts
    the lines left to the others; a shard run twice is the same."""
    from collections import Counter
    lines, key = shard_list(t)
    want = Counter(x.strip() for x in lines
                   if x.strip() and not x.strip().startswith("#"))
    lst = write_list("shard.txt", lines)
    n = 3
    start = time.monotonic()
    full, err = shard_run(t, lst, os.path.join(TMP, "shard-all.jsonl"), None)
    check(Counter(r["input"] for r in full) == want,
          "unsharded run: one record per non-skipped line")
    check("shard" not in err, f"unsharded summary mentions shards: {err}")
    shards, where = [], {}
    for k in range(n):
        recs, err = shard_run(t, lst, os.path.join(TMP, f"shard-{k}.jsonl"),
                              f"{k}/{n}")
        skipped = shard_summary(err, k, n, recs)
        check(skipped == len(full) - len(recs),
              f"shard {k}: {skipped} left to others, want "
              f"{len(full)} - {len(recs)}")
        shards.append(Counter(r["input"] for r in recs))
        for inp in shards[k]:
            check(inp not in where, f"{inp!r} in shards {where.get(inp)} "
                  f"and {k}")
            where[inp] = k
    secs = time.monotonic() - start
    union = sum(shards, Counter())
    check(union == Counter(r["input"] for r in full),
          "union of the shards != the unsharded run")
    by_key = {}
    for inp, k in where.items():
        hk, valid = key[inp]
        if valid:
            by_key.setdefault(hk, set()).add(k)
        check(k == shard_of(hk, n), f"{inp!r} in shard {k}, the hash of "
              f"{hk!r} says {shard_of(hk, n)}")
    split = {h: s for h, s in by_key.items() if len(s) > 1}
    check(not split, f"hosts split over shards: {list(split.items())[:3]}")
    sizes = [sum(c.values()) for c in shards]
    check(min(sizes) >= len(full) // 6, f"shard sizes {sizes}")
    # deterministic: the same shard again gives the same multiset
    again, _ = shard_run(t, lst, os.path.join(TMP, "shard-1b.jsonl"), "1/3")
    check(Counter(r["input"] for r in again) == shards[1],
          "shard 1/3 differs between two runs")
    print(f"{len(lines)} lines, {len(full)} records, {len(by_key)} hosts: "
          f"shard sizes {sizes}; 4 runs in {secs:.2f} s")


# Placements computed once with hscan_shard_of() and fixed here: the
# hash is documented as stable, so a change to it must fail this test.
# (line, shard of 3, shard of 8); PORT is the test server's.
SHARD_PINS = [
    ("h0.fast.test:PORT", 0, 3),
    ("HTTP://H0.FAST.TEST.:PORT/x", 0, 3),
    ("h1.fast.test:PORT", 2, 0),
    ("h2.fast.test:PORT/a?b", 2, 1),
    ("http://Www.Example.Test:PORT/", 0, 2),
    ("a.b.c.fast.test:PORT", 2, 1),
    ("ip-127-0-0-9.fast.test:PORT", 1, 1),
    ("127.0.0.1:PORT/a", 2, 6),
    ("[::1]:PORT", 2, 4),
    ("bad host!", 2, 1),
    ("Bad_Host!.test", 1, 0),
]


def test_shard_pins(t):
    lines = [x.replace("PORT", str(t.http)) for x, _, _ in SHARD_PINS]
    lst = write_list("pins.txt", lines)
    out = os.path.join(TMP, "pins.jsonl")
    for col, n in ((1, 3), (2, 8)):
        got = {}
        for k in range(n):
            recs, _ = shard_run(t, lst, out, f"{k}/{n}", ["-q"])
            for r in recs:
                got[r["input"]] = k
        for pin, line in zip(SHARD_PINS, lines):
            check(got.get(line.strip()) == pin[col],
                  f"{line!r}: shard {got.get(line.strip())} of {n}, "
                  f"pinned {pin[col]}")
    print(f"{len(lines)} pinned placements hold for N=3 and N=8")


def test_shard_usage(t):
    for bad, why in (("3/3", "K must be below N"), ("a/2", "not K/N"),
                     ("1/0", "N must be at least 1"), ("-1/2", "not K/N"),
                     ("1", "not K/N"), ("1/2x", "not K/N"),
                     ("0/", "not K/N"), (" 1/2", "not K/N"),
                     ("99999999999999999999/3", "K must be below N")):
        r = run(["--shard", bad, "/dev/null"])
        check(r.returncode == 2, f"--shard {bad!r}: exit {r.returncode}")
        check(f'hscan-cli: --shard: "{bad}": {why}' in r.stderr,
              f"--shard {bad!r}: {r.stderr!r}")
        check(r.stdout == "", f"--shard {bad!r}: output {r.stdout!r}")
    r = run(["--help"])
    check("--shard K/N" in r.stdout, "--help lists --shard")
    # N = 1 is the whole list, and is no sharding
    lst = write_list("shard1.txt", [f"h{i}.fast.test:{t.http}"
                                    for i in range(20)])
    r = run(["--resolver", t.dns, "--shard", "0/1", lst])
    check(r.returncode == 0 and len(records(r.stdout)) == 20,
          f"--shard 0/1: {r.returncode} {r.stderr}")
    check("shard" not in r.stderr, f"--shard 0/1 summary: {r.stderr}")


def test_shard_resume(t):
    """A shard's output file resumes that shard: Ctrl-C in the middle,
    then --resume with the same --shard: each of the shard's inputs
    exactly once, no other shard's."""
    n, k = 3, 1
    inputs = [f"r{i}.delay-300.test:{t.http}" for i in range(900)]
    mine = [x for x in inputs if shard_of(x.split(":")[0], n) == k]
    lst = write_list("shard-resume.txt", inputs)
    out = os.path.join(TMP, "shard-resume.jsonl")
    args = [CLI, *PLAIN, "--resolver", t.dns, "-c", "100", "--shard",
            f"{k}/{n}", "--resume", out, lst]
    p = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=30)
    check(p.returncode == 130, f"exit {p.returncode}")
    first = records(open(out).read())
    canceled = sum(r["error"] == "canceled" for r in first)
    check(canceled > 0, "some canceled")
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    check_one_each(out, mine)
    done = re.search(r"(\d+) inputs already done", r.stderr)
    check(done is not None and int(done.group(1)) == len(first) - canceled,
          f"resumed summary: {r.stderr}")
    m = SHARD_RE.search(r.stderr)
    check(m is not None and int(m.group(3)) == len(inputs) - len(mine),
          f"resumed run: other shards' lines: {r.stderr}")
    print(f"shard {k}/{n} of {len(inputs)}: {len(mine)} inputs; "
          f"{len(first) - canceled} done and {canceled} canceled at Ctrl-C, "
          f"resumed to exactly {len(mine)}")
