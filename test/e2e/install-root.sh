#!/usr/bin/env bash
# Make a fresh Debian 12 (bookworm) root in DIR for test/e2e/install-debootstrap.test.ts: debootstrap minbase from
# the machine's own Debian mirror, or the same root unpacked from /var/cache/portier-ci when a run today made it.
#   test/e2e/install-root.sh DIR
set -euo pipefail
dir=$1
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(awk '/^deb / && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
cache_dir=/var/cache/portier-ci
key=$(printf '%s' "$mirror" | sha256sum | cut -c1-12)
cache="$cache_dir/install-root-bookworm-$(date -u +%F)-$key.tar"
mkdir -p "$dir"
if [ -f "$cache" ]; then
  echo "install-root: from the cache $cache"
  tar -xf "$cache" -C "$dir"
  exit 0
fi
echo "install-root: debootstrap bookworm from $mirror"
debootstrap --variant=minbase --include=ca-certificates bookworm "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 ||
  { tail -20 "$dir.debootstrap.log"; exit 1; }
rm -f "$dir.debootstrap.log"
cat >"$dir/etc/apt/sources.list" <<LIST
deb $mirror bookworm main
deb $mirror bookworm-updates main
LIST
chroot "$dir" apt-get clean
mkdir -p "$cache_dir"
rm -f "$cache_dir"/install-root-bookworm-*-"$key".tar
tar -cf "$cache.partial" -C "$dir" . && mv "$cache.partial" "$cache"
echo "install-root: cached as $cache"
