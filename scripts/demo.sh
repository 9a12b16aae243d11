#!/usr/bin/env bash
# A first look at Lifeboat in a minute: builds it, makes demo folders under /tmp/lifeboat-demo
# shaped like a media application's (output/, voice_clone/, digital_human/), writes a few files,
# and mirrors them to a directory remote with the configuration in demo/agent.conf.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build --product lifeboat
lifeboat=".build/debug/lifeboat"

demo=/tmp/lifeboat-demo
mkdir -p "$demo"/{output/2026-11-25,voice_clone,digital_human/avatar-7,remote}
printf 'generated video placeholder %s\n' "$(date)" > "$demo/output/2026-11-25/render 001.mp4"
printf 'voice embedding %s\n' "$RANDOM" > "$demo/voice_clone/speaker-42.npy"
printf 'avatar mesh\n' > "$demo/digital_human/avatar-7/mesh.glb"
printf 'half-written\n' > "$demo/output/upload.part"   # excluded by default: never mirrored

echo "== lifeboat resync"
"$lifeboat" resync --config demo/agent.conf
echo
echo "== what landed in $demo/remote"
(cd "$demo/remote" && find . -type f | sort)
echo
echo "== lifeboat status"
"$lifeboat" status --config demo/agent.conf
echo
echo "Now watch continuously (Ctrl-C stops it): $lifeboat run --config demo/agent.conf"
echo "and write files under $demo/output: each appears in $demo/remote about a second after it is closed."
