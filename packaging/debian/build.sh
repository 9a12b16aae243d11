#!/usr/bin/env bash
# Builds lifeboat_VERSION_ARCH.deb into OUTDIR.
#
#   packaging/debian/build.sh [--binary FILE] [--version VERSION] [--allow-unpackaged-libs] OUTDIR
#
# Without --binary it runs `swift build -c release --static-swift-stdlib --product lifeboat` in
# the repository (an up-to-date build is reused; extra flags such as --scratch-path DIR can be
# passed in SWIFT_BUILD_FLAGS). --static-swift-stdlib matters: the Swift runtime is not a Debian
# package, so a binary that links it dynamically only runs where the same toolchain is installed.
#
# The package holds:
#   /usr/bin/lifeboat                         (debug info stripped, symbols kept)
#   /lib/systemd/system/lifeboat.service      (packaging/systemd/lifeboat.service)
#   /etc/lifeboat/agent.conf                  (agent.conf.example; a conffile, 0640 root:lifeboat)
#   /usr/share/doc/lifeboat/                  (README.md, agent.conf.example, docs/*.md)
# Depends: the packages providing the libraries the binary links (dpkg-shlibdeps on the binary,
# or `dpkg -S` on its ldd output when dpkg-dev is not installed), plus adduser and
# ca-certificates. postinst creates the lifeboat system user and group and /var/lib/lifeboat; it
# does not enable the service, which needs a configuration first.
#
# Needs dpkg-deb (dpkg) and, to compute Depends precisely, dpkg-shlibdeps (dpkg-dev).
# Prints the path of the .deb on stdout.
set -euo pipefail

usage() {
    sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

die() {
    echo "build.sh: $*" >&2
    exit 1
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

binary=""
version=""
allow_unpackaged=false
outdir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) [ $# -ge 2 ] || usage; binary="$2"; shift 2 ;;
        --binary=*) binary="${1#*=}"; shift ;;
        --version) [ $# -ge 2 ] || usage; version="$2"; shift 2 ;;
        --version=*) version="${1#*=}"; shift ;;
        --allow-unpackaged-libs) allow_unpackaged=true; shift ;;
        -h|--help) usage ;;
        -*) echo "build.sh: unknown option $1" >&2; usage ;;
        *) [ -z "$outdir" ] || usage; outdir="$1"; shift ;;
    esac
done
[ -n "$outdir" ] || usage

command -v dpkg-deb >/dev/null || die "dpkg-deb not found (install dpkg)"

# --------------------------------------------------------------------------------- the binary
if [ -z "$binary" ]; then
    command -v swift >/dev/null || die "swift not found; install a Swift 6.2+ toolchain or pass --binary FILE"
    # shellcheck disable=SC2206 # SWIFT_BUILD_FLAGS is split on purpose
    flags=(-c release --static-swift-stdlib ${SWIFT_BUILD_FLAGS:-})
    echo "build.sh: swift build ${flags[*]} --product lifeboat" >&2
    (cd "$repo" && swift build "${flags[@]}" --product lifeboat >&2)
    binary="$(cd "$repo" && swift build "${flags[@]}" --show-bin-path)/lifeboat"
fi
if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then die "$binary is not an executable file"; fi
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"

if [ -z "$version" ]; then
    version="$("$binary" --version)" || die "could not run $binary --version; pass --version"
fi
# A Debian version must start with a digit and use only [A-Za-z0-9.+~-].
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "version '$version' is not a valid Debian version"
arch="$(dpkg --print-architecture)"
# Debian's usual variables name the maintainer (lintian rejects a localhost address).
maintainer="${DEBFULLNAME:-Lifeboat maintainers} <${DEBEMAIL:-lifeboat@example.org}>"

# Every linked library must resolve here, or the package could not be checked.
ldd_out="$(ldd "$binary" 2>&1)" || die "ldd $binary failed: $ldd_out"
if grep -q 'not found' <<<"$ldd_out"; then
    die "$binary links libraries that are not installed:"$'\n'"$(grep 'not found' <<<"$ldd_out")"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# ------------------------------------------------------------------------------ dependencies
# The libraries the binary names itself (DT_NEEDED), resolved to paths. Libraries that only
# those libraries need are their packages' business, as in any Debian package.
needed_paths() {
    local lib path
    while read -r lib; do
        path="$(awk -v l="$lib" '$1 == l && $2 == "=>" { print $3; exit }' <<<"$ldd_out")"
        [ -n "$path" ] && echo "$path"
    done < <(objdump -p "$binary" 2>/dev/null | awk '$1 == "NEEDED" { print $2 }')
}

# The package owning a library file, trying the path as given and with /usr merged or not.
owner_of() {
    local p="$1" real candidates c out
    real="$(readlink -f "$p")"
    candidates=("$p" "$real")
    for c in "$p" "$real"; do
        case "$c" in
            /usr/lib/*) candidates+=("${c#/usr}") ;;
            /lib/*) candidates+=("/usr$c") ;;
        esac
    done
    for c in "${candidates[@]}"; do
        if out="$(dpkg -S "$c" 2>/dev/null)"; then
            cut -d: -f1 <<<"${out%%$'\n'*}"
            return 0
        fi
    done
    return 1
}

unpackaged=()
if command -v objdump >/dev/null; then
    mapfile -t needed < <(needed_paths)
else
    # Without binutils, every resolved library counts (a superset; still correct).
    mapfile -t needed < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 }' <<<"$ldd_out")
fi
for lib in "${needed[@]}"; do
    owner_of "$lib" >/dev/null || unpackaged+=("$lib")
done
if [ "${#unpackaged[@]}" -gt 0 ]; then
    msg="$binary links libraries that no Debian package provides:"
    for lib in "${unpackaged[@]}"; do msg+=$'\n'"  $lib"; done
    msg+=$'\n'"(the Swift runtime? build with --static-swift-stdlib)"
    if $allow_unpackaged; then
        echo "build.sh: warning: $msg"$'\n'"build.sh: warning: --allow-unpackaged-libs: leaving them out of Depends; this package runs only where they exist at the same paths" >&2
    else
        die "$msg"
    fi
fi

shlibs=""
if command -v dpkg-shlibdeps >/dev/null; then
    # dpkg-shlibdeps wants a source tree: a minimal debian/control is enough.
    mkdir -p "$work/src/debian"
    cat >"$work/src/debian/control" <<EOF
Source: lifeboat
Maintainer: $maintainer

Package: lifeboat
Architecture: any
EOF
    shlibs_out="$(cd "$work/src" && dpkg-shlibdeps -O --ignore-missing-info --warnings=0 "-e$binary" 2>"$work/shlibdeps.err")" \
        || die "dpkg-shlibdeps failed: $(cat "$work/shlibdeps.err")"
    shlibs="$(sed -n 's/^shlibs:Depends=//p' <<<"$shlibs_out")"
else
    echo "build.sh: dpkg-shlibdeps not found (dpkg-dev); Depends from dpkg -S without minimum versions" >&2
    declare -A seen=()
    for lib in "${needed[@]}"; do
        pkg="$(owner_of "$lib")" || continue
        [ -n "${seen[$pkg]:-}" ] && continue
        seen[$pkg]=1
        shlibs+="${shlibs:+, }$pkg"
    done
fi
[ -n "$shlibs" ] || die "could not compute the library dependencies of $binary"
depends="$shlibs, adduser, ca-certificates"

# ----------------------------------------------------------------------------------- staging
root="$work/root"
install -D -m 0755 "$binary" "$root/usr/bin/lifeboat"
# Drop the DWARF (the bulk of a release build) but keep the symbol table: crash backtraces
# still name functions.
if command -v strip >/dev/null; then
    strip --strip-debug "$root/usr/bin/lifeboat"
fi
install -D -m 0644 "$repo/packaging/systemd/lifeboat.service" "$root/lib/systemd/system/lifeboat.service"
install -D -m 0640 "$repo/agent.conf.example" "$root/etc/lifeboat/agent.conf"
install -d -m 0755 "$root/usr/share/doc/lifeboat"
install -m 0644 "$repo/README.md" "$repo/agent.conf.example" "$root/usr/share/doc/lifeboat/"
if [ -d "$repo/docs" ]; then
    find "$repo/docs" -maxdepth 1 -name '*.md' -exec install -m 0644 {} "$root/usr/share/doc/lifeboat/" \;
fi
# A native package's changelog: one entry for this build.
{
    echo "lifeboat ($version) unstable; urgency=medium"
    echo
    echo "  * Built from commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)."
    echo
    echo " -- $maintainer  $(date -R)"
} | gzip -9n >"$root/usr/share/doc/lifeboat/changelog.gz"
chmod 0644 "$root/usr/share/doc/lifeboat/changelog.gz"

install -d -m 0755 "$root/DEBIAN"
installed_size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
cat >"$root/DEBIAN/control" <<EOF
Package: lifeboat
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends
Section: admin
Priority: optional
Description: mirror generated files to S3-compatible storage
 Lifeboat watches directories with inotify, hashes every new or changed file
 with SHA-256, records it in a local SQLite journal and mirrors it to AWS S3,
 Cloudflare R2, MinIO, Ceph RGW, Backblaze B2 or a mounted directory, so that
 files an application generates survive the loss of its disk and can be
 restored onto a fresh machine.
 .
 Configure /etc/lifeboat/agent.conf, then: systemctl enable --now lifeboat
EOF

echo "/etc/lifeboat/agent.conf" >"$root/DEBIAN/conffiles"

cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e

if [ "$1" = "configure" ]; then
    if ! getent group lifeboat >/dev/null; then
        addgroup --system --quiet lifeboat
    fi
    if ! getent passwd lifeboat >/dev/null; then
        adduser --system --quiet --ingroup lifeboat --home /var/lib/lifeboat \
            --no-create-home --shell /usr/sbin/nologin lifeboat
    fi
    install -d -o lifeboat -g lifeboat -m 0750 /var/lib/lifeboat
    # The configuration may hold credentials: readable by root and the service only. A stat
    # override survives upgrades that replace the conffile.
    if ! dpkg-statoverride --list /etc/lifeboat/agent.conf >/dev/null 2>&1; then
        dpkg-statoverride --update --add root lifeboat 0640 /etc/lifeboat/agent.conf
    fi
    if [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload >/dev/null 2>&1 || true
        if [ -n "$2" ]; then
            # An upgrade: a running agent picks up the new binary.
            deb-systemd-invoke try-restart lifeboat.service >/dev/null 2>&1 || true
        else
            echo "lifeboat: edit /etc/lifeboat/agent.conf, then: systemctl enable --now lifeboat"
        fi
    fi
fi

exit 0
EOF

cat >"$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e

if [ "$1" = "remove" ] && [ -d /run/systemd/system ]; then
    # SIGTERM: uploads in flight finish; the rest stays queued in the journal.
    deb-systemd-invoke stop lifeboat.service >/dev/null 2>&1 || true
fi

exit 0
EOF

cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e

if [ "$1" = "purge" ]; then
    if dpkg-statoverride --list /etc/lifeboat/agent.conf >/dev/null 2>&1; then
        dpkg-statoverride --remove /etc/lifeboat/agent.conf
    fi
    # The journal only; the mirrored files live in the remote. The lifeboat user stays, as
    # Debian leaves system users in place (files may still belong to it).
    rm -rf /var/lib/lifeboat
    rmdir /etc/lifeboat 2>/dev/null || true
fi
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null 2>&1 || true
fi

exit 0
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

mkdir -p "$outdir"
deb="$(cd "$outdir" && pwd)/lifeboat_${version}_${arch}.deb"
dpkg-deb --build --root-owner-group "$root" "$deb" >&2
echo "$deb"
