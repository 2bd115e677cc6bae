"""What the hscan-cli tests share: the command under test, the test
server, and the helpers of more than one test module (test-cli.py and
the cli_*.py it imports)."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
from testd import check  # noqa: E402,F401  (re-exported)

# test-cli.py --list B_SANITIZE (test/meson.build) lists the tests and
# runs none: no CLI, no temporary directory.
LISTING = sys.argv[1] == "--list"
CLI, TESTD = sys.argv[1], sys.argv[2]
# The loopback HTTP server speaks plain HTTP on a non-standard port, so
# these tests ask for http instead of the https-first default.
# The test servers are all on 127.0.0.1: lift the per-address limit
# (default 4) except where a test is about it.
PLAIN = ["--scheme", "http", "--max-per-ip", "0"]


def plain(args):
    """PLAIN without the options `args` gives itself: an option given
    twice is a usage error."""
    out = []
    for i in range(0, len(PLAIN), 2):
        if not any(a == PLAIN[i] or a.startswith(PLAIN[i] + "=")
                   for a in args):
            out += PLAIN[i:i + 2]
    return out


TMP = None if LISTING else tempfile.mkdtemp(prefix="hscan-cli-test-")


def write_list(name, lines):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run(args, timeout=120, **kw):
    return subprocess.run([CLI] + plain(args) + args, capture_output=True,
                          text=True,
                          timeout=timeout, **kw)


def records(text):
    out = []
    for line in text.splitlines():
        out.append(json.loads(line))   # every line must be valid JSON
    return out


def check_one_each(path, inputs, per_input=1):
    """The file holds exactly per_input valid, not-canceled records of
    every input, and nothing else; every line ends with a newline."""
    data = open(path, "rb").read()
    check(data.endswith(b"\n"), "last line complete")
    recs = [json.loads(line) for line in data.decode().splitlines()]
    got = {}
    for r in recs:
        check(r["error"] != "canceled", f"canceled left: {r['input']}")
        got[r["input"]] = got.get(r["input"], 0) + 1
    want = {i: per_input for i in inputs}
    missing = [i for i in want if i not in got]
    extra = [i for i in got if got[i] != want.get(i)]
    check(not missing and not extra,
          f"{len(missing)} missing, {len(extra)} wrong counts, e.g. "
          f"{(missing + extra)[:3]}")
    return recs


def run_pty(args, cols=80, stdout=None, timeout=60):
    """Run the CLI with stderr (and with stdout=None also stdout) on a
    new pseudo-terminal of `cols` columns, read it until the CLI exits.
    Returns (exit status, the bytes the terminal got)."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    p = subprocess.Popen([CLI, *plain(args), *args], stdin=subprocess.DEVNULL,
                         stdout=slave if stdout is None else stdout,
                         stderr=slave)
    os.close(slave)
    got = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not select.select([master], [], [], 0.1)[0]:
            continue
        try:
            data = os.read(master, 65536)
        except OSError:         # EIO: the last writer closed the slave
            break
        if not data:
            break
        got += data
    else:
        p.kill()
    os.close(master)
    p.wait(timeout=10)
    return p.returncode, got


class Listener:
    """A loopback TCP server on `ip`:`port` (IPv4 or IPv6; port 0:
    picked) in a thread of its own, handing each accepted connection to
    self.handle(c), which closes it; self.peers lists the peer address
    of each."""

    def __init__(self, ip="127.0.0.1", port=0):
        self.peers = []             # the address of each connection
        self.sock = socket.socket(socket.AF_INET6 if ":" in ip
                                  else socket.AF_INET)
        self.sock.bind((ip, port))
        self.sock.listen(16)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        while True:
            try:
                c, peer = self.sock.accept()
            except OSError:
                return
            self.peers.append(peer[0])
            with c:
                self.handle(c)

    def handle(self, c):
        pass

    def close(self):
        self.sock.close()
