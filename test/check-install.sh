#!/bin/sh
# meson install puts the header, both libraries, hscan.pc, the CLI and the
# man page in place, and a program builds against them through pkg-config,
# linked shared and static.  Usage: check-install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild >/dev/null
pc=$(dirname "$(find "$dest" -name hscan.pc)")
for f in bin/hscan-cli include/hscan.h share/man/man1/hscan-cli.1; do
    [ -e "$dest/usr/local/$f" ] || { echo "missing $f"; exit 1; }
done
ls "$pc"/../libhscan.so.0 "$pc"/../libhscan.a >/dev/null
export PKG_CONFIG_PATH="$pc" PKG_CONFIG_SYSROOT_DIR="$dest"
# the sysroot prefixes -I/-L, the .pc's prefix stays /usr/local
cflags=$(pkg-config --cflags hscan)
cc -std=gnu11 -Wall -Werror $cflags -o "$dest/ex-shared" \
    "$src/test/example-scan.c" $(pkg-config --libs hscan)
cc -std=gnu11 -Wall -Werror $cflags -o "$dest/ex-static" \
    "$src/test/example-scan.c" "$pc/../libhscan.a" \
    $(pkg-config --libs-only-l --static hscan | sed 's/-lhscan//')
LD_LIBRARY_PATH="$pc/.." "$dest/ex-shared" --version
"$dest/ex-static" --version
echo "install layout and pkg-config linking ok"
