#!/usr/bin/python3
"""peer_aiohttp: the benchmark's asyncio peer.

One aiohttp ClientSession whose TCPConnector resolves through aiodns
(c-ares), with N worker tasks pulling URLs from a bounded queue, the way
a Python programmer writes a fast async scanner.

usage: /usr/bin/python3 peer_aiohttp.py -c N -t SECONDS [--cafile PATH] FILE

Needs Debian's python3-aiohttp (3.8) and python3-aiodns; run it with
/usr/bin/python3. FILE ("-" is stdin) holds one URL per line; blank lines
are skipped. Writes one JSON line per URL on stdout, in completion order:
  {"input":"URL","status":200}  or  {"input":"URL","error":"timeout"}
"""
import argparse
import asyncio
import errno
import json
import resource
import ssl
import sys
import time

import aiodns
import aiohttp

USER_AGENT = "hscan-bench-peer-aiohttp/1"


def _causes(exc):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def classify(exc):
    """The short error vocabulary all peers share."""
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "tls"
    if isinstance(exc, aiohttp.InvalidURL):
        return "bad url"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "closed"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "bad response"
    for e in _causes(exc):
        # aiohttp's AsyncResolver re-raises aiodns errors as a bare
        # OSError, chained.
        if isinstance(e, aiodns.error.DNSError):
            return "dns"
        if isinstance(e, ssl.SSLError):
            return "tls"
        if isinstance(e, ConnectionRefusedError):
            return "connect refused"
        if isinstance(e, (ConnectionResetError, BrokenPipeError)):
            return "reset"
        if isinstance(e, OSError) and e.errno == errno.ECONNRESET:
            return "reset"
        if isinstance(e, OSError) and e.errno == errno.EMFILE:
            return "too many open files"
        if isinstance(e, OSError) and e.errno == errno.EADDRNOTAVAIL:
            return "no local port"
    return str(exc) or type(exc).__name__


async def worker(session, queue, out, counts):
    while True:
        target = await queue.get()
        if target is None:
            return
        try:
            # Leaving the block releases the response unread; with
            # force_close the connection is dropped, not drained.
            async with session.get(target, allow_redirects=False) as resp:
                rec = {"input": target, "status": resp.status}
        except Exception as exc:
            rec = {"input": target, "error": classify(exc)}
        out.write(json.dumps(rec, separators=(",", ":")) + "\n")
        counts[0] += 1
        counts[1] += "status" in rec


async def run(args, src, out):
    ctx = ssl.create_default_context(cafile=args.cafile)
    # Stock AsyncResolver(), as aiohttp users write it.  c-ares then
    # answers every lookup on one UDP socket with the kernel's default
    # receive buffer; with hundreds in flight replies overflow it while
    # the loop is busy, and each lost reply waits out c-ares' 5 s retry
    # (2,000 hosts at -c 500 on loopback: 1-19 % timeouts at -t 5).
    # --rcvbuf 4194304 gives it the 4 MiB buffer hscan asks for on its
    # own c-ares sockets (lib/dns.c): ~1,100-1,580 hosts/s, no losses.
    if args.rcvbuf:
        resolver = aiohttp.AsyncResolver(
            socket_receive_buffer_size=args.rcvbuf)
    else:
        resolver = aiohttp.AsyncResolver()
    connector = aiohttp.TCPConnector(limit=args.c, force_close=True,
                                     ssl=ctx, resolver=resolver)
    timeout = aiohttp.ClientTimeout(total=args.t)
    counts = [0, 0]
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     headers={"User-Agent": USER_AGENT}
                                     ) as session:
        # N workers and a queue of N: tasks and buffered URLs follow the
        # concurrency, not the input length.
        queue = asyncio.Queue(maxsize=args.c)
        workers = [asyncio.create_task(worker(session, queue, out, counts))
                   for _ in range(args.c)]
        for line in src:
            target = line.strip()
            if target:
                await queue.put(target)
        for _ in workers:
            await queue.put(None)
        await asyncio.gather(*workers)
    return counts


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def main():
    ap = argparse.ArgumentParser(prog="peer_aiohttp")
    ap.add_argument("-c", type=int, default=100, help="requests in flight")
    ap.add_argument("-t", type=float, default=10.0,
                    help="per-target budget in seconds")
    ap.add_argument("--cafile", help="PEM CA bundle to trust")
    ap.add_argument("--rcvbuf", type=int, default=0,
                    help="DNS socket receive buffer in bytes "
                         "(default: the kernel's)")
    ap.add_argument("file")
    args = ap.parse_args()
    if args.c < 1 or args.t <= 0:
        ap.error("-c and -t must be positive")
    raise_nofile()

    src = sys.stdin if args.file == "-" else open(args.file)
    start = time.monotonic()
    counts = asyncio.run(run(args, src, sys.stdout))
    sys.stdout.flush()
    el = time.monotonic() - start
    print("peer_aiohttp: %d targets, %d ok, %.2f s, %.0f/s"
          % (counts[0], counts[1], el, counts[0] / el if el else 0),
          file=sys.stderr)


if __name__ == "__main__":
    main()
