"""test-cli.py: --exclude LIST and @FILE, against listeners that count
the connections they accept: an excluded address is never connected to.

Run through test-cli.py, which imports every test_* here."""
import os

from cli_common import TMP, Listener, check, run, records


class Counter(Listener):
    """A loopback listener on `ip` that accepts, counts and closes."""

    def __init__(self, ip):
        self.accepts = 0
        super().__init__(ip)

    def handle(self, c):
        self.accepts += 1


def test_exclude(t):
    """A literal and a name resolving to an excluded address (from a
    list and from a file, repeated), a name excluded by name: each
    gets "excluded" and no connection; the one not excluded connects."""
    c3, c4 = Counter("127.0.0.3"), Counter("127.0.0.4")
    try:
        block = os.path.join(TMP, "block.txt")
        with open(block, "w") as f:
            f.write("# blocklist\n\n  127.0.0.3   # the counter\n"
                    "Secret.Test.\n")
        ins = [f"http://127.0.0.3:{c3.port}/",
               f"http://ip-127-0-0-3.fast.test:{c3.port}/",
               f"http://db.secret.test:{c3.port}/",
               f"http://ip-127-0-0-4.fast.test:{c4.port}/"]
        r = run(["-q", "--resolver", t.dns, "--exclude", "10.0.0.0/8, ::1",
                 "--exclude", f"@{block}", "-"], input="\n".join(ins) + "\n")
        check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        recs = {x["input"]: x for x in records(r.stdout)}
        check(len(recs) == 4, f"4 records, got {len(recs)}")
        want = {ins[0]: "address 127.0.0.3 excluded by 127.0.0.3",
                ins[1]: "address 127.0.0.3 excluded by 127.0.0.3",
                ins[2]: "name db.secret.test excluded by secret.test"}
        for i, detail in want.items():
            x = recs[i]
            check(x["error"] == "excluded" and x["error_detail"] == detail
                  and x["ip"] is None, f"{i}: {x}")
        check(recs[ins[1]]["dns"]["addresses"] == ["127.0.0.3"],
              f"addresses kept: {recs[ins[1]]['dns']}")
        check(recs[ins[3]]["error"] != "excluded", f"{recs[ins[3]]}")
        check(c3.accepts == 0, f"{c3.accepts} connections to 127.0.0.3")
        check(c4.accepts == 1, f"{c4.accepts} connections to 127.0.0.4")
        # the error name is one --match-error knows
        r = run(["-q", "--exclude", "127.0.0.3", "--match-error",
                 "excluded", "-"], input=ins[0] + "\n")
        check(r.returncode == 0 and len(records(r.stdout)) == 1,
              f"--match-error excluded: {r.returncode} {r.stderr}")
        check(c3.accepts == 0, "still no connection")
    finally:
        c3.close()
        c4.close()


def test_exclude_refused(t):
    """A bad entry is a usage error naming it, and the file and line
    for @FILE; "*" and an empty list are refused."""
    bad = os.path.join(TMP, "bad-block.txt")
    with open(bad, "w") as f:
        f.write("# ok so far\n10.0.0.0/8\n\nfd00::/8\n10.0.0.0/33\n")
    cases = [
        (["--exclude", f"@{bad}"],
         f"--exclude {bad}:5: '10.0.0.0/33': not a CIDR"),
        (["--exclude", "example.com,10.0.0.300"],
         "--exclude: '10.0.0.300': not an IPv4 address"),
        (["--exclude", "*"], "'*' would exclude every target"),
        (["--exclude", " , "], "--exclude: an empty list"),
        (["--exclude", "@/nonexistent/block"],
         "--exclude: cannot read '/nonexistent/block'"),
    ]
    for args, msg in cases:
        r = run(args + ["/dev/null"])
        check(r.returncode == 2 and msg in r.stderr,
              f"{args}: exit {r.returncode}: {r.stderr}")
    r = run(["--help=input"])
    check("--exclude LIST" in r.stdout, "--help=input lists --exclude")
