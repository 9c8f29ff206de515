#!/usr/bin/env bash
# The shared library exports exactly the public API: the names in
# lib/libsbp.sym, which must equal the SBP_API functions of sbp.h, each bound
# to a version node of the script, and its SONAME is libsbp.so.0.
#
# Environment: SBP_BUILD_DIR (meson build dir), SBP_SOURCE_DIR (source root).
# Prints one line per check and closes with "N passed, M failed".
set -u

SRC=${SBP_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${SBP_BUILD_DIR:?SBP_BUILD_DIR must name the meson build directory}
HEADER=$SRC/include/sbp/sbp.h
SYMFILE=$SRC/lib/libsbp.sym

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() {
    failed=$((failed + 1)); echo "FAIL - $1"
    if [ $# -gt 1 ] && [ -n "$2" ]; then printf '%s\n' "$2" | sed 's/^/    /'; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

for tool in nm objdump; do
    if ! command -v "$tool" >/dev/null; then
        fail "$tool is installed (binutils)"; finish
    fi
done

# The real file behind libsbp.so.0 (libsbp.so.0.MINOR.PATCH).
lib=
for f in "$BUILD"/lib/libsbp.so.0*; do
    [ -f "$f" ] && [ ! -L "$f" ] && lib=$f
done
if [ -z "$lib" ] && [ -f "$BUILD/lib/libsbp.a" ]; then
    echo "skip - no shared library in this build (default_library=static)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 77  # meson: skipped
fi
if [ -z "$lib" ]; then
    fail "shared library built" "no $BUILD/lib/libsbp.so.0* (built with default_library=static?)"
    finish
fi
ok "shared library is $(basename "$lib")"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Exported symbols, without the version suffix nm may print (name@@NODE) and
# without the version nodes themselves (absolute symbols named like LIBSBP_0.1).
nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' \
    | sort -u >"$tmp/exported"
nodes_in_lib=$(nm -D --defined-only "$lib" | awk '$2 == "A" { sub(/@.*/, "", $3); print $3 }' \
    | sort -u | tr '\n' ' ')

# Names in the version script (global: sections), and its version nodes.
sed 's:/\*.*\*/::' "$SYMFILE" | grep -oE '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*;' \
    | tr -d ' \t;' | sort -u >"$tmp/script"
nodes_in_script=$(grep -oE '^[A-Z][A-Z0-9_.]*[[:space:]]*\{' "$SYMFILE" | tr -d ' {' \
    | sort -u | tr '\n' ' ')

# SBP_API functions of the header: the identifier before the first '('.
sed 's:/\*.*\*/::' "$HEADER" | grep -E '^[[:space:]]*SBP_API[[:space:]]' \
    | sed -E 's/^[^(]*[^A-Za-z0-9_](sbp_[A-Za-z0-9_]+)[[:space:]]*\(.*/\1/' | sort -u >"$tmp/header"

n_exported=$(wc -l <"$tmp/exported")
bad=$(grep -v '^sbp_' "$tmp/exported")
if [ "$n_exported" -gt 0 ] && [ -z "$bad" ]; then
    ok "all $n_exported exported names start with sbp_"
else
    fail "all exported names start with sbp_" "${bad:-(nothing exported)}"
fi

internal=$(grep '^sbp__' "$tmp/exported")
if [ -z "$internal" ]; then
    ok "no internal sbp__ name is exported"
else
    fail "no internal sbp__ name is exported" "$internal"
fi

diff_out=$(diff "$tmp/script" "$tmp/exported")
if [ -z "$diff_out" ]; then
    ok "exported names equal lib/libsbp.sym ($(wc -l <"$tmp/script") names)"
else
    fail "exported names equal lib/libsbp.sym (< only in libsbp.sym, > only exported)" "$diff_out"
fi

diff_out=$(diff "$tmp/header" "$tmp/script")
if [ -s "$tmp/header" ] && [ -z "$diff_out" ]; then
    ok "lib/libsbp.sym equals the SBP_API functions of sbp.h"
else
    fail "lib/libsbp.sym equals the SBP_API functions of sbp.h (< only in sbp.h, > only in libsbp.sym)" \
        "$diff_out"
fi

if [ -n "$nodes_in_script" ] && [ "$nodes_in_lib" = "$nodes_in_script" ]; then
    ok "version nodes: $nodes_in_lib"
else
    fail "version nodes of the library equal those of libsbp.sym" \
        "library: $nodes_in_lib; script: $nodes_in_script"
fi

# Every public symbol carries a version from the script (objdump -T prints
# the version before the name).
unversioned=$(objdump -T "$lib" | awk '$NF ~ /^sbp_/ && $(NF-1) !~ /^LIBSBP_/ { print $NF }')
if [ -z "$unversioned" ]; then
    ok "every exported function is bound to a LIBSBP_ version node"
else
    fail "every exported function is bound to a LIBSBP_ version node" "$unversioned"
fi

soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
if [ "$soname" = "libsbp.so.0" ]; then
    ok "SONAME is libsbp.so.0"
else
    fail "SONAME is libsbp.so.0" "found: ${soname:-none}"
fi

link=$BUILD/lib/libsbp.so.0
if [ -e "$link" ] && [ "$(readlink -f "$link")" = "$(readlink -f "$lib")" ]; then
    ok "libsbp.so.0 points at $(basename "$lib")"
else
    fail "libsbp.so.0 points at $(basename "$lib")"
fi

finish
