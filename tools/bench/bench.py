#!/usr/bin/env python3
"""bench.py: hscan-cli against other HTTP clients on a synthetic internet.

One command builds everything, starts the loopback test servers and runs
every scanner over the same targets (issue 5):

    sudo python3 tools/bench/bench.py            # the four workloads
    sudo python3 tools/bench/bench.py --quick    # a smoke run
    sudo python3 tools/bench/bench.py --sweep    # throughput/RSS vs -c
    sudo python3 tools/bench/bench.py --memory   # RSS: 1e5 vs 1e6 lines
    sudo python3 tools/bench/bench.py --inflight # RSS per target in flight
    sudo python3 tools/bench/bench.py --callgrind
    sudo python3 tools/bench/bench.py --tls-floor  # handshake CPU floor

It needs root: it re-executes itself inside `unshare --net --mount`, a
private network namespace holding only `lo`, where
  - the port range is widened and listen backlogs raised (per namespace,
    so the host is untouched);
  - a resolv.conf with `nameserver 127.0.0.1` is bind-mounted over
    /etc/resolv.conf, so every client (Go's resolver, glibc in Python
    threads and curl, aiodns, c-ares in hscan-cli) asks our DNS server;
  - hscan-testd --any-loopback serves DNS on 127.0.0.1:53 and HTTP/HTTPS
    on 0.0.0.0, pinned to core 0; every scanner runs pinned to core 1.

Target i is `ip-127-X-Y-Z.LABEL.test`, which the DNS server answers with
its own address 127.X.Y.Z, so connections spread over many destination
addresses as on the internet. The label picks the server's behaviour:
`fast` (200 at once), `delay` (200 after 200 ms), `notfound` (404); names
under `nx.test` do not exist. That is also the truth each record is
scored against.

Each run's wall time, CPU (user+sys) and peak RSS come from wait4() on
the scanner process, in the small launcher bench-run.c (forked from the
Python driver, a peer's ru_maxrss would start at the driver's RSS); its
stdout streams to a file, which is scored afterwards. Output: a table per workload on stdout, and results.json and
results.md in the work directory (BUILD/bench/).

Python stdlib only; the Python peers themselves run under /usr/bin/python3
(that is where python3-aiohttp is installed). Install the rest with
tools/bench/install-deps.sh.
"""

import argparse
import ctypes
import os
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
from bench_common import (CURL_MAX, ROOT, SYS_PY, cc_build,  # noqa: E402
                          die, go_build, log, newer)
from bench_report import (environment, plot_sweep, sweep_md,  # noqa: E402
                          text_table, write_results)
from bench_targets import Targets, parse_mix, score  # noqa: E402
import tls_floor  # noqa: E402  (tools/bench/tls_floor.py)
import bench_inflight  # noqa: E402  (tools/bench/bench_inflight.py)

PEERS_DIR = ROOT / "tools" / "bench" / "peers"
NS_ENV = "HSCAN_BENCH_IN_NS"
NOFILE_WANT = 1048576
FD_RESERVE = 300            # descriptors a client needs besides sockets
RUNNER = None               # the built bench-run

# name: scheme, behaviour label, hosts, in flight
WORKLOADS = {
    "http-fast": ("http", "fast", 10000, 1000),
    "http-slow": ("http", "delay", 50000, 10000),
    "https-500": ("https", "fast", 5000, 500),
    "https-2000": ("https", "fast", 5000, 2000),
}
# Only by --workload: 8 KiB HTML pages (hscan-testd page-8192), for the
# matcher cost figure (--peer hscan-body --peer hscan-match).
EXTRA_WORKLOADS = {
    "http-page": ("http", "page", 20000, 1000),
}
QUICK = {
    "http-fast": (1000, 100),
    "http-slow": (2000, 500),
    "https-500": (500, 50),
    "https-2000": (500, 200),
    "http-page": (1000, 100),
}
PEERS = ["hscan", "go", "threads", "aiohttp", "curl", "epoll"]
# Only by --peer: hscan-cli reading bodies (its default 8 KiB, no
# matchers), and the same with three body regexes and an extractor
# (issue 22's cost figure: at most 1.3x the CPU per host).  The filters
# match no page of the test server, so every record is still written
# and scored.
HSCAN_VARIANTS = {
    "hscan-body": [],
    "hscan-match": ["--filter-regex", "(?i)<title>[^<]*(admin|login)",
                    "--filter-regex", "wp-(content|includes)/",
                    "--filter-regex", "version[=:]\\s*[0-9]+\\.[0-9]+",
                    "--extract", "<title>(?<title>[^<]*)</title>"],
}
SWEEP_CONC = [100, 300, 1000, 3000, 10000, 20000]
SWEEP_QUICK = [100, 300, 1000]

# ---- the namespace ----

def enter_namespace():
    """Re-execute inside a fresh network + mount namespace."""
    if os.environ.get(NS_ENV) == "1":
        return
    if os.geteuid() != 0:
        die("needs root (unshare --net --mount, port 53, sysctls)")
    if not shutil.which("unshare"):
        die("unshare not found: install util-linux")
    env = dict(os.environ)
    env[NS_ENV] = "1"
    argv = ["unshare", "--net", "--mount", "--", sys.executable,
            str(Path(__file__).resolve())] + sys.argv[1:]
    os.execvpe("unshare", argv, env)


def write_sysctl(name, value):
    path = "/proc/sys/" + name.replace(".", "/")
    try:
        with open(path, "w") as f:
            f.write(value)
        return True
    except OSError as e:
        log("bench: sysctl %s=%s: %s" % (name, value, e))
        return False


def raise_nofile():
    """Soft = hard = NOFILE_WANT where allowed (CAP_SYS_RESOURCE), else
    soft = hard. Children inherit it. Returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE_WANT, NOFILE_WANT))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        log("bench: cannot raise RLIMIT_NOFILE past the hard limit %d "
            "(no CAP_SYS_RESOURCE); concurrency is capped at %d"
            % (hard, hard - FD_RESERVE))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def setup_namespace(work):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # Per-namespace sysctls: they die with the namespace.
    write_sysctl("net.ipv4.ip_local_port_range", "1024 65535")
    write_sysctl("net.core.somaxconn", "65535")
    write_sysctl("net.ipv4.tcp_max_syn_backlog", "65535")
    resolv = work / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n")
    # A private mount namespace (unshare makes it private): the host's
    # /etc/resolv.conf is untouched.
    subprocess.run(["mount", "--bind", str(resolv), "/etc/resolv.conf"],
                   check=True)
    return raise_nofile()


def die_with_parent():
    """preexec_fn: SIGKILL this child when the driver dies, so nothing
    outlives a killed bench (prctl PR_SET_PDEATHSIG survives exec)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


# ---- building ----

def build_project(bdir):
    if not (bdir / "build.ninja").exists():
        subprocess.run(["meson", "setup", str(bdir), "--buildtype=release"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", str(bdir), "tools/hscan-cli",
                    "test/hscan-testd"], check=True,
                   stdout=subprocess.DEVNULL)


def build_peers(work):
    """Build the Go and epoll peers that exist; notes for those that
    do not or fail."""
    notes = {}
    for name, src, build in (("go", PEERS_DIR / "peer-go.go", go_build),
                             ("epoll", PEERS_DIR / "peer-epoll.c",
                              cc_build)):
        out = work / ("peer-" + name)
        if src.exists() and newer(src, out):
            why = build(src, out)
            if why:
                notes[name] = why
    return notes


def build_runner(work):
    """bench-run, the launcher whose wait4() gives honest peak RSS."""
    src = ROOT / "tools" / "bench" / "bench-run.c"
    out = work / "bench-run"
    if newer(src, out):
        why = cc_build(src, out)
        if why:
            die(why)
    return out


# ---- the server ----

class Server:
    """hscan-testd pinned to one core, for the whole bench."""

    def __init__(self, bdir, work, cpu):
        self.cmd = ["taskset", "-c", str(cpu),
                    str(bdir / "test" / "hscan-testd"), "--any-loopback",
                    "--dns-port", "53", "--ip", "127.0.0.1",
                    "--lifetime", "0"]
        self.err = open(work / "testd.err", "ab")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE,
                                     stderr=self.err, start_new_session=True,
                                     preexec_fn=die_with_parent)
        info = {}
        buf = b""
        deadline = time.monotonic() + 30
        fd = self.proc.stdout.fileno()
        while len(info) < 4 and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                key, _, val = line.decode().strip().partition(" ")
                info[key] = val
        if len(info) < 4:
            self.stop()
            die("hscan-testd did not start; see testd.err")
        self.http = int(info["http"].rsplit(":", 1)[1])
        self.https = int(info["https"].rsplit(":", 1)[1])
        self.ca = info["ca"]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cpu_ticks(self):
        """utime + stime of the server process, in clock ticks."""
        try:
            with open("/proc/%d/stat" % self.proc.pid) as f:
                rest = f.read().rsplit(")", 1)[1].split()
            return int(rest[11]) + int(rest[12])
        except (OSError, IndexError, ValueError):
            return 0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


TICK = os.sysconf("SC_CLK_TCK")


def cpu_times():
    """Busy and total jiffies per CPU from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if not line.startswith("cpu") or line.startswith("cpu "):
                continue
            parts = line.split()
            vals = [int(v) for v in parts[1:]]
            idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
            out[int(parts[0][3:])] = (sum(vals) - idle, sum(vals))
    return out


NET_KEYS = {
    ("TcpExt", "ListenOverflows"), ("TcpExt", "ListenDrops"),
    ("TcpExt", "SyncookiesSent"), ("TcpExt", "TCPTimeouts"),
    ("Tcp", "RetransSegs"), ("Tcp", "AttemptFails"),
    ("Udp", "RcvbufErrors"), ("Udp", "InErrors"),
}


def net_counters():
    """The namespace's TCP/UDP drop and retransmit counters."""
    vals = {}
    for path in ("/proc/net/netstat", "/proc/net/snmp"):
        with open(path) as f:
            lines = f.read().splitlines()
        for head, nums in zip(lines[::2], lines[1::2]):
            proto = head.split(":")[0]
            for k, v in zip(head.split()[1:], nums.split()[1:]):
                if (proto, k) in NET_KEYS:
                    vals[proto + "." + k] = int(v)
    return vals


# ---- peers ----

HSCAN_PREFIX = []   # --hscan-prefix


def peer_argv(name, work, bdir, conc, budget, ca, tg):
    """(argv, None) or (None, why it cannot run)."""
    common = ["-c", str(conc), "-t", str(budget)]
    if tg.scheme == "https":
        common += ["--cafile", ca]
    if name == "hscan":
        cli = bdir / "tools" / "hscan-cli"
        if not cli.exists():
            return None, "hscan-cli not built"
        # --body-bytes 0: the peers read status and headers only (Go
        # closes the body unread); hscan-cli reads 8 KiB of it by default
        return HSCAN_PREFIX + [str(cli), "-q", "-c", str(conc), "--timeout", str(budget),
                "--body-bytes", "0", "--ca-file", ca, str(tg.urls)], None
    if name in HSCAN_VARIANTS:
        cli = bdir / "tools" / "hscan-cli"
        if not cli.exists():
            return None, "hscan-cli not built"
        return HSCAN_PREFIX + [str(cli), "-q", "-c", str(conc), "--timeout",
                               str(budget), "--ca-file", ca,
                               *HSCAN_VARIANTS[name], str(tg.urls)], None
    if name in ("go", "epoll"):
        exe = work / ("peer-" + name)
        if name == "epoll" and tg.scheme != "http":
            return None, "HTTP only"
        if not exe.exists():
            return None, "%s not built (no peers/peer-%s source?)" % (
                exe.name, name)
        path = tg.epoll if name == "epoll" else tg.urls
        return [str(exe)] + common + [str(path)], None
    script = {"threads": "peer_threads.py", "aiohttp": "peer_aiohttp.py",
              "curl": "peer-curl.sh"}[name]
    src = PEERS_DIR / script
    if not src.exists():
        return None, "peers/%s missing" % script
    if name == "curl":
        return ["sh", str(src)] + common + [str(tg.urls)], None
    return [SYS_PY, str(src)] + common + [str(tg.urls)], None


def peer_conc(name, conc):
    """The concurrency a peer actually runs at, and a note if capped."""
    if name == "curl" and conc > CURL_MAX:
        return CURL_MAX, "curl capped at %d" % CURL_MAX
    return conc, ""


# ---- one run ----

def run_once(argv, out_path, err_path, limit, srv, cpu):
    """Run argv pinned to `cpu` under bench-run, stdout to out_path.
    Measures wall time, rusage, the server's CPU and the namespace's
    drop counters."""
    report = Path(str(out_path) + ".rusage")
    if report.exists():
        report.unlink()
    argv = ["taskset", "-c", str(cpu), str(RUNNER), str(report)] + argv
    ticks0, cores0, net0 = srv.cpu_ticks(), cpu_times(), net_counters()
    killed = []
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, cwd=ROOT,
                                start_new_session=True,
                                preexec_fn=die_with_parent)

        def kill():
            killed.append(1)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        timer = threading.Timer(limit, kill)
        timer.start()
        try:
            proc.wait()
        except BaseException:
            kill()
            raise
        timer.cancel()
    try:                        # whatever the peer left behind
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        wall, user, sys_, rss, status = report.read_text().split()
        report.unlink()
        code = os.waitstatus_to_exitcode(int(status))
    except (OSError, ValueError):   # bench-run itself was killed
        wall, user, sys_, rss, code = limit, 0, 0, 0, -9
    ticks1, cores1, net1 = srv.cpu_ticks(), cpu_times(), net_counters()
    busy = {}
    for c, (b1, t1) in cores1.items():
        b0, t0_ = cores0.get(c, (0, 0))
        busy[c] = round(100.0 * (b1 - b0) / max(1, t1 - t0_), 1)
    return {
        "wall_s": float(wall), "user_s": float(user), "sys_s": float(sys_),
        "maxrss_kb": int(rss), "exit": code,
        "killed": bool(killed),
        "server_cpu_s": (ticks1 - ticks0) / TICK,
        "core_busy_pct": busy,
        "net": {k: net1[k] - net0.get(k, 0) for k in net1
                if net1[k] != net0.get(k, 0)},
    }


def wait_idle(max_wait, threshold):
    """Wait until both cores are idle (busy below `threshold` percent over
    half a second) or `max_wait` seconds have passed: on a shared machine
    another job would skew the run. Returns the busy percent last seen."""
    deadline = time.monotonic() + max_wait
    while True:
        a = cpu_times()
        time.sleep(0.5)
        b = cpu_times()
        busy = max(100.0 * (b[c][0] - a[c][0]) / max(1, b[c][1] - a[c][1])
                   for c in b if c in a)
        if busy < threshold or time.monotonic() >= deadline:
            return busy
        time.sleep(1)


def measure(name, argv, tg, truth, ctx, tag):
    """One scored run of one peer."""
    out = ctx.work / ("out-%s.jsonl" % tag)
    err = ctx.work / ("err-%s.txt" % tag)
    if not ctx.srv.alive():
        log("bench: hscan-testd died; restarting it")
        ctx.srv.start()
    idle = wait_idle(ctx.args.idle_wait, ctx.args.idle_busy)
    if idle >= ctx.args.idle_busy:
        log("bench: machine still busy (%.0f%% of a core) after %d s; "
            "running anyway" % (idle, ctx.args.idle_wait))
    r = run_once(argv, out, err, ctx.args.run_limit, ctx.srv,
                 ctx.args.client_cpu)
    counts, top = score(out, truth)
    m = tg.hosts
    r.update(counts)
    r["errors"] = top
    r["hosts"] = m
    r["hosts_per_s"] = m / r["wall_s"] if r["wall_s"] > 0 else 0
    r["cpu_s_per_1k"] = (r["user_s"] + r["sys_s"]) * 1000.0 / m
    r["rss_mb"] = r["maxrss_kb"] / 1024.0
    r["bad_pct"] = 100.0 * (counts["wrong"] + counts["lost"] +
                            counts["dup"]) / m
    r["server_cpu_pct"] = 100.0 * r["server_cpu_s"] / max(r["wall_s"],
                                                          1e-9)
    r["client_cpu_pct"] = 100.0 * (r["user_s"] + r["sys_s"]) / max(
        r["wall_s"], 1e-9)
    # Busy time on the two cores that neither the scanner nor the server
    # accounts for: softirq work charged elsewhere, or another job on a
    # shared machine (then the run is suspect).
    cores = (ctx.args.server_cpu, ctx.args.client_cpu)
    r["other_cpu_pct"] = max(0.0, sum(r["core_busy_pct"].get(c, 0)
                                      for c in cores) -
                             r["client_cpu_pct"] - r["server_cpu_pct"])
    if not ctx.args.keep_outputs:
        out.unlink()
    if r["killed"]:
        log("bench: %s killed after %d s" % (tag, ctx.args.run_limit))
    log("  %-8s %7.0f hosts/s  %6.2f s  rss %6.1f MB  bad %.2f%%  "
        "cli %3.0f%%  srv %3.0f%%  other %3.0f%%  %s" % (
            name, r["hosts_per_s"], r["wall_s"], r["rss_mb"], r["bad_pct"],
            r["client_cpu_pct"], r["server_cpu_pct"], r["other_cpu_pct"],
            top[:2] if top else ""))
    return r


# ---- workloads ----

MEDIAN_KEYS = ("hosts_per_s", "cpu_s_per_1k", "rss_mb", "bad_pct",
               "wall_s", "server_cpu_pct", "client_cpu_pct",
               "other_cpu_pct")


def summarize(runs):
    s = {k: statistics.median(r[k] for r in runs) for k in MEDIAN_KEYS}
    for k in ("wrong", "lost", "dup", "unknown"):
        s[k] = statistics.median(r[k] for r in runs)
    s["killed"] = sum(r["killed"] for r in runs)
    s["runs"] = len(runs)
    return s


def run_workload(ctx, wname, peers):
    scheme, label, hosts, conc = {**WORKLOADS, **EXTRA_WORKLOADS}[wname]
    if ctx.args.quick:
        hosts, conc = QUICK[wname]
    if ctx.args.hosts:
        hosts = ctx.args.hosts
    conc = min(conc, ctx.max_conc)
    tg = Targets(ctx.work, ctx.srv, scheme, label, hosts, ctx.mix)
    truth = tg.truth()
    res = {"workload": wname, "scheme": scheme, "label": label,
           "hosts": hosts, "concurrency": conc, "peers": {}}
    log("== %s: %d hosts, %s over %s, %d in flight" % (wname, hosts, label,
                                                     scheme, conc))
    todo = []
    for name in peers:
        pc, note = peer_conc(name, conc)
        argv, why = peer_argv(name, ctx.work, ctx.bdir, pc, ctx.budget,
                              ctx.srv.ca, tg)
        if argv is None:
            res["peers"][name] = {"skipped": ctx.notes.get(name, why)}
            log("  %-8s skipped: %s" % (name, res["peers"][name]["skipped"]))
            continue
        res["peers"][name] = {"concurrency": pc, "note": note,
                              "command": " ".join(argv), "runs": []}
        todo.append((name, argv))
    # Round-robin, so a slow drift of the machine hits every peer alike.
    for k in range(ctx.runs):
        for name, argv in todo:
            res["peers"][name]["runs"].append(
                measure(name, argv, tg, truth, ctx,
                        "%s-%s-%d" % (wname, name, k)))
            time.sleep(ctx.args.pause)
    for name, _ in todo:
        res["peers"][name]["median"] = summarize(res["peers"][name]["runs"])
    return res


# ---- sweep ----

def sweep(ctx, peers):
    points = []
    concs = SWEEP_QUICK if ctx.args.quick else SWEEP_CONC
    for want in concs:
        conc = min(want, ctx.max_conc)
        hosts = max(2000, 3 * conc)
        if ctx.args.quick:
            hosts = max(500, 2 * conc)
        tg = Targets(ctx.work, ctx.srv, "http", "delay", hosts, ctx.mix)
        truth = tg.truth()
        log("== sweep: -c %d (%d hosts, delay)" % (conc, hosts))
        for name in peers:
            pc, note = peer_conc(name, conc)
            if conc < want:
                note = (note + "; " if note else "") + (
                    "RLIMIT_NOFILE caps -c at %d" % conc)
            argv, why = peer_argv(name, ctx.work, ctx.bdir, pc, ctx.budget,
                                  ctx.srv.ca, tg)
            if argv is None:
                continue
            r = measure(name, argv, tg, truth, ctx,
                        "sweep-%d-%s" % (conc, name))
            time.sleep(ctx.args.pause)
            points.append({"peer": name, "concurrency": want,
                           "ran_at": pc, "hosts": hosts, "note": note,
                           "hosts_per_s": r["hosts_per_s"],
                           "rss_mb": r["rss_mb"], "bad_pct": r["bad_pct"],
                           "server_cpu_pct": r["server_cpu_pct"],
                           "killed": r["killed"], "errors": r["errors"]})
    return points


# ---- memory and callgrind ----

def memory(ctx):
    out = []
    sizes = [10000, 100000] if ctx.args.quick else [100000, 1000000]
    for hosts in sizes:
        tg = Targets(ctx.work, ctx.srv, "http", "fast", hosts, ctx.mix)
        argv, _ = peer_argv("hscan", ctx.work, ctx.bdir, 1000, ctx.budget,
                            ctx.srv.ca, tg)
        log("== memory: %d fast HTTP lines at -c 1000" % hosts)
        r = measure("hscan", argv, tg, tg.truth(), ctx,
                    "memory-%d" % hosts)
        out.append({"hosts": hosts, "rss_mb": r["rss_mb"],
                    "hosts_per_s": r["hosts_per_s"],
                    "bad_pct": r["bad_pct"], "wall_s": r["wall_s"],
                    "client_cpu_pct": r["client_cpu_pct"],
                    "server_cpu_pct": r["server_cpu_pct"]})
    ratio = out[1]["rss_mb"] / out[0]["rss_mb"]
    md = ["### hscan-cli peak RSS against input size (-c 1000, `fast` "
          "HTTP)", "", "| lines | peak RSS MB | hosts/s | bad % |",
          "|---:|---:|---:|---:|"]
    for o in out:
        md.append("| %d | %.1f | %.0f | %.2f |" % (
            o["hosts"], o["rss_mb"], o["hosts_per_s"], o["bad_pct"]))
    md += ["", "RSS ratio %dx lines: %.2f" % (sizes[1] // sizes[0], ratio)]
    log("  RSS ratio: %.2f" % ratio)
    return {"points": out, "ratio": ratio}, "\n".join(md)


def callgrind_ir(ctx, tg, conc, tag):
    outf = ctx.work / ("callgrind-%s.out" % tag)
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % outf,
            str(ctx.bdir / "tools" / "hscan-cli"), "-q", "-c", str(conc),
            "--timeout", "30", "--tls-timeout", "30", "--ca-file",
            ctx.srv.ca, str(tg.urls)]
    r = run_once(argv, ctx.work / ("out-%s.jsonl" % tag),
                 ctx.work / ("err-%s.txt" % tag), ctx.args.run_limit,
                 ctx.srv, ctx.args.client_cpu)
    counts, _ = score(ctx.work / ("out-%s.jsonl" % tag), tg.truth())
    ir = None
    with open(outf) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                ir = int(line.split()[1])
    return ir, counts, r["wall_s"]


def callgrind(ctx):
    if not shutil.which("valgrind"):
        return None, "valgrind not found (tools/bench/install-deps.sh)"
    one = Targets(ctx.work, ctx.srv, "http", "fast", 1, [])
    base, _, _ = callgrind_ir(ctx, one, 1, "cg-base")
    out = {"startup_ir": base, "cases": []}
    md = ["### Instructions per host (valgrind --tool=callgrind, "
          "hscan-cli -c 200)", "",
          "| targets | hosts | Ir total | Ir / host | (Ir - startup) / "
          "host | bad |", "|---|---:|---:|---:|---:|---:|"]
    for scheme, hosts in (("http", 2000), ("https", 500)):
        if ctx.args.quick:
            hosts //= 10
        tg = Targets(ctx.work, ctx.srv, scheme, "fast", hosts, ctx.mix)
        log("== callgrind: %d %s hosts" % (hosts, scheme))
        ir, counts, wall = callgrind_ir(ctx, tg, 200, "cg-" + scheme)
        bad = counts["wrong"] + counts["lost"] + counts["dup"]
        per = ir / hosts
        net = (ir - base) / hosts
        out["cases"].append({"scheme": scheme, "hosts": hosts, "ir": ir,
                             "ir_per_host": per, "net_ir_per_host": net,
                             "bad": bad, "wall_s": wall})
        md.append("| %s fast | %d | %d | %.0f | %.0f | %d |" % (
            scheme.upper(), hosts, ir, per, net, bad))
        log("  %s: %.0f Ir/host (%.0f net of startup %d)" % (
            scheme, per, net, base))
    md += ["", "Startup (one target): %d Ir. Timeouts (the target's and "
           "the TLS handshake's) 30 s under valgrind; the targets include "
           "the 2%% notfound and 2%% nx names." % base]
    return out, "\n".join(md)


# ---- TLS handshake floor (tls_floor.py) ----

def tls_floor_run(ctx):
    """CPU and instructions per handshake of OpenSSL and Go's crypto/tls,
    in process, no sockets: the part of an HTTPS host that no scanner
    design can avoid."""
    return tls_floor.run(
        ctx.work / "floor", ctx.runs, ctx.args.client_cpu,
        ctx.args.quick, log=log,
        wait=lambda: wait_idle(ctx.args.idle_wait, ctx.args.idle_busy))


# ---- main ----

class Ctx:
    pass


def parse_args():
    ap = argparse.ArgumentParser(
        description="Benchmark hscan-cli against other HTTP clients "
        "(run as root; see the module docstring).")
    ap.add_argument("--workload", action="append",
                    choices=list(WORKLOADS) + list(EXTRA_WORKLOADS),
                    help="run this workload (repeatable; default: all)")
    ap.add_argument("--peer", action="append",
                    choices=PEERS + list(HSCAN_VARIANTS),
                    help="run this peer (repeatable; default: all)")
    ap.add_argument("--hosts", type=int, help="hosts per workload")
    ap.add_argument("--runs", type=int, help="runs per peer (default 3; "
                    "1 with --quick); the table shows medians")
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, one run: a smoke test")
    ap.add_argument("--sweep", action="store_true",
                    help="hosts/s and RSS vs concurrency, plots in "
                    "docs/perf/")
    ap.add_argument("--memory", action="store_true",
                    help="hscan-cli RSS on 100,000 vs 1,000,000 lines")
    ap.add_argument("--inflight", action="store_true",
                    help="peak RSS against targets in flight, 100 to "
                    "100,000 (HTTP) and 100 to 2,000 (HTTPS), hscan-cli "
                    "with default options against the Go and epoll "
                    "peers; plot in docs/perf/")
    ap.add_argument("--inflight-conc", metavar="LIST",
                    help="--inflight at these HTTP concurrencies only "
                    "(comma-separated; 100 is added for the slope), "
                    "no HTTPS points unless --inflight-https")
    ap.add_argument("--inflight-https", metavar="LIST",
                    help="--inflight at these HTTPS concurrencies only")
    ap.add_argument("--callgrind", action="store_true",
                    help="instructions per host under callgrind")
    ap.add_argument("--tls-floor", action="store_true",
                    help="CPU per TLS handshake, OpenSSL against Go's "
                    "crypto/tls, in process (tools/bench/tls-floor.*)")
    ap.add_argument("--all", action="store_true",
                    help="the workloads, --sweep, --memory, --callgrind "
                    "and --tls-floor")
    ap.add_argument("--mix", default="notfound=2,nx=2",
                    help="side labels in percent (default %(default)s)")
    ap.add_argument("--budget", type=float, default=5,
                    help="seconds per host for every peer (default 5)")
    ap.add_argument("--run-limit", type=int, default=600,
                    help="kill a run after this many seconds (600)")
    ap.add_argument("--pause", type=float, default=1.0,
                    help="seconds between runs (default 1)")
    ap.add_argument("--idle-wait", type=int, default=120,
                    help="before a run, wait up to this many seconds for "
                    "the machine to go idle (default 120)")
    ap.add_argument("--idle-busy", type=float, default=15,
                    help="'idle': no core busier than this percent "
                    "(default 15)")
    ap.add_argument("--build-dir", default=str(ROOT / "build-bench"),
                    help="meson build directory (default build-bench)")
    ap.add_argument("--no-build", action="store_true",
                    help="use the build directory as it is")
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--keep-outputs", action="store_true",
                    help="keep each run's JSON Lines output")
    ap.add_argument("--hscan-prefix", default="", metavar="CMD",
                    help="run hscan-cli under CMD (split on spaces), e.g. "
                    "'strace -c -o /tmp/hscan.strace' to count its syscalls")
    return ap.parse_args()


def main():
    args = parse_args()
    HSCAN_PREFIX[:] = args.hscan_prefix.split()
    if args.all:
        args.sweep = args.memory = args.callgrind = args.tls_floor = True
        args.workload = args.workload or list(WORKLOADS)
    enter_namespace()
    signal.signal(signal.SIGTERM, on_sigterm)
    t_start = time.monotonic()
    ctx = Ctx()
    ctx.args = args
    ctx.bdir = Path(args.build_dir).resolve()
    ctx.work = ctx.bdir / "bench"
    ctx.work.mkdir(parents=True, exist_ok=True)
    ctx.nofile = setup_namespace(ctx.work)
    ctx.max_conc = max(1, ctx.nofile - FD_RESERVE)
    ctx.runs = args.runs or (1 if args.quick else 3)
    ctx.budget = ("%g" % args.budget)
    ctx.mix = parse_mix(args.mix)
    if not args.no_build:
        build_project(ctx.bdir)
    ctx.notes = build_peers(ctx.work)
    global RUNNER
    RUNNER = build_runner(ctx.work)
    peers = args.peer or PEERS
    only_extra = (args.sweep or args.memory or args.inflight or
                  args.callgrind or
                  args.tls_floor)
    workloads = args.workload or ([] if only_extra else list(WORKLOADS))
    ctx.srv = Server(ctx.bdir, ctx.work, args.server_cpu)
    results = {"command": "tools/bench/bench.py " + " ".join(sys.argv[1:]),
               "workloads": []}
    try:
        results["env"] = environment(ctx)
        for w in workloads:
            res = run_workload(ctx, w, peers)
            results["workloads"].append(res)
            print(text_table(res) + "\n", flush=True)
        if args.sweep:
            pts = sweep(ctx, peers)
            results["sweep"] = pts
            results["sweep_md"] = sweep_md(pts)
            print(results["sweep_md"] + "\n", flush=True)
            plot_sweep(ctx, pts)
        if args.memory:
            results["memory"], results["memory_md"] = memory(ctx)
            print(results["memory_md"] + "\n", flush=True)
        if args.inflight:
            results["inflight"], results["inflight_md"] = \
                bench_inflight.run(ctx, peers, peer_argv, measure)
            print(results["inflight_md"] + "\n", flush=True)
        if args.callgrind:
            results["callgrind"], results["callgrind_md"] = callgrind(ctx)
            print(results["callgrind_md"] + "\n", flush=True)
        if args.tls_floor:
            results["tls_floor"], results["tls_floor_md"] = \
                tls_floor_run(ctx)
            print(results["tls_floor_md"] + "\n", flush=True)
    finally:
        ctx.srv.stop()
        results["total_wall_s"] = time.monotonic() - t_start
        write_results(ctx, results)
        log("bench: total %.0f s" % results["total_wall_s"])


if __name__ == "__main__":
    main()
