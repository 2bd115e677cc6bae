#!/bin/sh
# Install what is missing, build, then scan for real: the bundled loopback
# demo servers (a DNS server and an HTTP server with one behaviour per
# name, from test/) stand in for the internet, so this works offline.
# Prints one JSON record per demo target (plain HTTP behaviours, then
# HTTPS, fallback and redirects), then scans 20,000 more names and prints
# the summary line.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

tmp=$(mktemp -d)
trap 'kill $testd 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
build/test/hscan-testd --lifetime 600 >"$tmp/ports" &
testd=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -s "$tmp/ports" ] && grep -q '^http' "$tmp/ports" && break
    sleep 0.2
done
for _ in 1 2 3 4 5 6 7 8 9 10; do
    grep -q '^ca' "$tmp/ports" && break
    sleep 0.2
done
dns=$(awk '/^dns/ {print $2}' "$tmp/ports")
hp=$(awk '/^http / {print $2}' "$tmp/ports" | cut -d: -f2)
tp=$(awk '/^https/ {print $2}' "$tmp/ports" | cut -d: -f2)
ca=$(awk '/^ca/ {print $2}' "$tmp/ports")

for b in fast delay r301 notfound error http10 chunked many ctl early \
         cname multi hang close reset garbage badstatus nx servfail drop; do
    echo "$b.test:$hp"
done >"$tmp/demo.txt"
printf 'not a host!\n127.0.0.1:%s/b/fast\n' "$hp" >>"$tmp/demo.txt"

echo "== hscan-cli over $(wc -l <"$tmp/demo.txt") demo targets" \
     "(resolver $dns) ==" >&2
# Every demo server is on 127.0.0.1: --max-per-ip 0 lifts the default
# limit of 4 connections at once to one address.
build/tools/hscan-cli --scheme http --resolver "$dns" --timeout 3 --read-timeout 2 \
    --dns-timeout 1 --max-per-ip 0 "$tmp/demo.txt"

# HTTPS (the demo CA is trusted with --ca-file), https-first falling
# back to HTTP, certificate failures, and a redirect chain from http to
# https followed to its end.
cat >"$tmp/tls.txt" <<EOT
valid.test:$tp
fast.test:$hp
expired.test:$tp
wrongname.test:$tp
selfsigned.test:$tp
http://fast.test:$hp/r?to=https://valid.test:$tp/chain-2
EOT
echo "== hscan-cli --follow 5 over $(wc -l <"$tmp/tls.txt") HTTPS targets ==" >&2
build/tools/hscan-cli --resolver "$dns" --ca-file "$ca" --follow 5 \
    --timeout 3 --max-per-ip 0 "$tmp/tls.txt"

awk -v p="$hp" 'BEGIN { for (i = 0; i < 20000; i++)
    printf "h%d.fast.test:%s\n", i, p }' >"$tmp/big.txt"
echo "== hscan-cli over 20000 names, concurrency 2000 ==" >&2
build/tools/hscan-cli --scheme http --resolver "$dns" -c 2000 --max-per-ip 0 \
    "$tmp/big.txt" -o "$tmp/big.jsonl"
echo "records written: $(wc -l <"$tmp/big.jsonl")" >&2
