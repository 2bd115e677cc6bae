#!/usr/bin/env python3
"""The shared library exports exactly the functions hscan.h declares with
HSCAN_EXPORT, and the version script lists the same set; docs/api.md has
a section for each (a ### heading naming it) and libhscan(3) names each."""
import re
import subprocess
import sys

lib, header, symfile, apidoc, man3 = sys.argv[1:6]
declared = set(re.findall(r"HSCAN_EXPORT\s+[^;(]*?\b(hscan_\w+)\s*\(",
                          open(header).read(), re.S))
listed = set(re.findall(r"^\s+(hscan_\w+);", open(symfile).read(), re.M))
out = subprocess.run(["nm", "-D", "--defined-only", lib],
                     capture_output=True, text=True, check=True).stdout
exported = {l.split()[-1].split("@")[0] for l in out.splitlines()
            if l.split()[1:2] == ["T"]}
ok = True
for name, got in (("exported by the library", exported),
                  ("listed in libhscan.sym", listed)):
    if got != declared:
        ok = False
        print(f"{name} but not declared: {sorted(got - declared)}")
        print(f"declared but not {name}: {sorted(declared - got)}")
api = open(apidoc).read()
headings = "\n".join(l for l in api.splitlines() if l.startswith("###"))
man = open(man3).read().replace("\\fB", "").replace("\\fR", "")
for name in sorted(declared):
    if "`" + name + "`" not in headings:
        ok = False
        print(f"{name}: no section in docs/api.md")
    if not re.search(r"\b" + name + r"\b", man):
        ok = False
        print(f"{name}: not in libhscan(3)")
print(f"{len(declared)} declared, {len(exported)} exported")
sys.exit(0 if ok else 1)
