#!/usr/bin/env python3
"""tls_floor.py: what one TLS handshake costs OpenSSL and Go's crypto/tls.

    python3 tools/bench/tls_floor.py [--runs 5] [--cpu 1]

Builds tools/bench/tls-floor.c (against the system OpenSSL) and
tls-floor.go (Go std lib, if `go` is installed), runs them alternately,
pinned to one core, and prints a Markdown table: CPU ms per handshake
for the client alone and for client and server together (medians of the
runs), and instructions per handshake under callgrind (if valgrind is
installed). Both programs run client and server in one process with no
sockets, so the figures are the libraries' handshakes without kernel,
DNS, HTTP or scanner: the part of an HTTPS host that no scanner design
can avoid. On a CPU with AVX-512, OpenSSL runs a second time with its
AVX-512 code masked (OPENSSL_ia32cap), which Go does not use.

No root needed. `bench.py --tls-floor` runs the same thing beside the
scanner benchmarks and puts the table into its results.md.
"""

import argparse
import collections
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
from bench_common import cc_build, go_build, newer  # noqa: E402

HERE = Path(__file__).resolve().parent
AVX512_MASK = ":~0xC0230000"    # OPENSSL_ia32cap: AVX512F/DQ/IFMA/BW/VL


def build(work):
    """Build tls-floor and tls-floor-go in `work`: ({impl: path}, notes)."""
    built, notes = {}, []
    for impl, src, out, build_one in (
            ("openssl", HERE / "tls-floor.c", work / "tls-floor",
             lambda s, o: cc_build(s, o, ("-lssl", "-lcrypto"))),
            ("go", HERE / "tls-floor.go", work / "tls-floor-go", go_build)):
        if impl == "go" and not shutil.which("go"):
            notes.append("go not found (tools/bench/install-deps.sh)")
        elif newer(src, out):
            why = build_one(src, out)
            if why:
                notes.append("%s: %s" % (src.name, why))
        if out.exists():
            built[impl] = out
    return built, notes


def cpu_has(flag):
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return flag in line.split()
    except OSError:
        pass
    return False


def variants(built):
    """(label, program, extra environment) for each run of a round."""
    out = []
    if "openssl" in built:
        out.append(("openssl", built["openssl"], {}))
        if cpu_has("avx512f"):
            out.append(("openssl, AVX-512 masked", built["openssl"],
                        {"OPENSSL_ia32cap": AVX512_MASK}))
    if "go" in built:
        out.append(("go", built["go"], {"GOMAXPROCS": "1"}))
    return out


def run_env(extra):
    env = dict(os.environ, **extra)
    if "OPENSSL_ia32cap" not in extra:
        env.pop("OPENSSL_ia32cap", None)
    return env


def measure_cpu(vs, runs, n, cpu, notes, wait=None, log=print):
    """Interleaved rounds: {label: [(client_ms, pair_ms)]}, versions."""
    got, versions = collections.defaultdict(list), {}
    for rnd in range(runs):
        for label, exe, extra in vs:
            if wait:
                wait()
            r = subprocess.run(["taskset", "-c", str(cpu), str(exe), str(n)],
                               env=run_env(extra), capture_output=True,
                               text=True)
            if r.returncode != 0:
                notes.append("%s: %s" % (label, r.stderr.strip()[-300:]))
                continue
            kv = dict(f.split("=", 1) for f in r.stdout.split())
            versions[label] = kv["version"]
            got[label].append((float(kv["client_ms"]), float(kv["pair_ms"])))
            log("  tls-floor round %d %-24s client %.3f ms, pair %.3f ms" %
                (rnd + 1, label, got[label][-1][0], got[label][-1][1]))
    return got, versions


def callgrind_total(work, exe, k, extra, toggle=None):
    cg = work / ("callgrind-tls-floor-%d.out" % k)
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % cg]
    if toggle:
        argv.append("--toggle-collect=" + toggle)
    r = subprocess.run(argv + [str(exe), str(k)], env=run_env(extra),
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None
    for line in cg.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    return None


def measure_ir(work, vs, log=print):
    """Instructions per handshake, {label: (client, pair)}: the difference
    between 300 and 100 handshakes, so set-up is left out. Valgrind hides
    AVX-512 from OpenSSL, so the masked variant is not run; the client
    alone is counted for OpenSSL (its calls are the client_* functions)."""
    ir = {}
    for label, exe, extra in vs:
        if "OPENSSL_ia32cap" in extra:
            continue
        per = {}
        for toggle in [None] + (["client_*"] if label == "openssl" else []):
            a = callgrind_total(work, exe, 100, extra, toggle)
            b = callgrind_total(work, exe, 300, extra, toggle)
            per[toggle] = (b - a) / 200 if a and b else None
        ir[label] = (per.get("client_*"), per[None])
        log("  tls-floor %s: %s M instructions per handshake (pair)" %
            (label, "%.2f" % (per[None] / 1e6) if per[None] else "?"))
    return ir


def table(got, versions, ir, vs, n, cpu, runs, notes):
    med = {k: (statistics.median(c for c, _ in v),
               statistics.median(p for _, p in v)) for k, v in got.items()}
    mio = lambda x: "%.2f M" % (x / 1e6) if x else "-"
    md = ["### TLS handshake floor (tools/bench/tls-floor.c and "
          "tls-floor.go)", "",
          "%d handshakes per run, client and server in one process on "
          "core %d, no sockets: TLS 1.3, a P-256 certificate verified "
          "against its CA and name, one small request and response. CPU "
          "ms per handshake, median of %d interleaved runs; instructions "
          "per handshake from callgrind." % (n, cpu, runs), "",
          "| library | version | client CPU ms | client vs Go | client + "
          "server CPU ms | client Ir | client + server Ir |",
          "|---|---|---:|---:|---:|---:|---:|"]
    out = {"handshakes": n, "rounds": runs, "notes": notes, "impls": {}}
    for label, _, _ in vs:
        if label not in med:
            continue
        c, p = med[label]
        rel = ("%.2f×" % (c / med["go"][0])) if "go" in med else "-"
        c_ir, p_ir = ir.get(label, (None, None))
        md.append("| %s | %s | %.3f | %s | %.3f | %s | %s |" % (
            label, versions[label], c, rel, p, mio(c_ir), mio(p_ir)))
        out["impls"][label] = {"version": versions[label], "client_ms": c,
                               "pair_ms": p, "client_ir": c_ir,
                               "pair_ir": p_ir, "runs": got[label]}
    md += [""] + ["Note: " + x for x in notes]
    return out, "\n".join(md)


def run(work, runs, cpu, quick=False, wait=None, log=print):
    """The whole measurement: (results dict, Markdown table)."""
    work.mkdir(parents=True, exist_ok=True)
    built, notes = build(work)
    vs = variants(built)
    n = 200 if quick else 2000
    got, versions = measure_cpu(vs, runs, n, cpu, notes, wait, log)
    ir = {}
    if shutil.which("valgrind") and not quick:
        ir = measure_ir(work, vs, log)
    elif not quick:
        notes.append("valgrind not found: no instruction counts")
    return table(got, versions, ir, vs, n, cpu, runs, notes)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5,
                    help="interleaved rounds (default 5); medians shown")
    ap.add_argument("--cpu", type=int, default=1,
                    help="core to pin to (default 1)")
    ap.add_argument("--quick", action="store_true",
                    help="200 handshakes a run, no callgrind")
    ap.add_argument("--work", default=str(HERE.parents[1] / "build-bench" /
                                          "tls-floor"),
                    help="where to build and keep callgrind files "
                    "(default build-bench/tls-floor)")
    args = ap.parse_args()
    log = lambda m: print(m, file=sys.stderr, flush=True)
    _, md = run(Path(args.work), args.runs, args.cpu, args.quick, log=log)
    print(md)


if __name__ == "__main__":
    main()
