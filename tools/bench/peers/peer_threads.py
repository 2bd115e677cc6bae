#!/usr/bin/python3
"""peer_threads: the benchmark's blocking-I/O peer, standard library only.

A ThreadPoolExecutor of N workers, each doing one http.client request per
URL, the way a Python programmer writes a quick threaded scanner.

usage: /usr/bin/python3 peer_threads.py -c N -t SECONDS [--cafile PATH] FILE

FILE ("-" is stdin) holds one URL per line; blank lines are skipped.
Writes one JSON line per URL on stdout, in completion order:
  {"input":"URL","status":200}  or  {"input":"URL","error":"timeout"}
"""
import argparse
import concurrent.futures
import http.client
import json
import resource
import socket
import ssl
import sys
import threading
import time
import urllib.parse

USER_AGENT = "hscan-bench-peer-threads/1"


def classify(exc):
    """The short error vocabulary all peers share."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, ConnectionRefusedError):
        return "connect refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return "reset"
    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        return "tls"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "closed"
    if isinstance(exc, (UnicodeError, http.client.InvalidURL)):
        return "bad url"
    if isinstance(exc, http.client.HTTPException):
        return "bad response"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def probe(target, budget, ctx):
    """GET `target`; the whole exchange gets `budget` seconds."""
    deadline = time.monotonic() + budget
    u = urllib.parse.urlsplit(target)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port,
                                           timeout=budget, context=ctx)
    elif u.scheme == "http":
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=budget)
    else:
        return {"input": target, "error": "bad url"}
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    try:
        # http.client's timeout is per socket operation; shrink it to
        # what is left so connect + TLS + head stay within one budget.
        conn.connect()
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        conn.sock.settimeout(left)
        conn.request("GET", path, headers={"User-Agent": USER_AGENT,
                                           "Connection": "close"})
        resp = conn.getresponse()
        return {"input": target, "status": resp.status}
    except Exception as exc:
        return {"input": target, "error": classify(exc)}
    finally:
        conn.close()


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def main():
    ap = argparse.ArgumentParser(prog="peer_threads")
    ap.add_argument("-c", type=int, default=100, help="requests in flight")
    ap.add_argument("-t", type=float, default=10.0,
                    help="per-target budget in seconds")
    ap.add_argument("--cafile", help="PEM CA bundle to trust")
    ap.add_argument("file")
    args = ap.parse_args()
    if args.c < 1 or args.t <= 0:
        ap.error("-c and -t must be positive")
    raise_nofile()

    ctx = ssl.create_default_context(cafile=args.cafile)
    out_lock = threading.Lock()
    out = sys.stdout
    counts = [0, 0]

    def work(target):
        try:
            rec = probe(target, args.t, ctx)
        except Exception as exc:        # a URL http.client refuses
            rec = {"input": target, "error": "bad url: %s" % exc}
        line = json.dumps(rec, separators=(",", ":")) + "\n"
        with out_lock:
            out.write(line)
            counts[0] += 1
            counts[1] += "status" in rec

    # Submitting every line up front would queue the whole input; keep
    # at most 2N submitted so memory follows N, not the file.
    slots = threading.BoundedSemaphore(2 * args.c)
    start = time.monotonic()
    src = sys.stdin if args.file == "-" else open(args.file)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.c) as ex:
        for line in src:
            target = line.strip()
            if not target:
                continue
            slots.acquire()
            fut = ex.submit(work, target)
            fut.add_done_callback(lambda f: slots.release())
    out.flush()
    el = time.monotonic() - start
    print("peer_threads: %d targets, %d ok, %.2f s, %.0f/s"
          % (counts[0], counts[1], el, counts[0] / el if el else 0),
          file=sys.stderr)


if __name__ == "__main__":
    main()
