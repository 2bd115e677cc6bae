"""test-cli.py: --tls-chain (the whole certificate chain in "tls") and
tls.earliest_not_after, which is there without it.

Run through test-cli.py, which imports every test_* here."""
import hashlib
import ssl

from cli_common import check, run, records


def scan(t, args):
    line = f"https://valid.test:{t.https}/\n"
    r = run(["-q", "-f", "json", "--scheme", "https", "--resolver", t.dns,
             "--ca-file", t.ca] + args + ["-"], input=line, timeout=60)
    check(r.returncode == 0, f"{args}: exit {r.returncode}: {r.stderr}")
    recs = records(r.stdout)
    check(len(recs) == 1 and recs[0]["tls"], f"{args}: {r.stdout}")
    return recs[0]["tls"]


def test_tls_chain(t):
    with open(t.ca) as f:
        ca = hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()
    plain = scan(t, [])
    check(plain["verified"] and "chain" not in plain and
          "verified_chain" not in plain, f"without --tls-chain: {plain}")
    # one leaf, signed by the CA: its expiry comes first
    check(plain["earliest_not_after"] == plain["not_after"] and
          plain["earliest_days_left"] == plain["days_left"],
          f"earliest: {plain}")
    tls = scan(t, ["--tls-chain"])
    chain = tls["chain"]
    check(len(chain) == tls["chain_len"] and not tls["chain_truncated"],
          f"chain: {tls}")
    leaf = chain[0]
    check(leaf["sha256"] == tls["sha256"] and
          leaf["subject"] == tls["subject"] and
          leaf["not_after"] == tls["not_after"] and
          leaf["is_ca"] is False and leaf["key_type"] and
          leaf["key_bits"] > 0 and leaf["sig_alg"], f"leaf: {leaf}")
    check(tls["verified_chain"][0] == tls["sha256"] and
          tls["verified_chain"][-1] == ca, f"path: {tls}")
    check(tls["earliest_not_after"] == plain["earliest_not_after"],
          f"earliest with --tls-chain: {tls}")
    r = run(["--tls-chain", "--tls-chain", "/dev/null"])
    check(r.returncode == 2 and "--tls-chain" in r.stderr,
          f"twice: exit {r.returncode}: {r.stderr}")
