"""test-cli.py: many paths (--path repeated, --paths FILE) and every
address (--all-ips): one record per unit, exactly once, also across
--shard and --resume after kill -9 (docs/cli.md "Many paths, every
address").

`five.test` (and NAME.five.test) resolves to 127.0.0.1, 127.0.0.2,
127.0.0.3, ::1 and ::ffff:127.0.0.2 (test/server-dns.h); a small
dual-stack server on "::" answers on all five, each reply after a
delay, so that a kill lands in the middle of a run.

Run through test-cli.py, which imports every test_* here."""
import http.server
import os
import re
import socket
import subprocess
import threading
import time

from cli_common import CLI, TMP, check, write_list, run, records

FIVE = {"127.0.0.1", "127.0.0.2", "127.0.0.3", "::1", "::ffff:127.0.0.2"}


class _Handler(http.server.BaseHTTPRequestHandler):
    delay = 0.0

    def do_GET(self):
        time.sleep(self.delay)
        if self.path.startswith("/redirect?to="):
            self.send_response(302)
            self.send_header("Location", self.path[len("/redirect?to="):])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"<title>dual</title>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class _Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    request_queue_size = 512

    def handle_error(self, request, client_address):
        pass                    # a killed client: nothing to report

    def server_bind(self):
        # dual stack: 127.0.0.x arrives as ::ffff:127.0.0.x
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class DualStack:
    """The five addresses' server, for a `with` block; .port."""

    def __init__(self, delay=0.0):
        handler = type("H", (_Handler,), {"delay": delay})
        self.srv = _Server(("::", 0), handler)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.srv.shutdown()
        self.srv.server_close()


def unit_ip(r):
    """The address a record's unit tried: the first hop's."""
    return r["redirects"][0]["ip"] if r["redirects"] else r["ip"]


def count_units(recs, with_ip=True):
    got = {}
    for r in recs:
        check(r["error"] != "canceled", f"canceled left: {r['input']}")
        k = (r["input"], r.get("path"), unit_ip(r) if with_ip else None)
        got[k] = got.get(k, 0) + 1
    return got


def want_units(names, port, paths, ips=FIVE):
    return {(f"{n}:{port}", p, ip): 1 for n in names for p in paths
            for ip in ips}


def test_paths_list(t):
    # --paths FILE: comments and blank lines skipped, white space trimmed;
    # every target once per path, the listed path replacing the input's.
    pf = write_list("paths.txt", ["# paths", "", "/one", "  /two?x=1  ",
                                  "/b/status-404"])
    inputs = [f"fast.test:{t.http}", f"http://127.0.0.1:{t.http}/own?q",
              "not a target!"]
    lst = write_list("paths-in.txt", inputs)
    r = run(["--resolver", t.dns, "--paths", pf, lst])
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    recs = records(r.stdout)
    check(len(recs) == 7, f"{len(recs)} records, not 2 x 3 + 1")
    for x in recs:
        if x["input"] == "not a target!":
            check(x["error"] == "invalid_target" and "path" not in x,
                  f"invalid line: {x}")
            continue
        check(x["url"].endswith(x["path"]), f"url {x['url']} {x['path']}")
        check((x["status"] == 404) == (x["path"] == "/b/status-404"),
              f"{x['path']}: {x['status']}")
    got = sorted((x["input"], x.get("path")) for x in recs)
    want = sorted([(i, p) for i in inputs[:2]
                   for p in ("/one", "/two?x=1", "/b/status-404")] +
                  [(inputs[2], None)])
    check(got == want, f"units {got}")
    check("hscan: 7 targets" in r.stderr, r.stderr)
    # the path as a CSV column
    r = run(["--resolver", t.dns, "--paths", pf, "-f", "csv", "--fields",
             "input,path,status", lst])
    rows = sorted(r.stdout.splitlines()[1:])
    check(r.stdout.startswith("input,path,status\n") and len(rows) == 7 and
          f"fast.test:{t.http},/b/status-404,404" in rows and
          "not a target!,," in rows, f"csv: {r.stdout}")
    # one --path keeps its meaning: the input's own path wins
    r = run(["--resolver", t.dns, "--path", "/one", lst])
    recs = records(r.stdout)
    check(len(recs) == 3 and all("path" not in x for x in recs),
          f"one --path: {r.stdout}")
    check(any((x["url"] or "").endswith("/own?q") for x in recs),
          "input path kept")
    # two make a list
    r = run(["--resolver", t.dns, "--path", "/one", "--path", "/x", lst])
    check(len(records(r.stdout)) == 5, f"two --path: {r.stdout}")
    # a bad line names the file and line
    bad = write_list("paths-bad.txt", ["/ok", "# c", "no-slash"])
    r = run(["--paths", bad, lst])
    check(r.returncode == 2 and "paths-bad.txt:3" in r.stderr,
          f"bad --paths: {r.returncode} {r.stderr}")
    r = run(["--path", "bad", "--path", "/x", lst])
    check(r.returncode == 2 and "paths" in r.stderr, f"bad --path: "
          f"{r.returncode} {r.stderr}")


def test_all_ips(t):
    # five.test: five records, each its own ip; a failed lookup and a
    # literal: one each; -4: three.
    with DualStack() as srv:
        inputs = [f"five.test:{srv.port}", f"a.five.test:{srv.port}",
                  "nx.test", f"127.0.0.1:{srv.port}"]
        lst = write_list("all-ips.txt", inputs)
        r = run(["--resolver", t.dns, "--all-ips", "-c", "3", lst])
        check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        recs = records(r.stdout)
        check(len(recs) == 12, f"{len(recs)} records, not 5 + 5 + 1 + 1")
        for i in inputs[:2]:
            mine = [x for x in recs if x["input"] == i]
            check(sorted(x["ip"] for x in mine) == sorted(FIVE),
                  f"{i}: {[x['ip'] for x in mine]}")
            check(all(x["status"] == 200 and
                      sorted(x["dns"]["addresses"]) == sorted(FIVE)
                      for x in mine), f"{i}: {mine[0]}")
        nx = [x for x in recs if x["input"] == "nx.test"]
        check(len(nx) == 1 and nx[0]["ip"] is None, f"nx: {nx}")
        lit = [x for x in recs if x["input"] == inputs[3]]
        check(len(lit) == 1 and lit[0]["ip"] == "127.0.0.1", f"lit: {lit}")
        r = run(["--resolver", t.dns, "--all-ips", "-4", lst])
        recs = records(r.stdout)
        check(sorted(x["ip"] for x in recs if x["input"] == inputs[0]) ==
              ["127.0.0.1", "127.0.0.2", "127.0.0.3"], f"-4: {r.stdout}")
    r = run(["--all-ips", "--proxy", "http://127.0.0.1:1", lst])
    check(r.returncode == 2 and "all_ips" in r.stderr,
          f"--all-ips behind http://: {r.returncode} {r.stderr}")


def test_all_ips_redirect_resume(t):
    # A unit followed to another name keeps its own address in
    # redirects[0].ip (its record's ip is the last hop's); --resume keys
    # it by that, so a second run over the finished file adds nothing.
    with DualStack() as srv:
        lst = write_list("x-redir.txt", [f"five.test:{srv.port}"])
        out = os.path.join(TMP, "x-redir.jsonl")
        args = ["--resolver", t.dns, "--all-ips", "--follow", "1",
                "--path", f"/redirect?to=http://fast.test:{t.http}/",
                "--path", "/plain", "--resume", out, lst]
        r = run(args)
        check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        recs = records(open(out).read())
        check(len(recs) == 10, f"{len(recs)} records, not 2 x 5")
        hopped = [x for x in recs if x["redirects"]]
        check(len(hopped) == 5 and all(x["ip"] == "127.0.0.1" and
                                       x["host"] == "fast.test"
                                       for x in hopped),
              f"followed: {[(x['host'], x['ip']) for x in hopped]}")
        check(sorted(unit_ip(x) for x in hopped) == sorted(FIVE),
              f"units: {[unit_ip(x) for x in hopped]}")
        r = run(args)
        check(r.returncode == 0 and "10 units already done" in r.stderr,
              f"second run: {r.returncode} {r.stderr}")
        check(len(records(open(out).read())) == 10, "records added")


def test_expand_progress(t):
    # --progress counts records: the total is lines x paths; with
    # --all-ips it is unknown until names resolve, so only the count.
    lines = [f"f{i}.fast.test:{t.http}" for i in range(4)]
    lines += [f"s.delay-2300.test:{t.http}"]
    lst = write_list("x-progress.txt", lines)
    base = ["--progress", "--resolver", t.dns, "-o", os.devnull, lst]
    r = run(["--path", "/a", "--path", "/b"] + base, timeout=60)
    first = r.stderr.splitlines()[0] if r.stderr else ""
    check(re.match(r"hscan: progress 8/10 80% ", first) is not None,
          f"--progress with paths: {r.stderr!r}")
    check("hscan: 10 targets, 10 ok" in r.stderr, r.stderr)
    r = run(["--all-ips"] + base, timeout=60)
    first = r.stderr.splitlines()[0] if r.stderr else ""
    check(re.match(r"hscan: progress 4 done ", first) is not None,
          f"--progress with --all-ips: {r.stderr!r}")


def test_expand_shard(t):
    # --shard 0/2 and 1/2 with --all-ips and paths: together every unit
    # exactly once, and a name's units all in one shard.
    names = [f"s{i}.five.test" for i in range(24)]
    with DualStack() as srv:
        lst = write_list("x-shard.txt", [f"{n}:{srv.port}" for n in names])
        base = ["--resolver", t.dns, "--all-ips", "--path", "/a",
                "--path", "/b", "-c", "50"]
        got = {}
        per_shard = []
        for k in (0, 1):
            out = os.path.join(TMP, f"x-shard-{k}.jsonl")
            r = run(base + ["--shard", f"{k}/2", "-o", out, lst])
            check(r.returncode == 0, f"shard {k}: {r.stderr}")
            recs = records(open(out).read())
            per_shard.append({x["input"] for x in recs})
            for key, n in count_units(recs).items():
                got[key] = got.get(key, 0) + n
    check(not (per_shard[0] & per_shard[1]), "a name in both shards")
    check(per_shard[0] and per_shard[1], "a shard is empty")
    want = want_units(names, srv.port, ["/a", "/b"])
    check(got == want, f"{len(got)} units, want {len(want)}; e.g. "
          f"{[k for k in want if got.get(k) != 1][:3]}")


def kill_resume(t, name, all_ips, n_names, paths, kills):
    """kill -9 `kills` times in the middle of a slow scan of `n_names`
    names (three listed twice) at `paths`, then --resume to the end:
    every (input, path[, address]) exactly once in the file (twice for
    the lines listed twice).  Returns the line counts at the kills."""
    import random
    rnd = random.Random(int(os.environ.get("HSCAN_TEST_SEED", "0")) or None)
    names = [f"k{i}.five.test" for i in range(n_names)]
    inputs = names + names[:3]          # duplicates: once per occurrence
    with DualStack(delay=0.3) as srv:
        lst = write_list(f"{name}.txt", [f"{n}:{srv.port}" for n in inputs])
        pf = write_list(f"{name}-paths.txt", paths)
        out = os.path.join(TMP, f"{name}.jsonl")
        args = [CLI, "--scheme", "http", "--max-per-ip", "0", "-q",
                "--resolver", t.dns, "--paths", pf, "-c", "40",
                "--resume", out, lst] + (["--all-ips"] if all_ips else [])
        sizes = []

        def lines():
            return sum(1 for _ in open(out)) if os.path.exists(out) else 0
        for _ in range(kills):
            before = lines()
            p = subprocess.Popen(args)
            # kill once this run has written records (a slow start, as
            # under ASan on a loaded machine, must not make the kill
            # land before the first), at a random point after that
            end = time.monotonic() + 30
            while lines() <= before and time.monotonic() < end \
                    and p.poll() is None:
                time.sleep(0.02)
            time.sleep(rnd.uniform(0.1, 0.4))
            p.kill()
            p.wait(timeout=10)
            sizes.append(lines())
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        recs = records(open(out).read())
    want = want_units(names, srv.port, paths, FIVE if all_ips else [None])
    for k in want:
        if k[0].split(":")[0] in names[:3]:
            want[k] = 2
    got = count_units(recs, with_ip=all_ips)
    check(0 < sizes[-1] < sum(want.values()),
          f"the kills did not land mid-run: {sizes} lines")
    check(got == want, f"{len(got)} units, want {len(want)}; e.g. "
          f"{[k for k in want if got.get(k) != want[k]][:3]}")
    return sizes, len(recs)


def test_expand_resume_kill(t):
    # paths x addresses: every (input, path, address) once
    sizes, n = kill_resume(t, "x-kill", True, 40, ["/p1", "/p2"], 2)
    print(f"two SIGKILLs at {sizes} records, then resumed to {n} records, "
          f"each unit once")


def test_paths_resume_kill(t):
    # a path list alone: every (input, path) once, keyed without address
    sizes, n = kill_resume(t, "p-kill", False, 300, ["/p1", "/p2"], 1)
    print(f"a SIGKILL at {sizes} records, then resumed to {n} records, "
          f"each (input, path) once")
