"""The synthetic internet's targets and their truth, and the scoring of
a scanner's output against it (bench.py).

Target i is `ip-127-X-Y-Z.LABEL.test`, which the benchmark's DNS server
answers with its own address 127.X.Y.Z; the label picks the server's
behaviour, and names under `nx.test` do not exist."""
import collections
import json

from bench_common import die

# What each behaviour label should give: a status, or None for an error.
TRUTH = {"fast": 200, "delay": 200, "notfound": 404, "nx": None,
         "page": 200}


def address(i):
    """127.X.Y.Z for target i: from 127.1.0.1, Z in 1..254."""
    z = 1 + i % 254
    i //= 254
    return "127.%d.%d.%d" % (1 + i // 256, i % 256, z)


def parse_mix(text):
    """'notfound=2,nx=2' -> [('notfound', 2.0), ('nx', 2.0)] (percent)."""
    mix = []
    for part in filter(None, text.split(",")):
        name, _, pct = part.partition("=")
        if name not in TRUTH or name in ("fast", "delay", "page"):
            die("--mix: label must be notfound or nx, not %r" % name)
        mix.append((name, float(pct)))
    if sum(p for _, p in mix) >= 100:
        die("--mix: the side labels must leave room for the main one")
    return mix


def label_of(i, main, mix):
    """The label of target i: the side labels spread evenly (every
    100/pct-th target), the main label elsewhere."""
    slot = (i * 7919) % 10000       # a fixed spread, not a run of each
    edge = 0
    for name, pct in mix:
        edge += int(pct * 100)
        if slot < edge:
            return name
    return main


def target(i, scheme, port, main, mix):
    """(url, ip or '-', expected status or None)."""
    lab = label_of(i, main, mix)
    if lab == "nx":
        name, ip = "h%d.nx.test" % i, "-"
    else:
        ip = address(i)
        name = "ip-%s.%s.test" % (ip.replace(".", "-"), lab)
    return "%s://%s:%d/" % (scheme, name, port), ip, TRUTH[lab]


class Targets:
    """The files for one (scheme, label, hosts) set; truth rebuilt on
    demand rather than kept (a million names)."""

    def __init__(self, work, srv, scheme, label, hosts, mix):
        self.scheme, self.label, self.hosts, self.mix = (scheme, label,
                                                         hosts, mix)
        self.port = srv.https if scheme == "https" else srv.http
        tag = "%s-%s-%d-%d" % (scheme, label, hosts, self.port)
        self.urls = work / ("targets-%s.txt" % tag)
        self.epoll = work / ("targets-%s.epoll.txt" % tag)
        if not self.urls.exists() or not self.epoll.exists():
            self.write()

    def each(self):
        for i in range(self.hosts):
            yield target(i, self.scheme, self.port, self.label, self.mix)

    def write(self):
        with open(self.urls, "w") as u, open(self.epoll, "w") as e:
            for url, ip, _ in self.each():
                u.write(url + "\n")
                e.write("%s %s\n" % (url, ip))

    def truth(self):
        return {url: want for url, _, want in self.each()}


# ---- scoring ----

def outcome(rec):
    """A record's status, or its error text (status wins when a record
    has both)."""
    st = rec.get("status")
    if isinstance(st, int):
        return st, None
    err = rec.get("error")
    return None, str(err) if err else "no status, no error"


def score(out_path, truth):
    seen = set()
    c = collections.Counter()
    errors = collections.Counter()
    with open(out_path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                c["unparsable"] += 1
                continue
            url = rec.get("input")
            if url not in truth:
                c["unknown"] += 1
                continue
            if url in seen:
                c["dup"] += 1
                continue
            seen.add(url)
            st, err = outcome(rec)
            want = truth[url]
            if (want is None and st is None) or (want is not None and
                                                  st == want):
                c["right"] += 1
            else:
                c["wrong"] += 1
                errors[err if err else "status %s" % st] += 1
    c["lost"] = len(truth) - len(seen)
    return {k: c[k] for k in ("right", "wrong", "lost", "dup", "unknown",
                              "unparsable")}, errors.most_common(5)
