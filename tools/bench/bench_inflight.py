"""Memory per target in flight (issue 18), for bench.py --inflight.

Each point is one scan of hosts = max(2000, 5 x c) `delay` targets (the
server answers after 200 ms) at concurrency c, so the scanner holds c
targets in flight for most of the run; its peak RSS comes from wait4()
(bench-run.c).  The cost of one more target in flight is the slope

    (peak RSS at c - peak RSS at 100) / (c - 100)

hscan-cli runs with its default options (body facts on: title, SHA-256,
8 KiB of body read); the Go and epoll peers read status and headers.
HTTPS points (hscan-cli and Go) run at 100 and 2,000 in flight.  The
plot of peak RSS against concurrency goes to docs/perf/inflight-rss.png,
the table to results.md.
"""
import shutil
import subprocess

from bench_common import ROOT, log
from bench_targets import Targets

HTTP_CONC = [100, 300, 1000, 3000, 10000, 30000, 100000]
HTTP_QUICK = [100, 1000]
HTTPS_CONC = [100, 2000]
HTTPS_QUICK = [100, 500]
PEERS = ("hscan", "go", "epoll")


def hosts_for(conc, quick):
    return max(500 if quick else 2000, (2 if quick else 5) * conc)


def run(ctx, peers, peer_argv, measure):
    """Measure every (scheme, peer, c); returns (points, markdown)."""
    quick = ctx.args.quick
    peers = [p for p in peers if p in PEERS]
    points = []
    sets = [("http", HTTP_QUICK if quick else HTTP_CONC),
            ("https", HTTPS_QUICK if quick else HTTPS_CONC)]
    only_http = getattr(ctx.args, "inflight_conc", None)
    only_https = getattr(ctx.args, "inflight_https", None)
    if only_http or only_https:
        sets = [(s, [100] + [int(c) for c in only.split(",") if c])
                for s, only in (("http", only_http), ("https", only_https))
                if only]
    for scheme, concs in sets:
        # RLIMIT_NOFILE may cap c: then the highest point is the cap
        concs = sorted(set(min(c, ctx.max_conc) for c in concs))
        for conc in concs:
            hosts = hosts_for(conc, quick)
            tg = Targets(ctx.work, ctx.srv, scheme, "delay", hosts, [])
            truth = tg.truth()
            log("== in flight: %s -c %d (%d delay hosts)" % (scheme, conc,
                                                            hosts))
            for name in peers:
                argv, why = peer_argv(name, ctx.work, ctx.bdir, conc,
                                      ctx.budget, ctx.srv.ca, tg)
                if argv is None:
                    continue
                if name == "hscan":     # default options: body facts on
                    i = argv.index("--body-bytes")
                    del argv[i:i + 2]
                r = measure(name, argv, tg, truth, ctx,
                            "inflight-%s-%d-%s" % (scheme, conc, name))
                points.append({
                    "scheme": scheme, "peer": name, "concurrency": conc,
                    "hosts": hosts, "rss_mb": r["rss_mb"],
                    "wall_s": r["wall_s"], "hosts_per_s": r["hosts_per_s"],
                    "cpu_s_per_1k": r["cpu_s_per_1k"],
                    "bad_pct": r["bad_pct"], "killed": r["killed"],
                    "errors": r["errors"]})
    md = markdown(points)
    if not (only_http or only_https):   # a few points: no plot over it
        plot(ctx, points)
    return points, md


def slope_kib(points, scheme, peer, conc):
    """KiB of peak RSS per extra target in flight from c=100 to conc."""
    at = {p["concurrency"]: p for p in points
          if p["scheme"] == scheme and p["peer"] == peer}
    base = at.get(min(at)) if at else None
    p = at.get(conc)
    if not base or not p or p["concurrency"] == base["concurrency"]:
        return None
    return ((p["rss_mb"] - base["rss_mb"]) * 1024.0 /
            (p["concurrency"] - base["concurrency"]))


def markdown(points):
    lines = ["### Memory per target in flight (`delay` targets, 200 ms; "
             "hosts = max(2000, 5 x c); one run each)", "",
             "peak RSS MB / KiB per target in flight above c=100 / "
             "wall s / bad %", "",
             "| scheme | peer | c | peak RSS MB | KiB per target | wall s "
             "| CPU s/1k | bad % |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for p in points:
        k = slope_kib(points, p["scheme"], p["peer"], p["concurrency"])
        lines.append("| %s | %s | %d | %.1f | %s | %.2f | %.3f | %.2f |" % (
            p["scheme"], p["peer"], p["concurrency"], p["rss_mb"],
            "-" if k is None else "%.2f" % k, p["wall_s"],
            p["cpu_s_per_1k"], p["bad_pct"]))
    return "\n".join(lines)


def plot(ctx, points):
    """docs/perf/inflight-rss.png: peak RSS against concurrency, HTTP,
    log-log, one line per peer."""
    http = [p for p in points if p["scheme"] == "http"]
    if not http:
        return
    if not shutil.which("gnuplot"):
        log("bench: gnuplot not found (tools/bench/install-deps.sh): "
            "no plot")
        return
    outdir = ROOT / "docs" / "perf"
    outdir.mkdir(parents=True, exist_ok=True)
    series = []
    for name in dict.fromkeys(p["peer"] for p in http):
        dat = ctx.work / ("inflight-%s.dat" % name)
        with open(dat, "w") as f:
            for p in sorted((q for q in http if q["peer"] == name),
                            key=lambda q: q["concurrency"]):
                f.write("%d %.2f\n" % (p["concurrency"], p["rss_mb"]))
        label = {"hscan": "hscan-cli (default options)",
                 "go": "Go, goroutine per target",
                 "epoll": "C epoll client, keeps nothing"}[name]
        series.append((dat, label))
    png = outdir / "inflight-rss.png"
    gp = ["set terminal pngcairo size 900,560 font ',11'",
          "set output '%s'" % png, "set logscale xy", "set grid",
          "set key left top", "set xrange [70:140000]",
          "set xlabel 'targets in flight (concurrency)'",
          "set ylabel 'peak RSS (MB)'",
          "set title 'peak RSS vs targets in flight, HTTP answering after "
          "200 ms, 1 core each'",
          "plot " + ", ".join(
              "'%s' using 1:2 with linespoints lw 2 title '%s'" % s
              for s in series)]
    script = ctx.work / "inflight-rss.gp"
    script.write_text("\n".join(gp) + "\n")
    r = subprocess.run(["gnuplot", str(script)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        log("bench: gnuplot failed: " + r.stderr.strip()[-300:])
    else:
        log("bench: wrote %s" % png)
