#!/usr/bin/env python3
"""The layering of lib/ (docs/internals.md), read from the object files.

Usage: check-layers.py LIBHSCAN_INTERNAL.a

Fails when a call goes up: the probe's files use a scanner symbol, or a
leaf (the gate, the resolver, the request description) uses a probe or
scanner symbol; or when object files form a cycle other than inside the
probe's own files, inside the scanner's own files or inside one of the
UNITS (a part kept in two files).
"""
import os
import re
import subprocess
import sys

PROBE = {"probe", "probe-tcp", "probe-tls", "probe-http", "probe-h2",
         "probe-proxy", "probe-exclude", "probe-retry", "probe-src",
         "probe-expand", "probe-race", "redirect", "report", "favicon"}
SCAN = {"scan", "scan-ctl", "scan-units"}
LEAVES = {"gate", "dns", "dns-io", "dns-walk", "request", "netset"}
# One part of the library in two files, calling each other: a cycle
# inside one of these is no layering problem.  llhttp is bundled
# third-party code.
UNITS = [{"http", "http-body"}, {"tls", "trust"},
         {"_usr_share_llhttp_api", "_usr_share_llhttp_llhttp",
          "_usr_share_llhttp_http"}]


def symbols(archive):
    out = subprocess.run(["nm", "-A", archive], capture_output=True,
                         text=True, check=True).stdout
    defs, uses = {}, {}
    for line in out.splitlines():
        # "ARCHIVE:OBJECT.c.o:VALUE T name" or "ARCHIVE:OBJECT.c.o:   U name"
        m = re.match(r"^.*?([^/:]+\.c\.o):(.*)$", line)
        if not m:
            continue
        obj, rest = m.group(1), m.group(2)
        name = obj[:-4]
        defs.setdefault(name, set())
        uses.setdefault(name, set())
        parts = rest.split()
        if len(parts) == 2 and parts[0] == "U":
            uses[name].add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBR":
            defs[name].add(parts[2])
    return defs, uses


def cycles(graph):
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    defs, uses = symbols(sys.argv[1])
    owner = {s: n for n, d in defs.items() for s in d}
    graph = {n: {owner[s] for s in uses[n] if s in owner} - {n}
             for n in defs}
    bad = []
    for n in sorted(graph):
        up = graph[n] & (SCAN if n in PROBE else
                         PROBE | SCAN if n in LEAVES else set())
        if up:
            bad.append(f"{n} calls up into {', '.join(sorted(up))}")
    for comp in cycles(graph):
        if not (comp <= PROBE or comp <= SCAN or
                any(comp <= u for u in UNITS)):
            bad.append("cycle: " + " ".join(sorted(comp)))
    # probe-h2 is empty without nghttp2 (-Dnghttp2=disabled)
    missing = (PROBE | SCAN | LEAVES) - set(defs) - {"probe-h2"}
    if missing:
        bad.append("object files not found: " + " ".join(sorted(missing)))
    for b in bad:
        print(b)
    print(f"{len(defs)} object files, {len(bad)} layering problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
