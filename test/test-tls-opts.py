#!/usr/bin/env python3
"""Interop test: hscan-cli's client TLS options against openssl s_server.

Usage: test-tls-opts.py CLI TESTD

A CA and certificates made by the openssl CLI in a temporary directory
(localhost's, a.test's, a client's, and a key that matches none), and
s_server -www processes on 127.0.0.1 ports found free:

  sni       localhost's certificate, a.test's when the client names
            a.test (-servername a.test -cert2)
  tls12     TLS 1.2 only;  tls13   TLS 1.3 only
  mtls      TLS 1.3, a client certificate required (-Verify 1)
  mtls12    TLS 1.2, a client certificate required
  mtls-opt  a client certificate asked for, optional (-verify 1)

Names resolve through hscan-testd's DNS server (any NAME.test is
127.0.0.1).  Each case runs hscan-cli and checks its one record: the
certificate the server picked (tls.subject), the verdict, tls.version,
the error and alert; and the CLI's refusals of bad options.  The server
helpers are test-h2-interop.py's.  Every wait is bounded.
"""
import importlib.util
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "h2interop", os.path.join(HERE, "test-h2-interop.py"))
h2i = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(h2i)
sys.path.insert(0, HERE)
from testd import Testd  # noqa: E402

Fail, run = h2i.Fail, h2i.run


def make_certs(openssl, d):
    """ca.pem; localhost, a.test (server) and client (clientAuth) leaves
    with their keys; other.key matches none.  P-256 keys."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    steps = [[openssl, "req", "-x509", "-new", *ec, "-keyout",
              f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "2",
              "-subj", "/CN=hscan tls-opts CA",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
             [openssl, "genpkey", "-algorithm", "EC", "-pkeyopt",
              "ec_paramgen_curve:P-256", "-out", f"{d}/other.key"],
             [openssl, "pkey", "-in", f"{d}/other.key", "-aes128",
              "-passout", "pass:secret", "-out", f"{d}/locked.key"]]
    leaves = {"localhost": ("DNS:localhost", "serverAuth"),
              "a": ("DNS:a.test", "serverAuth"),
              "client": ("DNS:client.test", "clientAuth")}
    for name, (san, eku) in leaves.items():
        with open(f"{d}/{name}.ext", "w") as f:
            f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                    f"keyUsage=critical,digitalSignature\n"
                    f"extendedKeyUsage={eku}\n")
        cn = "a.test" if name == "a" else name
        steps += [[openssl, "req", "-new", *ec, "-keyout",
                   f"{d}/{name}.key", "-out", f"{d}/{name}.csr",
                   "-subj", f"/CN={cn}"],
                  [openssl, "x509", "-req", "-in", f"{d}/{name}.csr",
                   "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
                   "-CAcreateserial", "-days", "2", "-extfile",
                   f"{d}/{name}.ext", "-out", f"{d}/{name}.pem"]]
    for argv in steps:
        rc, out, err = run(argv, 30)
        if rc != 0:
            raise Fail(f"openssl {argv[1]} exit {rc}: "
                       f"{err.decode(errors='replace').strip()}")


def start_servers(openssl, d, servers):
    base = ["s_server", "-cert", f"{d}/localhost.pem", "-key",
            f"{d}/localhost.key", "-www", "-quiet"]
    kinds = {
        "sni": ["-servername", "a.test", "-cert2", f"{d}/a.pem",
                "-key2", f"{d}/a.key"],
        "tls12": ["-tls1_2"],
        "tls13": ["-tls1_3"],
        "mtls": ["-tls1_3", "-Verify", "1", "-CAfile", f"{d}/ca.pem"],
        "mtls12": ["-tls1_2", "-Verify", "1", "-CAfile", f"{d}/ca.pem"],
        "mtls-opt": ["-verify", "1", "-CAfile", f"{d}/ca.pem"],
    }
    ports = {}
    for kind, extra in kinds.items():
        def make(p, kind=kind, extra=extra):
            return h2i.Server(kind, [openssl, *base, *extra, "-accept",
                                     f"127.0.0.1:{p[0]}"],
                              f"{d}/{kind}.log", p)
        ports[kind] = h2i.start_server(kind, make, 1, servers).ports[0]
    return ports


class Cli:
    def __init__(self, cli, d, dns):
        self.cli, self.d, self.dns = cli, d, dns

    def records(self, args, lines):
        argv = [self.cli, "--ca-file", f"{self.d}/ca.pem", "--resolver",
                self.dns, "--timeout", "10", "-c", "1", *args]
        p = h2i.subprocess.run(argv, input="".join(l + "\n" for l in lines),
                               capture_output=True, text=True, timeout=30)
        if p.returncode not in (0, 1):
            raise Fail(f"{argv}: exit {p.returncode}: {p.stderr}")
        recs = [json.loads(l) for l in p.stdout.splitlines()]
        if len(recs) != len(lines):
            raise Fail(f"{argv}: {len(recs)} records for {len(lines)}")
        return recs

    def refused(self, args, want):
        argv = [self.cli, "--ca-file", f"{self.d}/ca.pem", *args]
        p = h2i.subprocess.run(argv, input="https://a.test/\n",
                               capture_output=True, text=True, timeout=30)
        if p.returncode != 2 or want not in p.stderr:
            raise Fail(f"{args}: exit {p.returncode}, stderr {p.stderr!r}; "
                       f"wanted exit 2 and {want!r}")
        print(f"ok  refused {' '.join(args)}")


def expect(rec, what, **want):
    """Each key=value of `want` against the record: error, status,
    tls_* (tls.*), subject; alert."""
    tls = rec.get("tls") or {}
    got = {"error": rec.get("error"), "status": rec.get("status"),
           "subject": tls.get("subject"), "verified": tls.get("verified"),
           "version": tls.get("version"), "alert": tls.get("alert")}
    for k, v in want.items():
        if got[k] != v:
            raise Fail(f"{what}: {k} is {got[k]!r}, wanted {v!r}\n"
                       f"{json.dumps(rec)}")
    print(f"ok  {what}")


def cases(c, ports, d):
    sni, t12, t13 = ports["sni"], ports["tls12"], ports["tls13"]
    # The server picks by the name sent; the name verified follows it.
    r = c.records([], [f"https://a.test:{sni}/", f"https://localhost:{sni}/"])
    expect(r[0], "SNI a.test", subject="CN=a.test", verified=True,
           status=200)
    expect(r[1], "SNI localhost", subject="CN=localhost", verified=True)
    r = c.records(["--sni", "a.test"], [f"https://localhost:{sni}/",
                                        f"https://127.0.0.1:{sni}/"])
    expect(r[0], "--sni a.test, host localhost", subject="CN=a.test",
           verified=True, status=200)
    expect(r[1], "--sni a.test, IP literal", subject="CN=a.test",
           verified=True, status=200)
    r = c.records(["--sni", "b.test"], [f"https://a.test:{sni}/"])
    expect(r[0], "--sni b.test: default certificate, checked for b.test",
           subject="CN=localhost", verified=False, error="tls_cert_invalid")
    # No SNI: the default certificate.  One scanner, one chain, two
    # names: the verdict cached for localhost must not pass a.test.
    r = c.records(["--no-sni"], [f"https://localhost:{sni}/",
                                 f"https://a.test:{sni}/"])
    expect(r[0], "--no-sni, localhost", subject="CN=localhost",
           verified=True, status=200)
    expect(r[1], "--no-sni, a.test (same chain, other name)",
           subject="CN=localhost", verified=False,
           error="tls_cert_invalid")
    if r[1]["tls"]["verify_error"].get("code") != 62:  # HOSTNAME_MISMATCH
        raise Fail(f"verify_error: {r[1]['tls']['verify_error']}")

    # Versions against one-version servers.
    host = "https://localhost:{}/"
    expect(c.records([], [host.format(t12)])[0], "TLS 1.2 server",
           version="TLSv1.2", status=200)
    expect(c.records(["--tls-max", "1.2"], [host.format(t12)])[0],
           "--tls-max 1.2 vs 1.2 server", version="TLSv1.2", status=200)
    expect(c.records(["--tls-min", "1.3"], [host.format(t12)])[0],
           "--tls-min 1.3 vs 1.2 server", error="tls_alert",
           alert="protocol_version")
    expect(c.records(["--tls-min", "1.3"], [host.format(t13)])[0],
           "--tls-min 1.3 vs 1.3 server", version="TLSv1.3", status=200)
    expect(c.records(["--tls-max", "1.2"], [host.format(t13)])[0],
           "--tls-max 1.2 vs 1.3 server", error="tls_alert",
           alert="protocol_version")
    expect(c.records(["--tls-max", "1.2", "--ciphers",
                      "ECDHE-ECDSA-AES128-GCM-SHA256"],
                     [host.format(t12)])[0], "--ciphers", status=200)
    r = c.records(["--ciphersuites", "TLS_CHACHA20_POLY1305_SHA256",
                   "--curves", "P-384"], [host.format(t13)])[0]
    expect(r, "--ciphersuites, --curves", status=200)
    if r["tls"]["cipher"] != "TLS_CHACHA20_POLY1305_SHA256":
        raise Fail(f"cipher {r['tls']['cipher']}")

    # Client certificates.
    cert = ["--cert", f"{d}/client.pem", "--key", f"{d}/client.key"]
    for kind, alert in (("mtls", "certificate_required"),
                        ("mtls12", "handshake_failure")):
        url = host.format(ports[kind])
        expect(c.records([], [url])[0], f"{kind} without a certificate",
               error="tls_alert", alert=alert)
        expect(c.records(cert, [url])[0], f"{kind} with --cert/--key",
               status=200, error=None)
    url = host.format(ports["mtls-opt"])
    expect(c.records([], [url])[0], "optional, without", status=200)
    expect(c.records(cert, [url])[0], "optional, with", status=200)

    # Refusals, named by option.
    c.refused(["--cert", f"{d}/client.pem", "--key", f"{d}/other.key"],
              "does not match the certificate")
    c.refused(["--cert", f"{d}/client.pem", "--key", f"{d}/locked.key"],
              "--key:")
    c.refused(["--key", f"{d}/client.key"], "without cert_file")
    c.refused(["--tls-min", "1.3", "--tls-max", "1.2"], "below tls_min")
    c.refused(["--tls-min", "1.4"], "must be 1.0, 1.1, 1.2 or 1.3")
    c.refused(["--ciphers", "NOPE"], "no TLS 1.2 cipher matches")
    c.refused(["--ciphersuites", "NOPE"], "--ciphersuites:")
    c.refused(["--curves", "NOPE"], "--curves:")
    c.refused(["--sni", "a.test", "--no-sni"], "not with sni")
    c.refused(["--sni", "127.0.0.1"], "RFC 6066")


def main():
    cli, testd = sys.argv[1], sys.argv[2]
    openssl = h2i.find_program("openssl")
    servers, t = [], None
    with tempfile.TemporaryDirectory(prefix="hscan-tlsopts-") as d:
        try:
            make_certs(openssl, d)
            ports = start_servers(openssl, d, servers)
            t = Testd(testd, 100)
            cases(Cli(cli, d, t.dns), ports, d)
        except Fail as e:
            print(f"FAIL: {e}")
            for s in servers:
                print(s.logs())
            return 1
        finally:
            for s in servers:
                s.stop()
            if t:
                t.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
