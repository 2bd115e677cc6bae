#!/usr/bin/env python3
"""The shared library exports exactly the functions hscan.h declares with
HSCAN_EXPORT, and the version script lists the same set."""
import re
import subprocess
import sys

lib, header, symfile = sys.argv[1:4]
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
print(f"{len(declared)} declared, {len(exported)} exported")
sys.exit(0 if ok else 1)
