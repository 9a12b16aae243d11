#!/usr/bin/env bash
# Side-by-side figures for the core (issue #2), measured in one run on this machine:
#   1. hashing + mirroring a 1 GiB file (directory remote): user CPU vs `openssl dgst -sha256`;
#   2. a no-op resync of 20,000 unchanged files vs `rclone sync` between two local folders;
#   3. uploading a 1 GiB file to a local S3 server (moto): Lifeboat's peak RSS;
#   4. mirroring 1,000 small files plus two 40 MiB files to that server: CPU seconds vs `rclone copy`.
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
cpu_seconds() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
peak_rss_mib() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.1f", $1 / 1024}'; }
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

# --- S3 scenarios against a local moto server (no signature checking: it measures transfer) ---
unset AWS_CA_BUNDLE REQUESTS_CA_BUNDLE CURL_CA_BUNDLE
exec 3< <(sleep 3600)
coproc MOTO { python3 Tests/Support/moto_fixture.py --unsigned <&3; }
read -r moto_json <&"${MOTO[0]}"
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$moto_json" "$1"; }
endpoint=$(field endpoint); bucket=$(field bucket)
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
s3conf() { # NAME WATCHDIR
    printf 'LIFEBOAT_WATCH=%s=%s\nLIFEBOAT_REMOTE=s3://%s/%s\nLIFEBOAT_S3_ENDPOINT=%s\nLIFEBOAT_JOURNAL=%s/%s.db\n' \
        "$1" "$2" "$bucket" "$1" "$endpoint" "$work" "$1" > "$work/$1.conf"
}
s3conf bigs3 "$work/big"
rm -f "$work/bigs3.db"*
echo "upload 1 GiB to S3: lifeboat peak RSS $(peak_rss_mib "$lifeboat" resync --config "$work/bigs3.conf") MiB"

mkdir -p "$work/mixed"
for i in $(seq 1 1000); do head -c $((1024 + i * 37)) /dev/urandom > "$work/mixed/small-$i.bin"; done
head -c $((40 << 20)) /dev/urandom > "$work/mixed/large-1.mp4"
head -c $((40 << 20)) /dev/urandom > "$work/mixed/large-2.mp4"
export RCLONE_CONFIG_MOTO_TYPE=s3 RCLONE_CONFIG_MOTO_PROVIDER=Other RCLONE_CONFIG_MOTO_ENDPOINT="$endpoint" \
    RCLONE_CONFIG_MOTO_ACCESS_KEY_ID=testing RCLONE_CONFIG_MOTO_SECRET_ACCESS_KEY=testing RCLONE_CONFIG_MOTO_FORCE_PATH_STYLE=true
lifeboat_cpu=$(for r in $(seq "$runs"); do s3conf "mixed$r" "$work/mixed"; cpu_seconds "$lifeboat" resync --config "$work/mixed$r.conf"; done | median)
rclone_cpu=$(for r in $(seq "$runs"); do cpu_seconds rclone copy "$work/mixed" "moto:$bucket/rclone$r"; done | median)
echo "mirror 1,000 small + 2x40 MiB to S3: lifeboat ${lifeboat_cpu} CPU s, rclone copy ${rclone_cpu} CPU s, ratio $(echo "scale=2; $lifeboat_cpu / $rclone_cpu" | bc)"
exec 3<&-
kill "$MOTO_PID" 2>/dev/null || true
