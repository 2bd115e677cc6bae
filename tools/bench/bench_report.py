"""bench.py's output: the tables, results.json and results.md, and the
plots of the concurrency sweep (docs/perf/)."""
import json
import os
import platform
import shutil
import subprocess

from bench_common import CURL_MAX, ROOT, SYS_PY, log


COLS = ("peer", "hosts/s", "CPU s/1k", "RSS MB", "bad %", "wrong",
        "lost", "dup", "client CPU", "server CPU", "other CPU", "note")


def rows(res):
    for name, p in res["peers"].items():
        if "skipped" in p:
            yield [name] + ["-"] * (len(COLS) - 2) + [
                "skipped: " + p["skipped"]]
            continue
        m = p["median"]
        note = p["note"]
        if m["killed"]:
            note = (note + "; " if note else "") + "%d run(s) killed" % (
                m["killed"])
        yield [name, "%.0f" % m["hosts_per_s"], "%.3f" % m["cpu_s_per_1k"],
               "%.1f" % m["rss_mb"], "%.2f" % m["bad_pct"],
               "%g" % m["wrong"], "%g" % m["lost"], "%g" % m["dup"],
               "%.0f%%" % m["client_cpu_pct"],
               "%.0f%%" % m["server_cpu_pct"],
               "%.0f%%" % m["other_cpu_pct"], note]


def title(res):
    return "%s: %d hosts, `%s` over %s, %d in flight, median of %d" % (
        res["workload"], res["hosts"], res["label"], res["scheme"].upper(),
        res["concurrency"], max((p.get("median", {}).get("runs", 0)
                                 for p in res["peers"].values()),
                                default=0))


def text_table(res):
    table = [list(COLS)] + list(rows(res))
    width = [max(len(r[i]) for r in table) for i in range(len(COLS))]
    lines = ["== " + title(res).replace("`", "")]
    for r in table:
        lines.append("  ".join(r[i].rjust(width[i]) if 0 < i < len(COLS) - 1 else
                               r[i].ljust(width[i])
                               for i in range(len(COLS))).rstrip())
    return "\n".join(lines)


def md_table(res):
    lines = ["### " + title(res), "",
             "| " + " | ".join(COLS) + " |",
             "|" + "|".join("---" if i in (0, len(COLS) - 1) else "---:"
                            for i in range(len(COLS))) + "|"]
    for r in rows(res):
        lines.append("| " + " | ".join(r) + " |")
    return "\n".join(lines)


def environment(ctx):
    def first_line(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
            return (r.stdout or r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "n/a"
    model = "n/a"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "kernel": platform.release(), "cpu": model,
        "cpus": os.cpu_count(), "nofile": ctx.nofile,
        "max_concurrency": ctx.max_conc,
        "server_cpu": ctx.args.server_cpu, "client_cpu": ctx.args.client_cpu,
        "go": first_line(["go", "version"]),
        "python": first_line([SYS_PY, "--version"]),
        "aiohttp": first_line([SYS_PY, "-c",
                               "import aiohttp; print(aiohttp.__version__)"]),
        "curl": " ".join(first_line(["curl", "--version"]).split()[:2]),
        "hscan": first_line([str(ctx.bdir / "tools" / "hscan-cli"), "-V"]),
        "source": first_line(["git", "-C", str(ROOT), "describe", "--always",
                              "--dirty"]),
        "budget_s": ctx.budget, "mix": ctx.args.mix,
    }


def write_results(ctx, results):
    path = ctx.work / "results.json"
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    md = ["## Benchmark results", "",
          "Command: `%s`" % results["command"], "",
          "Source: %(source)s (%(hscan)s). "
          "Machine: %(cpu)s, %(cpus)s CPUs, Linux %(kernel)s; server on "
          "core %(server_cpu)s, scanner on core %(client_cpu)s; "
          "RLIMIT_NOFILE %(nofile)s. %(go)s, %(python)s, aiohttp "
          "%(aiohttp)s, %(curl)s." % results["env"], "",
          "hosts/s = hosts / wall time; CPU s/1k = user+sys seconds per "
          "1,000 hosts; RSS = peak (ru_maxrss); bad %% = (wrong + lost + "
          "dup) / hosts; client CPU = the scanner's user+sys time / wall "
          "time and server CPU = hscan-testd's, each on a core of its own "
          "(100%% = that core is saturated); other CPU = the rest of the two "
          "cores' busy time (loopback softirq work, or another job on the "
          "machine). Budget %s s per host." %
          results["env"]["budget_s"], ""]
    for res in results["workloads"]:
        md += [md_table(res), ""]
    for extra in ("sweep_md", "memory_md", "inflight_md", "callgrind_md", "tls_floor_md"):
        if results.get(extra):
            md += [results[extra], ""]
    (ctx.work / "results.md").write_text("\n".join(md))
    log("bench: wrote %s and results.md" % path)


# ---- the sweep ----

def sweep_md(points):
    peers = list(dict.fromkeys(p["peer"] for p in points))
    concs = sorted(set(p["concurrency"] for p in points))
    at = {(p["peer"], p["concurrency"]): p for p in points}
    lines = ["### Sweep: `delay` HTTP, hosts = max(2000, 3 x c), one run "
             "each", "", "hosts/s (peak RSS MB; bad %)", "",
             "| peer | " + " | ".join("c=%d" % c for c in concs) + " |",
             "|---|" + "---:|" * len(concs)]
    for name in peers:
        cells = []
        for c in concs:
            p = at.get((name, c))
            if not p:
                cells.append("-")
                continue
            mark = "*" if p["ran_at"] != c else ""
            cells.append("%.0f%s (%.0f; %.1f)" % (p["hosts_per_s"], mark,
                                                 p["rss_mb"], p["bad_pct"]))
        lines.append("| %s | %s |" % (name, " | ".join(cells)))
    lines += ["", "\\* ran at a lower concurrency (curl's --parallel-max "
              "limit of %d, or RLIMIT_NOFILE)." % CURL_MAX]
    return "\n".join(lines)


def plot_sweep(ctx, points):
    """Two PNGs into docs/perf/ with gnuplot; the data and script stay
    in the work directory."""
    if not points:
        return
    outdir = ROOT / "docs" / "perf"
    outdir.mkdir(parents=True, exist_ok=True)
    series = []
    for name in dict.fromkeys(p["peer"] for p in points):
        pts = sorted((p for p in points if p["peer"] == name),
                     key=lambda p: p["concurrency"])
        dat = ctx.work / ("sweep-%s.dat" % name)
        with open(dat, "w") as f:
            for p in pts:
                f.write("%d %.1f %.2f\n" % (p["concurrency"],
                                            p["hosts_per_s"], p["rss_mb"]))
        capped = any(p["ran_at"] != p["concurrency"] for p in pts)
        label = name + (" (capped at %d)" % CURL_MAX if name == "curl" and
                        capped else "")
        series.append((dat, label.replace("hscan", "hscan-cli")))
    if not shutil.which("gnuplot"):
        log("bench: gnuplot not found (tools/bench/install-deps.sh): "
            "no plots")
        return
    for col, fname, ylabel, logy in (
            (2, "sweep-hosts-per-s.png", "hosts/s", False),
            (3, "sweep-rss.png", "peak RSS (MB)", True)):
        gp = ["set terminal pngcairo size 900,560 font ',11'",
              "set output '%s'" % (outdir / fname),
              "set logscale x", "set xrange [70:30000]", "set grid",
              "set key left top",
              "set xlabel 'concurrency (targets in flight)'",
              "set ylabel '%s'" % ylabel,
              "set title '%s vs concurrency, delay (200 ms) HTTP, "
              "1 core each'" % ylabel]
        if logy:
            gp.append("set logscale y")
        else:                   # room for the data, not for the ideal
            gp.append("set yrange [0:%g]" % (1.15 * max(
                p["hosts_per_s"] for p in points)))
        plots = ["'%s' using 1:%d with linespoints lw 2 title '%s'" % (
            d, col, t) for d, t in series]
        if col == 2:            # what c connections at 200 ms each allow
            plots.append("x / 0.2 with lines dt 2 lc rgb 'gray' "
                         "title 'c / 200 ms (ideal)'")
        gp.append("plot " + ", ".join(plots))
        script = ctx.work / (fname + ".gp")
        script.write_text("\n".join(gp) + "\n")
        r = subprocess.run(["gnuplot", str(script)], capture_output=True,
                           text=True)
        if r.returncode != 0:
            log("bench: gnuplot failed: " + r.stderr.strip()[-300:])
        else:
            log("bench: wrote %s" % (outdir / fname))
