"""What the Python end-to-end tests (test-cli.py, test-examples.py)
share: hscan-testd as a subprocess (it prints where its servers listen,
one per line, and ends by itself after `lifetime` seconds at the most),
check(), and the list of their tests that test/meson.build reads.
"""
import os
import subprocess
import sys
import time


class Testd:
    def __init__(self, path, lifetime, h2=False):
        """With h2 (a build with nghttp2), also the HTTP/2 servers:
        self.h2 = {"h2": port, "h2-h1only": ..., "h2-h1talk": ...,
        "h2c": ...} (test/server-h2.h)."""
        self.started = time.time()
        self.p = subprocess.Popen([path, "--lifetime", str(lifetime)] +
                                  (["--h2"] if h2 else []),
                                  stdout=subprocess.PIPE, text=True)
        self.dns = self.p.stdout.readline().split()[1]
        self.http = int(self.p.stdout.readline().split()[1].split(":")[1])
        self.https = int(self.p.stdout.readline().split()[1].split(":")[1])
        self.ca = self.p.stdout.readline().split(maxsplit=1)[1].strip()
        self.h2 = {}
        for _ in range(4 if h2 else 0):
            name, addr = self.p.stdout.readline().split()[:2]
            self.h2[name] = int(addr.rsplit(":", 1)[1])

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=10)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


# ---- the tests, for test/meson.build ----

def meson(timeout=None, sanitized=True):
    """Decorates a test_* function: meson gives it `timeout` seconds
    instead of the script's default, and with sanitized=False runs it
    only in builds without -Db_sanitize."""
    def mark(fn):
        fn.meson_timeout = timeout
        fn.meson_sanitized = sanitized
        return fn
    return mark


def collect(*scopes):
    """{NAME: function} of every test_NAME function in `scopes` (a
    script's globals(), vars() of a module it imports)."""
    return {k[5:]: v for scope in scopes for k, v in sorted(scope.items())
            if k.startswith("test_") and callable(v)}


def list_tests(tests, timeout, sanitize):
    """SCRIPT --list B_SANITIZE, run by test/meson.build when it
    configures: "test NAME TIMEOUT" for each of `tests` that runs in a
    build with -Db_sanitize=B_SANITIZE (`timeout`: the default), then
    "file PATH" for each Python file of test/ loaded, which meson
    configures again on when one changes."""
    for name, fn in tests.items():
        if sanitize != "none" and not getattr(fn, "meson_sanitized", True):
            continue
        print(f"test {name} {getattr(fn, 'meson_timeout', None) or timeout}")
    here = os.path.dirname(os.path.abspath(__file__))
    for m in list(sys.modules.values()):
        f = getattr(m, "__file__", None)
        if f and os.path.dirname(os.path.abspath(f)) == here:
            print(f"file {os.path.abspath(f)}")
