#!/usr/bin/env python3
"""Interop test: stapled OCSP and SCTs (tls.ocsp, tls.scts) against
`openssl s_server -status_file`.

Usage: test-tls-ocsp.py CLI

In a temporary directory the openssl CLI makes a CA, a delegated OCSP
responder it certifies (extendedKeyUsage OCSPSigning), an unrelated
self-signed "rogue" responder, and two leaves for 127.0.0.1: one plain,
one carrying an SCT list extension (1.3.6.1.4.1.11129.2.4.2) whose DER is
built here by hand (RFC 6962 3.3: two SCTs, fixed log ids and
timestamps).  `openssl ocsp -index` makes the responses from an index
file:

  good       CA-signed, status good, next update in a day
  revoked    CA-signed, revoked with reason keyCompromise
  rogue      signed by the unrelated responder: not verified
  delegated  signed by the delegated responder: verified
  other      a good response about another certificate: no status
  badsig     CA-named, signature corrupted (-badsig)

and two are rewritten here (forge(): a few lines of DER, re-signed with
`openssl dgst -sign`), because `openssl ocsp` refuses a non-positive
-ndays/-nmin and cannot add extensions:

  expired    the good one with this/next update 2 days / 1 day ago
  sct        a good one for the SCT leaf, with the same SCT list in its
             SingleResponse extension (1.3.6.1.4.1.11129.2.4.5)

One s_server per case staples its file; the SCT server also sends the
same list in the TLS extension (-serverinfo, a SERVERINFOV2 block for
the TLS 1.2 ServerHello and the TLS 1.3 Certificate entry), once as
TLS 1.3 and once limited to TLS 1.2 (-tls1_2).  A server stapling nothing gives "ocsp": null.  Each record's tls object is
compared with what was made.  Every wait is bounded; servers are killed
at the end.
"""
import base64
import datetime
import importlib.util
import json
import os
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "h2interop", os.path.join(HERE, "test-h2-interop.py"))
h2i = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(h2i)
Fail, Server, run = h2i.Fail, h2i.Server, h2i.run

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
LOG_A, LOG_B = bytes([1]) * 32, bytes(range(32))
TS_A, TS_B = 1700000000123, 1712345678901


def openssl(tool, *argv):
    rc, out, err = run([tool, *argv], 30)
    if rc != 0:
        raise Fail(f"openssl {argv[0]} exit {rc}: "
                   f"{err.decode(errors='replace').strip()}")
    return out.decode()


def sct(log_id, ts):
    """One v1 SCT, TLS encoding (RFC 6962 3.2): a dummy ECDSA signature;
    nobody here checks it."""
    sig = bytes(range(70))
    return (b"\x00" + log_id + struct.pack(">QH", ts, 0) +
            b"\x04\x03" + struct.pack(">H", len(sig)) + sig)


def sct_list():
    body = b"".join(struct.pack(">H", len(s)) + s
                    for s in (sct(LOG_A, TS_A), sct(LOG_B, TS_B)))
    return struct.pack(">H", len(body)) + body


def rfc3339_ms(ms):
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


# ---- a stapled response rewritten: times, an SCT extension ----

def der(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + body


def kids(b):
    """The TLVs inside one DER TLV, whole."""
    i = 2 + (b[1] & 0x7f if b[1] & 0x80 else 0)
    out = []
    while i < len(b):
        n, h = b[i + 1], 2
        if n & 0x80:
            h += n & 0x7f
            n = int.from_bytes(b[i + 2:i + h], "big")
        out.append(b[i:i + h + n])
        i += h + n
    return out


def gtime(delta_s):
    t = (datetime.datetime.now(datetime.timezone.utc) +
         datetime.timedelta(seconds=delta_s))
    return der(0x18, t.strftime("%Y%m%d%H%M%SZ").encode())


def forge(o, d, src, out, key, shift=None, scts=None):
    """Rewrite response SRC (made by openssl ocsp, one SingleResponse):
    thisUpdate/nextUpdate SHIFT = (s, s) seconds from now, and/or an
    SCT list extension (1.3.6.1.4.1.11129.2.4.5) on the SingleResponse;
    re-signed with KEY (the response's signature algorithm is kept)."""
    top = open(f"{d}/{src}.der", "rb").read()
    status, wrap = kids(top)
    oid, octets = kids(kids(wrap)[0])
    basic = kids(octets)[0]
    tbs, alg, _, *certs = kids(basic)
    parts = kids(tbs)
    ri = next(i for i, p in enumerate(parts) if p[0] == 0x30)
    single = kids(parts[ri])[0]
    cid, cst, this, *rest = kids(single)
    nxt = [r for r in rest if r[0] == 0xa0]
    if shift:
        this, nxt = gtime(shift[0]), [der(0xa0, gtime(shift[1]))]
    ext = []
    if scts:
        e = der(0x30, der(0x06, bytes.fromhex("2b06010401d679020405")) +
                der(0x04, der(0x04, scts)))
        ext = [der(0xa1, der(0x30, e))]
    single = der(0x30, cid + cst + this + b"".join(nxt + ext))
    parts[ri] = der(0x30, single)
    tbs = der(0x30, b"".join(parts))
    with open(f"{d}/tbs.der", "wb") as f:
        f.write(tbs)
    openssl(o, "dgst", "-sha256", "-sign", f"{d}/{key}.key", "-out",
            f"{d}/tbs.sig", f"{d}/tbs.der")
    sig = open(f"{d}/tbs.sig", "rb").read()
    basic = der(0x30, tbs + alg + der(0x03, b"\0" + sig) + b"".join(certs))
    top = der(0x30, status + der(0xa0, der(0x30, oid + der(0x04, basic))))
    with open(f"{d}/{out}.der", "wb") as f:
        f.write(top)


def make_pki(o, d):
    ext = f"{d}/leaf.ext"
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    lst = sct_list()
    # extnValue holds an OCTET STRING around the TLS-encoded list.
    der = b"\x04" + bytes([0x82]) + struct.pack(">H", len(lst)) + lst
    with open(f"{d}/sct.ext", "w") as f:
        f.write(open(ext).read() +
                f"1.3.6.1.4.1.11129.2.4.2=DER:{der.hex()}\n")
    with open(f"{d}/resp.ext", "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=OCSPSigning\n")
    openssl(o, "req", "-x509", "-new", *EC, "-keyout", f"{d}/ca.key",
            "-out", f"{d}/ca.pem", "-days", "2", "-subj", "/CN=ocsp test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl(o, "req", "-x509", "-new", *EC, "-keyout", f"{d}/rogue.key",
            "-out", f"{d}/rogue.pem", "-days", "2", "-subj", "/CN=rogue")
    serials = {}
    for name, extfile in (("leaf", ext), ("sct", f"{d}/sct.ext"),
                          ("resp", f"{d}/resp.ext"), ("other", ext),
                          ("rev", ext)):
        openssl(o, "req", "-new", *EC, "-keyout", f"{d}/{name}.key",
                "-out", f"{d}/{name}.csr", "-subj", f"/CN={name}")
        openssl(o, "x509", "-req", "-in", f"{d}/{name}.csr", "-CA",
                f"{d}/ca.pem", "-CAkey", f"{d}/ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", extfile, "-out", f"{d}/{name}.pem")
        serials[name] = openssl(o, "x509", "-in", f"{d}/{name}.pem",
                                "-noout", "-serial").strip().split("=")[1]
    exp = "301231000000Z"
    with open(f"{d}/index.txt", "w") as f:
        f.write(f"V\t{exp}\t\t{serials['leaf']}\tunknown\t/CN=leaf\n"
                f"V\t{exp}\t\t{serials['sct']}\tunknown\t/CN=sct\n"
                f"V\t{exp}\t\t{serials['other']}\tunknown\t/CN=other\n"
                f"R\t{exp}\t240101000000Z,keyCompromise\t{serials['rev']}"
                f"\tunknown\t/CN=rev\n")

    def respond(out, cert, signer="ca", days=("-ndays", "1")):
        openssl(o, "ocsp", "-index", f"{d}/index.txt", "-CA", f"{d}/ca.pem",
                "-rsigner", f"{d}/{signer}.pem", "-rkey", f"{d}/{signer}.key",
                "-issuer", f"{d}/ca.pem", "-cert", f"{d}/{cert}.pem",
                "-respout", f"{d}/{out}.der", "-noverify", *days)
    respond("good", "leaf")
    respond("revoked", "rev")
    respond("rogue", "leaf", signer="rogue")
    respond("delegated", "leaf", signer="resp")
    respond("other", "other")
    respond("sct", "sct")
    respond("badsig", "leaf", days=("-ndays", "1", "-badsig"))
    forge(o, d, "good", "expired", "ca", shift=(-2 * 86400, -86400))
    forge(o, d, "sct", "sct", "ca", scts=lst)
    # SERVERINFOV2: context (ClientHello, TLS 1.2 ServerHello, TLS 1.3
    # Certificate), type 18, length, the list.
    blob = struct.pack(">IHH", 0x1180, 18, len(lst)) + lst
    with open(f"{d}/serverinfo.pem", "w") as f:
        f.write("-----BEGIN SERVERINFOV2 FOR signed_certificate_timestamp"
                "-----\n" + base64.encodebytes(blob).decode() +
                "-----END SERVERINFOV2 FOR signed_certificate_timestamp"
                "-----\n")


def serve(o, d, tmp, servers, name, cert, status=None, extra=()):
    def make(ports):
        argv = [o, "s_server", "-accept", f"127.0.0.1:{ports[0]}", "-www",
                "-cert", f"{d}/{cert}.pem", "-key", f"{d}/{cert}.key",
                "-chainCAfile", f"{d}/ca.pem", *extra]
        if status:
            argv += ["-status_file", f"{d}/{status}.der"]
        return Server(name, argv, f"{tmp}/{name}.log", ports)
    return h2i.start_server(name, make, 1, servers).ports[0]


def records(cli, ca, urls, tmp, flags=()):
    lst = f"{tmp}/targets.txt"
    with open(lst, "w") as f:
        f.write("".join(u + "\n" for u in urls))
    rc, out, err = run([cli, "-q", "--ca-file", ca, "--max-per-ip", "0",
                        "--timeout", "10", *flags, lst], 60, "hscan-cli")
    if rc not in (0, 1):
        raise Fail(f"hscan-cli exit {rc}: {err.decode(errors='replace')}")
    recs = {}
    for line in out.decode().splitlines():
        r = json.loads(line)
        recs.setdefault(r["input"], []).append(r)
    return recs


def problems(tls, want):
    """Keys of tls.ocsp (or tls itself for scts/sct_count) that differ."""
    got = tls.get("ocsp")
    out = []
    for k, v in want.items():
        if k in ("scts", "sct_count", "verified_tls"):
            continue
        g = None if got is None else got.get(k)
        if callable(v):
            if not v(g):
                out.append(f"ocsp.{k} = {g!r}")
        elif g != v:
            out.append(f"ocsp.{k} = {g!r}, want {v!r}")
    if "ocsp" in want and want["ocsp"] is None and got is not None:
        out.append(f"ocsp = {got!r}, want null")
    for k in ("scts", "sct_count"):
        if k in want and tls.get(k) != want[k]:
            out.append(f"{k} = {tls.get(k)!r}, want {want[k]!r}")
    return out


def soon(g):
    """A next_update a day ahead."""
    t = datetime.datetime.strptime(g or "", "%Y-%m-%dT%H:%M:%SZ")
    t = t.replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    return datetime.timedelta(hours=23) < t - now < datetime.timedelta(
        hours=25)


def main():
    cli = sys.argv[1]
    o = h2i.find_program("openssl")
    pair = [{"log_id": base64.b64encode(lid).decode(),
             "timestamp": rfc3339_ms(ts)}
            for lid, ts in ((LOG_A, TS_A), (LOG_B, TS_B))]
    scts = [dict(s, source=src) for src in ("x509", "tls", "ocsp")
            for s in pair]
    good = {"status": "good", "verified": True, "error": None,
            "revoked_at": None, "reason": None, "next_update": soon,
            "this_update": lambda g: bool(g), "scts": [], "sct_count": 0}
    cases = {
        "good": ("leaf", "good", good),
        "delegated": ("leaf", "delegated", good),
        "revoked": ("rev", "revoked", dict(
            good, status="revoked", revoked_at="2024-01-01T00:00:00Z",
            reason="keyCompromise")),
        "rogue": ("leaf", "rogue", dict(
            good, verified=False, error="signed by neither the issuer nor "
            "a responder it certified")),
        "expired": ("leaf", "expired", dict(
            good, verified=False, next_update=lambda g: bool(g),
            error="response expired (next_update passed)")),
        "badsig": ("leaf", "badsig", dict(
            good, verified=False, error="signature does not verify")),
        "other": ("leaf", "other", {
            "status": None, "verified": False, "this_update": None,
            "error": "no status for this certificate"}),
        "none": ("leaf", None, {"ocsp": None, "scts": [], "sct_count": 0}),
        # good's very bytes stapled for another leaf: no cached verdict
        # answers for it (the cache key holds the leaf).
        "goodrev": ("rev", "good", {
            "status": None, "verified": False, "this_update": None,
            "error": "no status for this certificate"}),
        "sct": ("sct", "sct", dict(good, scts=scts, sct_count=6)),
        "sct12": ("sct", "sct", dict(good, scts=scts, sct_count=6)),
    }
    servers, failed = [], []
    with tempfile.TemporaryDirectory(prefix="hscan-ocsp-") as tmp:
        try:
            make_pki(o, tmp)
            urls = {}
            for name, (cert, status, _) in cases.items():
                extra = (["-serverinfo", f"{tmp}/serverinfo.pem"]
                         if name.startswith("sct") else [])
                extra += ["-tls1_2"] if name == "sct12" else []
                port = serve(o, tmp, tmp, servers, name, cert, status, extra)
                urls[name] = f"https://127.0.0.1:{port}/"
            # Every server twice, one target at a time: the second
            # handshake reads the context's cache of OCSP facts
            # (lib/tls-ocsp-cache.c) and must give the same record.
            recs = records(cli, f"{tmp}/ca.pem", list(urls.values()) * 2,
                           tmp, ["-c", "1"])
            for name, (_, _, want) in cases.items():
                pair = recs.get(urls[name], [])
                if len(pair) != 2:
                    failed.append(f"{name}: {len(pair)} records, not 2")
                    continue
                r = pair[0]
                bad = ([f"error {r['error']}: {r.get('error_detail')}"]
                       if r["error"] else [])
                bad += problems(r["tls"] or {}, want)
                for k in ("ocsp", "scts", "sct_count"):
                    if (pair[1]["tls"] or {}).get(k) != (r["tls"] or {}).get(k):
                        bad.append(f"second read: {k} "
                                   f"{(pair[1]['tls'] or {}).get(k)!r}, "
                                   f"first {(r['tls'] or {}).get(k)!r}")
                if name == "sct12" and (r["tls"] or {}).get(
                        "version") != "TLSv1.2":
                    bad.append(f"version {r['tls']}")
                if bad:
                    failed.append(f"{name}: " + "; ".join(bad))
                else:
                    print(f"ok {name}")
        finally:
            for s in servers:
                s.stop()
            if failed:
                for s in servers:
                    print(s.logs(20))
    if failed:
        raise Fail("\n".join(failed))


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print(f"FAIL {e}")
        sys.exit(1)
