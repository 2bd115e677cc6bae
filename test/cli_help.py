"""test-cli.py: grouped --help, the options documented, shell completion.

Run through test-cli.py, which imports every test_* here."""
import os
import re
import subprocess

from cli_common import TMP, check, run


# ---- --help groups, documentation and shell completion ----

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def long_options():
    """The long options of the CLI's getopt table."""
    with open(os.path.join(SRC, "tools", "hscan-cli.c")) as f:
        src = f.read()
    table = src[src.index("struct option opts[]"):]
    table = table[:table.index("{ 0, 0, 0, 0 }")]
    return re.findall(r'\{ "([a-z0-9-]+)",', table)


def read_src(*path):
    with open(os.path.join(SRC, *path)) as f:
        return f.read()


def test_help_groups(t):
    groups = ["Input:", "What is reported:", "Picking out hosts",
              "Output:", "Request:", "HTTPS:", "Speed and politeness:",
              "DNS:", "Limits", "Examples:"]
    r = run(["--help"])
    check(r.returncode == 0, "--help exit")
    at = [r.stdout.find("\n" + g) for g in groups]
    check(all(a > 0 for a in at) and at == sorted(at),
          f"--help groups in order: {at}")
    long_lines = [l for l in r.stdout.splitlines() if len(l) > 79]
    check(not long_lines, f"--help fits 80 columns: {long_lines}")
    r = run(["--help=output"])
    check(r.returncode == 0 and r.stdout.startswith("Output:\n") and
          "--format" in r.stdout and "--resolver" not in r.stdout,
          "--help=output is that group only")
    r = run(["--help=bogus"])
    check(r.returncode == 2 and '--help: "bogus": not a topic' in r.stderr
          and "dns" in r.stderr, "--help=bogus refused")
    opts = long_options()
    check(len(opts) >= 40, f"option table read: {len(opts)}")
    helptext = run(["--help"]).stdout
    man = read_src("docs", "hscan-cli.1")
    man_plain = man.replace("\\-", "-")
    md = read_src("docs", "cli.md")
    bash = read_src("tools", "completion", "hscan-cli.bash")
    zsh = read_src("tools", "completion", "_hscan-cli")
    for o in opts:
        check("--" + o in helptext, f"--{o} in --help")
        check(re.search(r"--" + o + r"\b", man_plain),
              f"--{o} in hscan-cli(1)")
        check("--" + o in md, f"--{o} in docs/cli.md")
        check(re.search(r"--" + o + r"\b", bash), f"--{o} in bash completion")
        check(re.search(r"--" + o + r"\b", zsh), f"--{o} in zsh completion")
    # one OPTIONS section per --help group in the man page
    for g in ["Input", "What is reported", "Picking out hosts", "Output",
              "Request", "HTTPS", "Speed and politeness", "DNS", "Limits"]:
        check(re.search(r'^\.SS "?' + re.escape(g), man, re.M),
              f"hscan-cli(1) has a section {g}")


def complete(words):
    """What the bash completion offers for the command line `words`
    (the last one being completed)."""
    script = ("source %s\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_hscan_cli\n"
              "printf '%%s\\n' \"${COMPREPLY[@]}\"\n" %
              (os.path.join(SRC, "tools", "completion", "hscan-cli.bash"),
               " ".join("'%s'" % w for w in words), len(words) - 1))
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"completion ran: {r.stderr}")
    return sorted(x for x in r.stdout.split("\n") if x)


def test_completion(t):
    check(complete(["hscan-cli", "--for"]) == ["--format"], "--for")
    check(complete(["hscan-cli", "-f", ""]) == ["csv", "json", "table"],
          "-f values")
    check(complete(["hscan-cli", "--fields", "input,sta"]) ==
          ["input,status"], "--fields list")
    check(complete(["hscan-cli", "--match-error", "dns_n"]) ==
          ["dns_no_address", "dns_nxdomain"], "--match-error names")
    check(complete(["hscan-cli", "--help=ou"]) == ["--help=output"],
          "--help=TOPIC")
    check(complete(["hscan-cli", "--scheme", "https"]) ==
          ["https", "https-first"], "--scheme values")
    check(complete(["hscan-cli", "-c", ""]) == [], "no guess for numbers")
    # every error name the library has, every field it knows
    bash = read_src("tools", "completion", "hscan-cli.bash")
    hdr = read_src("include", "hscan.h")
    for name in re.findall(r'XX\(-(?:[1-9][0-9]+), \w+, "([a-z_]+)"', hdr):
        check(name in bash, f"error {name} in the completion")
    fields = re.search(r"#define HSCAN_FIELDS((?:.*\\\n)*.*)", hdr).group(1)
    for f in re.findall(r"[a-z_0-9]+", fields.replace("\\", " ")):
        check(f in bash, f"field {f} in the completion")
    # zsh: the file parses (zsh -n), when zsh is installed
    if subprocess.run(["sh", "-c", "command -v zsh"],
                      capture_output=True).returncode == 0:
        r = subprocess.run(["zsh", "-n", os.path.join(
            SRC, "tools", "completion", "_hscan-cli")],
            capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, f"zsh -n: {r.stderr}")



def test_usage_values(t):
    """Each bad value is refused before scanning, naming the option and
    the value."""
    cases = [
        (["--timeout", "abc"], "--timeout", "abc"),
        (["-c", "0"], "--concurrency", "0"),
        (["--scheme", "ftp"], "--scheme", "ftp"),
        (["--follow", "500"], "--follow", "500"),
        (["--body-bytes", "99999999999"], "--body-bytes", "99999999999"),
        (["-X", "G T"], "--method", "G T"),
        (["--path", "x"], "--path", "x"),
        (["-H", "X Y: z"], "-H", "X Y"),
        (["-A", "a\nb"], "--user-agent", "a"),
        (["--resolver", "bogus"], "--resolver", "bogus"),
        (["--resolver", "1.2.3.4:99999"], "--resolver", "1.2.3.4:99999"),
        (["--max-header-bytes", "10"], "--max-header-bytes", "10"),
        (["--help=nope"], "--help", "nope"),
    ]
    for args, opt, val in cases:
        r = run(args + ["/dev/null"])
        check(r.returncode == 2, f"{args}: exit {r.returncode}")
        first = r.stderr.splitlines()[0] if r.stderr else ""
        check(opt in first and val in first and r.stdout == "",
              f"{args}: {first!r}")
    for ok in (["--resolver", "[::1]:53"], ["--resolver", "::1"],
               ["--resolver", "127.0.0.1:53"], ["-X", "HEAD"]):
        r = run(ok + ["-q", "/dev/null"])
        check(r.returncode == 0, f"{ok} accepted: {r.stderr}")


def test_usage_fields(t):
    """Values the library refuses (hscan_config_check()) are reported
    under the option that set them, with the library's reason, before
    anything is opened or scanned; its limits themselves pass."""
    cases = [
        (["-c", "2000000"],
         "--concurrency: 2000000: must be from 1 to 1000000"),
        (["--max-headers", "0"], "--max-headers: 0: must be at least 1"),
        (["--max-header-bytes", "63"],
         "--max-header-bytes: 63: must be at least 64"),
        (["--follow", "101"], "--follow: 101: must be at most 100"),
        (["--body-bytes", str((16 << 20) + 1)],
         "--body-bytes: 16777217: must be at most 16777216"),
        (["-X", ""], "--method: '': not an HTTP token"),
        (["--path", "/a b"], "--path: '/a b': must start with '/'"),
        (["-A", "x\r\ny"], "--user-agent: 'x\\r\\ny': holds CR or LF"),
        (["-H", "X-A: 1\r\nX-B: 2"],
         "-H: 'X-A: 1\\r\\nX-B: 2': holds CR or LF"),
        (["-H", ":x"], "-H: ':x': not 'Name: value'"),
    ]
    out = os.path.join(TMP, "usage-fields.jsonl")
    for args, want in cases:
        if os.path.exists(out):
            os.unlink(out)
        r = run(args + ["-o", out, "/dev/null"])
        lines = r.stderr.splitlines()
        check(r.returncode == 2, f"{args}: exit {r.returncode}")
        check(lines and lines[0].startswith("hscan-cli: " + want),
              f"{args}: {r.stderr!r}")
        check(len(lines) == 2 and lines[1] == "Try 'hscan-cli --help'.",
              f"{args}: one message: {r.stderr!r}")
        check(r.stdout == "" and not os.path.exists(out),
              f"{args}: nothing written")
    for ok in (["--follow", "100"], ["--max-header-bytes", "64"],
               ["--max-headers", "1"], ["--body-bytes", str(16 << 20)],
               ["-X", "M-SEARCH"], ["-H", "X-A:"]):
        r = run(ok + ["-q", "/dev/null"])
        check(r.returncode == 0, f"{ok} accepted: {r.stderr}")
