#!/usr/bin/env bash
# The public ABI of libsbp.so.0 against the committed baseline
# tests/abi/libsbp.abi (libabigail: abidw / abidiff, Debian abigail-tools).
#
# Usage: tests/abi/check.sh [--update] [LIBRARY]
#   LIBRARY   a built libsbp.so.0 with debug info (-g: meson buildtype debug
#             or debugoptimized). Without it, the library is built in
#             ${ABI_BUILD_DIR:-build-abi} (buildtype debug, library only).
#   --update  write the baseline from LIBRARY instead of checking: run it
#             when a release adds to the API, and commit the result.
#
# Only types reachable from the public header (include/sbp/) count. Passes
# when the ABI is unchanged or only grew: added functions, enumerators
# appended to an enum. Fails on anything else: a removed or renamed
# function, a changed signature, a changed public struct or enum value
# (docs/reliability.md, "ABI and SONAME"). Exit 77 (meson: skipped) when
# abigail-tools are missing or LIBRARY has no debug info.
set -uo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BASELINE=$SRC/tests/abi/libsbp.abi

update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
lib=${1:-}

for tool in abidw abidiff; do
    if ! command -v "$tool" >/dev/null; then
        echo "skip - $tool not found (Debian: abigail-tools)"
        exit 77
    fi
done

if [ -z "$lib" ]; then
    build=${ABI_BUILD_DIR:-$SRC/build-abi}
    if [ ! -f "$build/build.ninja" ]; then
        meson setup "$build" "$SRC" --buildtype=debug -Dtests=disabled -Dexamples=false \
            -Dpython=disabled -Dfuzz=disabled >/dev/null || exit 1
    fi
    meson compile -C "$build" lib/sbp:shared_library >/dev/null || exit 1
    lib=$build/lib/libsbp.so.0
fi
if [ ! -e "$lib" ]; then
    echo "FAIL - no library at $lib"
    exit 1
fi
if ! readelf -S --wide "$lib" 2>/dev/null | grep -q '\.debug_info'; then
    echo "skip - $lib has no debug info (build with buildtype debug or debugoptimized)"
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# No source locations, build paths or DT_NEEDED entries: the baseline
# changes only when the ABI does.
abidw --headers-dir "$SRC/include/sbp" --drop-private-types --no-show-locs \
    --no-comp-dir-path --no-corpus-path --no-elf-needed --type-id-style hash \
    --out-file "$tmp/raw.abi" "$lib" || { echo "FAIL - abidw failed on $lib"; exit 1; }
# Translation units are named by their path from the build directory
# ("../lib/net.c", "../../src/lib/net.c"): keep only the part from lib/.
sed -E "s#(<abi-instr [^>]* path=')[^']*/(lib/[^']*')#\1\2#" "$tmp/raw.abi" >"$tmp/current.abi"

if [ "$update" -eq 1 ]; then
    cp "$tmp/current.abi" "$BASELINE"
    echo "wrote $BASELINE from $lib"
    exit 0
fi
if [ ! -f "$BASELINE" ]; then
    echo "FAIL - no baseline $BASELINE (create it: tests/abi/check.sh --update)"
    exit 1
fi

abidiff --no-show-locs "$BASELINE" "$tmp/current.abi" >"$tmp/report" 2>&1
rc=$?
# abidiff's exit status is a bit set: 1 error, 2 usage, 4 ABI change,
# 8 incompatible change (a removed symbol).
if [ $((rc & 3)) -ne 0 ]; then
    cat "$tmp/report"
    echo "FAIL - abidiff could not compare (exit $rc)"
    exit 1
fi
if [ "$rc" -eq 0 ]; then
    echo "ok - the ABI of $(basename "$lib") matches tests/abi/libsbp.abi"
    exit 0
fi
# An ABI change: allowed only if every summary line counts nothing but
# additions (functions, variables, symbols). Enumerators appended to an enum
# are a harmless change to abidiff and do not show up in the summary.
bad=$(grep -E 'changes summary:' "$tmp/report" |
      grep -E '[1-9][0-9]* (Removed|Changed|removed|changed)' || true)
grep -qi 'SONAME changed' "$tmp/report" && bad="$bad SONAME"
grep -qi 'architecture changed' "$tmp/report" && bad="$bad architecture"
if [ $((rc & 8)) -eq 0 ] && [ -z "$bad" ]; then
    sed 's/^/    /' "$tmp/report"
    echo "ok - the ABI only grew; when releasing, add a version node to lib/libsbp.sym and"
    echo "     regenerate the baseline: tests/abi/check.sh --update"
    exit 0
fi
cat "$tmp/report"
echo "FAIL - incompatible ABI change against tests/abi/libsbp.abi (docs/reliability.md)"
exit 1
