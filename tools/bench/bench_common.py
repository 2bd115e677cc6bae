"""What bench.py, bench_report.py and tls_floor.py share."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SYS_PY = "/usr/bin/python3"   # the Python with Debian's aiohttp
CURL_MAX = 300                # curl --parallel-max refuses more


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def die(msg):
    log("bench: " + msg)
    sys.exit(1)


def newer(src, dst):
    """`dst` is missing or older than `src`: build it."""
    return not dst.exists() or src.stat().st_mtime > dst.stat().st_mtime


def cc_build(src, out, libs=()):
    """Compile the one C file `src` into `out`; None, or why it failed."""
    r = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-std=c11",
                        "-D_GNU_SOURCE", "-o", str(out), str(src), *libs],
                       capture_output=True, text=True)
    return None if r.returncode == 0 else "cc failed: " + r.stderr[-300:]


def go_build(src, out):
    """Build the one std-lib-only Go file `src` into `out` (GOPATH mode,
    nothing to fetch); None, or why it failed."""
    env = dict(os.environ, GOPROXY="off", GO111MODULE="off",
               CGO_ENABLED="0")
    r = subprocess.run(["go", "build", "-o", str(out), str(src)], env=env,
                       capture_output=True, text=True)
    return None if r.returncode == 0 else "go build failed: " + \
        r.stderr.strip()[-300:]
