#!/usr/bin/env bash
# Side-by-side figures for the core (issue #2), measured in one run on this machine:
#   1. hashing + mirroring a 1 GiB file (directory remote): user CPU vs `openssl dgst -sha256`;
#   2. a no-op resync of 20,000 unchanged files vs `rclone sync` between two local folders.
# Prints ratios; absolute times on shared machines are noise. Usage: bench/core.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/lifeboat-bench}"
runs="${RUNS:-3}"

command -v rclone >/dev/null || { apt-get install -y -qq rclone >/dev/null; }
swift build -c release --product lifeboat >/dev/null
lifeboat="$PWD/.build/release/lifeboat"

rm -rf "$work" && mkdir -p "$work"/{big,remote-big,many,remote-many,rclone-many}
head -c $((1 << 30)) /dev/urandom > "$work/big/render.mp4"

# user seconds of a command, via GNU time.
user_seconds() { /usr/bin/time -f "%U" "$@" 2>&1 >/dev/null | tail -1; }
wall_seconds() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

conf_big="$work/big.conf"
printf 'LIFEBOAT_WATCH=big=%s/big\nLIFEBOAT_REMOTE=file://%s/remote-big\nLIFEBOAT_JOURNAL=%s/big.db\n' "$work" "$work" "$work" > "$conf_big"
openssl_user=$(for _ in $(seq "$runs"); do user_seconds openssl dgst -sha256 "$work/big/render.mp4"; done | median)
lifeboat_user=$(for _ in $(seq "$runs"); do rm -rf "$work/big.db"* "$work/remote-big"/*; user_seconds "$lifeboat" resync --config "$conf_big"; done | median)
echo "hash+mirror 1 GiB: lifeboat user ${lifeboat_user}s, openssl dgst user ${openssl_user}s, ratio $(echo "scale=2; $lifeboat_user / $openssl_user" | bc)"

for i in $(seq 0 199); do
    mkdir -p "$work/many/d$i"
    for j in $(seq 0 99); do printf '%d-%d\n' "$i" "$j" > "$work/many/d$i/f$j.bin"; done
done
conf_many="$work/many.conf"
printf 'LIFEBOAT_WATCH=many=%s/many\nLIFEBOAT_REMOTE=file://%s/remote-many\nLIFEBOAT_JOURNAL=%s/many.db\n' "$work" "$work" "$work" > "$conf_many"
"$lifeboat" resync --config "$conf_many" >/dev/null
rclone sync "$work/many" "$work/rclone-many" >/dev/null 2>&1
lifeboat_wall=$(for _ in $(seq "$runs"); do wall_seconds "$lifeboat" resync --config "$conf_many"; done | median)
rclone_wall=$(for _ in $(seq "$runs"); do wall_seconds rclone sync "$work/many" "$work/rclone-many"; done | median)
echo "no-op resync of 20,000 files: lifeboat ${lifeboat_wall}s, rclone sync ${rclone_wall}s, ratio $(echo "scale=2; $lifeboat_wall / $rclone_wall" | bc)"
