"""test-cli.py: -4/-6 with --prefer-ipv4/--prefer-ipv6 and
--attempt-delay: which contradict each other, and which family a name
with both (both.test: A 127.0.0.1, AAAA ::1) is reached over.

Run through test-cli.py, which imports every test_* here."""
import time

from cli_common import check, run, records
from cli_request import Capture


def test_family_usage(t):
    for args, msg in [
            (["--prefer-ipv4", "--prefer-ipv6"],
             "--prefer-ipv4 and --prefer-ipv6 exclude each other"),
            (["-4", "--prefer-ipv6"], "-4 and --prefer-ipv6 exclude"),
            (["--prefer-ipv4", "-6"], "-6 and --prefer-ipv4 exclude"),
            (["--attempt-delay", "100ms"],
             "--attempt-delay: only with --prefer-ipv4 or --prefer-ipv6"),
            (["--prefer-ipv6", "--attempt-delay", "5ms"],
             "--attempt-delay: 5: must be from 10 to 2000"),
            (["--prefer-ipv6", "--attempt-delay", "3"],
             "--attempt-delay: 3000: must be from 10 to 2000"),
            (["--prefer-ipv6", "--prefer-ipv6"],
             "--prefer-ipv6: given twice"),
            (["--prefer", "/dev/null"], "did you mean --prefer-ipv4, "
                                        "--prefer-ipv6")]:
        r = run(args + ["/dev/null"])
        check(r.returncode == 2 and msg in r.stderr,
              f"{args}: exit {r.returncode}: {r.stderr}")
    # the same family twice is no contradiction
    for args in (["-4", "--prefer-ipv4"], ["--prefer-ipv6", "-6"],
                 ["--prefer-ipv4", "--attempt-delay", "0.1"]):
        r = run(args + ["-q", "/dev/null"])
        check(r.returncode == 0, f"{args}: {r.stderr}")


def test_family_prefer(t):
    v6 = Capture(ip="::1")
    try:
        v4 = Capture(ip="127.0.0.1", port=v6.port)
    except OSError as e:
        v6.close()
        print(f"  127.0.0.1 port {v6.port} is taken ({e}); skipped")
        return
    try:
        for args, ip, untouched in [
                ([], "127.0.0.1", v6),
                (["--prefer-ipv6"], "::1", v4),
                (["--prefer-ipv4", "--attempt-delay", "100ms"], "127.0.0.1",
                 v6),
                (["-6", "--prefer-ipv6"], "::1", v4)]:
            before = len(untouched.peers)
            r = run(["-q", "-f", "json", "--resolver", t.dns] + args + ["-"],
                    input=f"both.test:{v6.port}\n")
            check(r.returncode == 0, f"{args}: exit {r.returncode}: "
                                     f"{r.stderr}")
            rec = records(r.stdout)
            check(len(rec) == 1 and rec[0]["status"] == 200 and
                  rec[0]["ip"] == ip, f"{args}: {r.stdout}")
            check(rec[0]["dns"]["addresses"] in (["127.0.0.1", "::1"],
                                                 ["::1"]),
                  f"{args}: the answer's order: {r.stdout}")
            time.sleep(0.2)     # an accept would have been counted
            check(len(untouched.peers) == before,
                  f"{args}: the other family was contacted")
    finally:
        v4.close()
        v6.close()
