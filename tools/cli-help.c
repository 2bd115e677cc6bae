/* hscan-cli --help: the options grouped by topic, like curl's and
 * httpx's, each group also printable alone (--help=TOPIC).  The groups
 * are the sections of OPTIONS in hscan-cli(1) and docs/cli.md, in the
 * same order.  One string per group: C11 promises only 4095 bytes in a
 * literal.
 */
#include <stdio.h>
#include <string.h>

#include <hscan.h>

#include "cli.h"

static const struct group {
    const char *topic;          /* for --help=TOPIC */
    const char *title;
    const char *text;
} groups[] = {
    { "input", "Input",
"  FILE...                  target lists (default stdin; '-' is stdin).\n"
"                           One target per line: example.com,\n"
"                           example.com:8080, http://example.com/p?q,\n"
"                           https://example.com, 192.0.2.1,\n"
"                           [2001:db8::1]:8080, or a range 192.0.2.0/24\n"
"                           [:PORT] / 2001:db8::/120 (one target per\n"
"                           address, at most 2^24). Blank lines and\n"
"                           '#' lines are skipped\n"
"      --ports LIST         one target per port for each line (and each\n"
"                           address) that names no port: 80,443,8000-8010\n"
"      --all-ips            one record per address a name resolves to\n"
"                           (A and AAAA; -4/-6: that family), each with\n"
"                           its own \"ip\"; not behind http:// or socks5h://\n"
"      --shard K/N          scan only shard K (0 to N-1) of N: the lines\n"
"                           whose host hashes to K, so N runs over the\n"
"                           same list cover it once (docs/scaling.md);\n"
"                           a line's paths and addresses stay together\n"
"      --exclude LIST       never connect to these: addresses, CIDRs and\n"
"                           host names (with their subdomains), comma-\n"
"                           separated, or @FILE (one a line, '#' comments);\n"
"                           repeatable. Checked on the input, each CNAME,\n"
"                           each address and each redirect hop: error\n"
"                           excluded (docs/cli.md \"Exclusions\")\n"
"      --resume FILE        continue an interrupted run (stopped, killed\n"
"                           or crashed) whose records are in FILE: skip\n"
"                           the inputs recorded there, scan again those\n"
"                           recorded as canceled, append to FILE (same\n"
"                           input and options; no -o needed). With\n"
"                           paths or --all-ips per (input, path, address)\n" },
    { "report", "What is reported",
"      --body-bytes N       read up to N bytes of each body for title and\n"
"                           body_sha256 (default 8192; 0: stop after the\n"
"                           headers; at most 16777216; not kept)\n"
"      --compressed         offer Accept-Encoding: gzip, deflate, br (the\n"
"                           codings built in: --version lists zlib and\n"
"                           brotli) and decode the body as it arrives:\n"
"                           title, body bytes and sha256 are of the decoded\n"
"                           bytes, --body-bytes bounds them (as curl)\n"
"      --hash LIST          body hashes recorded: sha256 (default), md5,\n"
"                           mmh3 (Shodan favicon hash), comma-separated\n"
"      --favicon            fetch the page's icon (<link rel=icon>, else\n"
"                           /favicon.ico; same origin only): a \"favicon\"\n"
"                           object with its status, mmh3, md5 and sha256\n"
"      --audit              audit security headers and cookie flags (an\n"
"                           \"audit\" object per record; docs/audit.md)\n"
"      --strict             fail responses that break HTTP/1.1 framing or\n"
"                           field syntax (http_parse) instead of reading\n"
"                           them and listing each in \"anomalies\"\n"
"      --follow N           follow up to N redirects (default 0)\n"
"      --scheme MODE        for inputs without a scheme: https-first\n"
"                           (default: HTTPS, falling back to HTTP when it\n"
"                           cannot connect or handshake), http, https, or\n"
"                           both (two records). Ports 80/443 imply http/s\n" },
    { "filter", "Picking out hosts (what is written; the summary counts all)",
"      --match-status LIST  only these statuses: 200,301-399,5xx (0: no\n"
"                           response)\n"
"      --filter-status LIST not these statuses\n"
"      --match-error NAME   only these errors (comma list, repeatable)\n"
"      --only-ok            only records without an error\n"
"      --match-header 'N: RE'  only when a value of response header N\n"
"                           matches PCRE2 regex RE (repeatable: all); ': RE'\n"
"                           any header line 'Name: value'\n"
"      --filter-header 'N: RE' not when it matches (repeatable: any)\n"
"      --match-string STR   only bodies holding STR, any case (repeatable:\n"
"                           any)   (*)\n"
"      --filter-string STR  not bodies holding STR   (*)\n"
"      --match-regex RE     only bodies matching PCRE2 regex RE\n"
"                           (repeatable: all)   (*)\n"
"      --filter-regex RE    not bodies matching RE (repeatable: any)   (*)\n"
"      --match-length LIST  only these content lengths (Content-Length,\n"
"                           else bytes read): 0,100-200,<10,>=1000\n"
"      --filter-length LIST not these content lengths\n"
"      --match-words LIST   only these body word counts (body.words)  (*)\n"
"      --filter-words LIST  not these   (*)\n"
"      --match-lines LIST   only these body line counts (body.lines)  (*)\n"
"      --filter-lines LIST  not these   (*)\n"
"      --match-time LIST    only these total times: <500ms,>1s,1-2 (s)\n"
"      --filter-time LIST   not these total times\n"
"      --extract RE         record what PCRE2 regex RE finds in the body\n"
"                           as \"extracts\" (named groups are keys;\n"
"                           repeatable)   (*)\n"
"  (*) reads the body: --body-bytes 0 becomes 8192.  A record filtered\n"
"  out is counted (\"N filtered\" in the summary), not written (with\n"
"  -o OUT: to OUT.filtered, which --resume reads too).  Regexes need\n"
"  the pcre2 feature (--version)\n" },
    { "output", "Output",
"  -o, --output FILE        write records to FILE instead of stdout\n"
"  -f, --format FMT         json (JSON Lines), csv (RFC 4180, header row)\n"
"                           or table (one line per target, for people).\n"
"                           Default: table when stdout is a terminal and\n"
"                           no -o, else json (csv with --fields/--header)\n"
"      --fields LIST        csv/table columns, comma-separated, e.g.\n"
"                           input,status,header:X-Frame-Options (FIELDS\n"
"                           in hscan-cli(1); a wrong name lists them all)\n"
"      --header NAME        add response header NAME as a column\n"
"                           (repeatable; 'Name: value' is a request header)\n"
"  -q, --quiet              no summary on stderr\n"
"      --progress           status line on stderr even when it is not a\n"
"                           terminal (then a line every 2 s) or with -q\n"
"      --no-progress        no status line (default: shown when stderr is\n"
"                           a terminal and not -q)\n" },
    { "request", "Request",
"  -X, --method NAME        request method (default GET)\n"
"      --path PATH          path for targets that give none (default /);\n"
"                           given twice or more: a path list, as --paths\n"
"      --paths FILE         one record per target and path in FILE (one\n"
"                           per line, '#' comments), the path replacing\n"
"                           the input's own; each record has \"path\"\n"
"  -H, --header 'N: v'      add a request header (repeatable; 'N:' removes\n"
"                           a default one); without a colon, --header NAME\n"
"                           is a response-header column (Output)\n"
"  -A, --user-agent STR     User-Agent (default hscan/VERSION)\n"
"  -u, --user USER:PASS     Authorization: Basic (as curl -u; an explicit\n"
"                           -H Authorization wins); never prompts\n"
"  -d, --data STR           request body, POST unless -X, with\n"
"                           Content-Type: application/x-www-form-urlencoded\n"
"                           unless -H names one; @FILE: FILE without CR/LF;\n"
"                           repeatable, joined with '&' (as curl)\n"
"      --data-file FILE     request body: FILE's bytes as they are (like\n"
"                           -d; body at most 16 MiB)\n"
"  Long options only by full name; options other than -H, -d, --data-file,\n"
"  --path, --paths, --resolver, --exclude, --source-ip, --fields and the\n"
"  filter lists at most once.\n" },
    { "tls", "HTTPS",
"      --http1.1            offer only http/1.1 in TLS ALPN (default: h2\n"
"                           and http/1.1, as curl; the server picks)\n"
"      --http2              offer only h2: a server that does not pick it\n"
"                           is the error h2_not_negotiated\n"
"      --h2c                speak HTTP/2 with prior knowledge to http://\n"
"                           targets (default: HTTP/1.1)\n"
"      --tls-timeout D      TLS handshake (default 5)\n"
"      --ca-file FILE       also trust the CA certificates in FILE (PEM)\n"
"  -k, --insecure           report certificates that fail verification\n"
"                           instead of failing with tls_cert_invalid\n"
"      --tls-chain          every certificate sent, with its facts, and the\n"
"                           verified path in tls.chain and\n"
"                           tls.verified_chain\n"
"      --sni NAME           send NAME as the TLS server name and verify\n"
"                           the certificate against it (default: the host)\n"
"      --no-sni             send no server name (the host is verified)\n"
"      --tls-min V          oldest TLS version offered: 1.0, 1.1, 1.2, 1.3\n"
"      --tls-max V          newest TLS version offered\n"
"      --ciphers LIST       TLS 1.2 and older ciphers (OpenSSL syntax)\n"
"      --ciphersuites LIST  TLS 1.3 suites, colon-separated\n"
"      --curves LIST        key exchange groups, colon-separated\n"
"      --cert FILE          client certificate (PEM) for servers that ask\n"
"      --key FILE           its private key (PEM; default: in --cert)\n" },
    { "proxy", "Proxy",
"      --proxy URL          connect through a proxy: http://HOST[:PORT]\n"
"                           (CONNECT, for http and https targets; the\n"
"                           proxy resolves names), socks5://... (names\n"
"                           resolved here) or socks5h://... (by the\n"
"                           proxy); USER:PASS@ before the host for\n"
"                           credentials. Records show it in \"proxy\"\n"
"      --no-proxy LIST      reach these directly: names (and their\n"
"                           subdomains), addresses, CIDRs, or *\n"
"      --proxy-timeout D    the proxy's handshake (default 5)\n" },
    { "speed", "Speed and politeness",
"  -c, --concurrency N      targets in flight at once (default 1000;\n"
"                           lowered to fit the open-files limit)\n"
"      --rate N             start at most N targets per second, evenly\n"
"      --burst N            ... of which up to N back to back (N/50)\n"
"      --max-per-ip N       connections open at once to one address\n"
"                           (default 4; 0: no limit); the wait is not\n"
"                           charged to the target's timeouts\n"
"      --retries N          try a target again, up to N times (0-10;\n"
"                           default 0), after a failure before the\n"
"                           server sent a byte (refused, reset, connect\n"
"                           timeout); jittered back-off 100 ms to 2 s,\n"
"                           within --timeout. Records say \"attempts\"\n"
"      --source-ip ADDR     bind connections to this local address\n"
"                           (repeatable: round robin per family)\n"
"  -4 / -6                  resolve and connect over IPv4 / IPv6 only\n"
"      --prefer-ipv6        a name's IPv6 addresses first, the families\n"
"                           alternating; an attempt still silent after\n"
"                           the attempt delay is raced by the next\n"
"                           address (RFC 8305). Default: IPv4 then IPv6,\n"
"                           one attempt at a time\n"
"      --prefer-ipv4        the same, IPv4 first\n"
"      --attempt-delay D    with a preference: how long an attempt runs\n"
"                           alone (default 0.25; 10ms to 2s)\n" },
    { "dns", "DNS",
"      --resolver IP[:PORT] DNS server (repeatable; default resolv.conf);\n"
"                           several share the queries, and a SERVFAIL or\n"
"                           REFUSED is asked again of another\n"
"      --dns-rate N         at most N queries per second per resolver\n"
"                           (A and AAAA count one each; default no cap)\n"
"      --dns-cache N        answers kept for reuse within their TTL\n"
"                           (default 4096; 0 none)\n" },
    { "limits", "Limits (durations: seconds, fractions allowed, or NNNms)",
"      --timeout D          whole target (default 15)\n"
"      --dns-timeout D      DNS lookup (default 5)\n"
"      --connect-timeout D  each TCP connect attempt (default 5)\n"
"      --read-timeout D     no byte received for this long (default 10)\n"
"      --max-header-bytes N response header block (default 65536, min 64)\n"
"      --max-headers N      response header fields (default 256)\n" },
    { "examples", "Examples",
"  hscan-cli domains.txt                       # a table on a terminal\n"
"  hscan-cli domains.txt > out.jsonl           # JSON Lines in a pipe\n"
"  hscan-cli -c 5000 --timeout 3 --resolver 1.1.1.1 big.txt -o out.jsonl\n"
"  hscan-cli --resume out.jsonl big.txt        # after an interruption\n"
"  hscan-cli -f csv --fields input,status,title,server list.txt > a.csv\n"
"  hscan-cli --header Server --header X-Powered-By list.txt\n"
"  hscan-cli --audit --match-status 200 -f table list.txt\n"
"  echo 10.0.0.0/24 | hscan-cli --ports 80,443,8080 --only-ok\n"
"  hscan-cli --match-header 'Server: ^nginx' --follow 3 list.txt\n"
"  hscan-cli --shard 2/8 big.txt -o shard-2.jsonl    # one of 8 machines\n"
"  jq -r 'select(.status==200) | .host' out.jsonl\n" },
};

#define N_GROUPS (sizeof(groups) / sizeof(groups[0]))

/* The topic names, comma-separated, lines broken before column 76
 * and continued at column `indent`. */
static void topics(FILE *f, int col, int indent)
{
    size_t i;

    for (i = 0; i < N_GROUPS; i++) {
        int n = (int)strlen(groups[i].topic) + 2;
        if (i && col + n > 76) {
            fprintf(f, ",\n%*s", indent, "");
            col = indent;
        } else if (i) {
            fputs(", ", f);
        }
        fputs(groups[i].topic, f);
        col += n;
    }
    fputc('\n', f);
}

int cli_help(const char *topic)
{
    size_t i;

    if (topic) {
        for (i = 0; i < N_GROUPS; i++) {
            if (strcmp(topic, groups[i].topic) == 0) {
                printf("%s:\n%s", groups[i].title, groups[i].text);
                return 0;
            }
        }
        fprintf(stderr, "hscan-cli: --help: \"%s\": not a topic; the "
                "topics are:\n  ", topic);
        topics(stderr, 2, 2);
        return -1;
    }
    printf("Usage: hscan-cli [OPTIONS] [FILE...]\n"
           "Probe every target in FILEs (or stdin) over HTTP and HTTPS, "
           "many at once on\none thread, and write what each answered "
           "(status, headers, title, TLS\ncertificate, timings, or why "
           "it failed): a table on a terminal, else one\nJSON record "
           "per target (JSON Lines).  hscan %s\n", hscan_version());
    for (i = 0; i < N_GROUPS; i++)
        printf("\n%s:\n%s", groups[i].title, groups[i].text);
    printf("\nOther:\n"
           "  -h, --help[=TOPIC]       this help, or one group of it; "
           "TOPIC one of:\n                           ");
    topics(stdout, 27, 27);
    printf("  -V, --version            the version\n"
           "\nExit status: 0 the scan ran (even if targets failed), 1 an "
           "input or output\nerror, 2 a usage error, 130/143 interrupted "
           "by SIGINT/SIGTERM.\n");
    printf("Every option, field and error: hscan-cli(1), docs/cli.md, "
           "docs/results.md.\n");
    return 0;
}
