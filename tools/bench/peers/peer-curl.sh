#!/bin/sh
# peer-curl.sh: the benchmark's curl peer. One curl process running every
# transfer with --parallel, the way one scans a URL list with the curl
# tool.
#
# usage: sh peer-curl.sh -c N -t SECONDS [--cafile PATH] FILE
#
# FILE ("-" is stdin) holds one URL per line; blank lines are skipped.
# Writes one JSON line per URL on stdout, in completion order:
#   {"input":"URL","status":200}  or  {"input":"URL","error":"timeout"}
#
# The script turns FILE into a -K config, then execs curl, so the
# process the driver measures (wait4: peak RSS, CPU) is curl itself.
# curl 7.88's -w cannot emit "status" on success and "error" on failure
# (%{onerror} only appends), and leaves %{url} and %{errormsg}
# unescaped; so curl writes a tab-separated line per transfer into a
# FIFO and a small awk outside the measured process turns it into JSON.
# Caveats: curl runs at most 300 transfers at once; it reads the whole config
# into memory before starting (memory grows with the input); it exits
# with the code of a failed transfer (28 after a timeout...), not 0, as
# the driver's measured exit status; 2 or 26/27 mean curl itself failed.
# -s alone does not hide 7.88's --parallel progress meter.
set -eu

usage() {
    echo "usage: peer-curl.sh -c N -t SECONDS [--cafile PATH] FILE" >&2
    exit 2
}

conc=100
secs=10
cafile=
file=
while [ $# -gt 0 ]; do
    case $1 in
    -c) [ $# -ge 2 ] || usage; conc=$2; shift 2 ;;
    -t) [ $# -ge 2 ] || usage; secs=$2; shift 2 ;;
    --cafile) [ $# -ge 2 ] || usage; cafile=$2; shift 2 ;;
    -) [ -z "$file" ] || usage; file=-; shift ;;
    -*) usage ;;
    *) [ -z "$file" ] || usage; file=$1; shift ;;
    esac
done
[ -n "$file" ] || usage
case $conc in '' | *[!0-9]*) usage ;; esac
[ "$conc" -ge 1 ] || usage
if [ "$conc" -gt 300 ]; then
    # curl 7.88 silently clamps --parallel-max to 300 (MAX_PARALLEL):
    # 1,200 one-second hangs take 4 s at 300, 600 or 1,200 alike. Clamp
    # here too, and say so, so the log shows what really ran.
    echo "peer-curl: curl allows at most 300 parallel transfers;" \
         "running -c 300, not $conc" >&2
    conc=300
fi
if [ "$file" != - ] && [ ! -r "$file" ]; then
    echo "peer-curl: $file: cannot read" >&2
    exit 2
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/peer-curl.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM

# Config syntax: a quoted value takes \\ and \" escapes.
cat -- "$file" | awk '
{
    sub(/\r$/, ""); sub(/^[ \t]+/, ""); sub(/[ \t]+$/, "")
    if ($0 == "") next
    gsub(/\\/, "\\\\\\\\"); gsub(/"/, "\\\"")
    printf "url = \"%s\"\noutput = \"/dev/null\"\n", $0
}' > "$dir/cfg"
if [ ! -s "$dir/cfg" ]; then
    exit 0                      # curl refuses a run without URLs
fi
mkfifo "$dir/out"

# The JSON writer. It opens the FIFO before curl does, and keeps our
# stdout, so whoever reads it sees EOF only after the last record.
{
    trap - EXIT INT TERM
    rm -rf "$dir"               # both ends are open by now
    exec awk -F '\t' '
    BEGIN {
        for (i = 1; i < 32; i++)
            ctl[sprintf("%c", i)] = sprintf("\\u%04x", i)
    }
    function esc(s,    i, c, r) {
        if (s !~ /["\\\001-\037]/) return s
        r = ""
        for (i = 1; i <= length(s); i++) {
            c = substr(s, i, 1)
            if (c == "\"" || c == "\\") r = r "\\" c
            else if (c in ctl) r = r ctl[c]
            else r = r c
        }
        return r
    }
    function kind(code, msg) {
        if (code == 6 || code == 5) return "dns"
        if (code == 28) return "timeout"
        # 7.88 reports refused and unreachable alike as code 7; say
        # refused only when the message does.
        if (code == 7) return msg ~ /refused/ ? "connect refused" : "connect"
        if (msg ~ /reset by peer|[Bb]roken pipe/) return "reset"
        if (code == 35 || code == 51 || code == 53 || code == 54 ||
            code == 58 || code == 59 || code == 60 || code == 64 ||
            code == 66 || code == 77 || code == 80 || code == 83 ||
            code == 90 || code == 91) return "tls"
        if (code == 52) return "closed"
        if (code == 1 || code == 3) return "bad url"
        if (code == 8) return "bad response"
        return "curl " code ": " msg
    }
    {
        # exitcode, http_code, errormsg, then the URL (the rest).
        url = $0
        sub(/^[^\t]*\t[^\t]*\t[^\t]*\t/, "", url)
        if ($1 == 0)
            printf "{\"input\":\"%s\",\"status\":%d}\n", esc(url), $2
        else
            printf "{\"input\":\"%s\",\"error\":\"%s\"}\n", esc(url),
                   esc(kind($1 + 0, $3))
    }'
} < "$dir/out" &

set -- --parallel --parallel-immediate --parallel-max "$conc" \
    --globoff --silent --no-progress-meter --proto '=http,https' \
    --max-time "$secs" \
    --user-agent 'hscan-bench-peer-curl/1' --header 'Connection: close' \
    --write-out '%{exitcode}\t%{http_code}\t%{errormsg}\t%{url}\n'
if [ -n "$cafile" ]; then
    set -- "$@" --cacert "$cafile"
fi
trap - EXIT INT TERM
exec curl "$@" --config - < "$dir/cfg" > "$dir/out"
