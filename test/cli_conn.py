"""test-cli.py: how connections are made: --retries (the record's
attempts) and --source-ip, against loopback servers started here.

Run through test-cli.py, which imports every test_* here."""
import socket

from cli_common import check, run, records
from cli_request import Capture


def refused_port():
    """A bound socket that does not listen: connecting is refused.  The
    caller keeps it open until done."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def scan(lines, args):
    r = run(["-q", "-f", "json"] + args + ["-"],
            input="".join(f"{x}\n" for x in lines), timeout=60)
    check(r.returncode in (0, 1), f"{args}: exit {r.returncode}: {r.stderr}")
    recs = records(r.stdout)
    check(len(recs) == len(lines), f"{args}: {r.stdout}")
    return recs


def usage_error(args, words):
    r = run(args + ["/dev/null"])
    check(r.returncode == 2 and all(w in r.stderr for w in words),
          f"{args}: exit {r.returncode}: {r.stderr}")


def test_retries(t):
    s, port = refused_port()
    try:
        rec = scan([f"127.0.0.1:{port}"], ["--retries", "2"])[0]
        check(rec["error"] == "connect_refused" and rec["attempts"] == 3,
              f"refused, --retries 2: {rec}")
        # the waits before tries 2 and 3: at least 50 + 100 ms
        check(rec["timing_ms"]["total"] >= 150, f"waits: {rec}")
        rec = scan([f"127.0.0.1:{port}"], [])[0]
        check(rec["error"] == "connect_refused" and rec["attempts"] == 1,
              f"no --retries: {rec}")
    finally:
        s.close()
    srv = Capture(fail=2)
    try:
        rec = scan([f"127.0.0.1:{srv.port}/f"], ["--retries", "3"])[0]
        check(rec["status"] == 200 and rec["attempts"] == 3 and
              len(srv.peers) == 3, f"reset twice: {rec} {srv.peers}")
    finally:
        srv.close()
    usage_error(["--retries", "11"], ["--retries", "11"])
    usage_error(["--retries", "x"], ["--retries"])
    usage_error(["--retries", "1", "--retries", "2"],
                ["--retries: given twice"])


def test_source_ip(t):
    srv = Capture()
    try:
        lines = [f"127.0.0.1:{srv.port}/s{i}" for i in range(6)]
        recs = scan(lines, ["-c", "1", "--source-ip", "127.0.0.2",
                            "--source-ip", "127.0.0.3"])
        check(all(r["status"] == 200 for r in recs), f"{recs}")
        check(sorted(srv.peers) == ["127.0.0.2"] * 3 + ["127.0.0.3"] * 3,
              f"peers: {srv.peers}")
    finally:
        srv.close()
    # IPv4 sources only: an IPv6 destination is not tried
    rec = scan(["[::1]:9"], ["--source-ip", "127.0.0.2"])[0]
    check(rec["error"] == "source_unusable" and
          "family" in rec["error_detail"], f"v6 target: {rec}")
    # an address this host does not have
    rec = scan(["127.0.0.1:9"], ["--source-ip", "192.0.2.1"])[0]
    check(rec["error"] == "source_unusable" and
          "192.0.2.1" in rec["error_detail"], f"not local: {rec}")
    usage_error(["--source-ip", "1.2.3"], ["source_ips", "'1.2.3'"])
    usage_error(["--source-ip", "localhost"], ["source_ips"])
