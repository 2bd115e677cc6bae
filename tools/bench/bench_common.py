"""What bench.py and bench_report.py share."""
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
