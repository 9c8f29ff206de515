#!/usr/bin/env bash
# Installs the build into a temporary DESTDIR and uses it the way an outside
# project would: pkg-config flags, the installed header, the installed
# shared (and, when installed, static) library, from C and C++.
#
# Environment: SBP_BUILD_DIR (meson build dir), SBP_SOURCE_DIR (source root).
# Prints one line per check and closes with "N passed, M failed".
set -u

SRC=${SBP_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${SBP_BUILD_DIR:?SBP_BUILD_DIR must name the meson build directory}
CONSUMER=$SRC/tests/install/consumer.c
CC=${CC:-cc}
CXX=${CXX:-g++}

passed=0
failed=0
skipped=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() {
    failed=$((failed + 1)); echo "FAIL - $1"
    if [ $# -gt 1 ] && [ -n "$2" ]; then printf '%s\n' "$2" | sed 's/^/    /'; fi
}
skip() { skipped=$((skipped + 1)); echo "skip - $1"; }
finish() {
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit $?
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

# -- install ---------------------------------------------------------------
if meson install -C "$BUILD" --destdir "$dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1; then
    ok "meson install --destdir"
else
    fail "meson install --destdir" "$(tail -20 "$tmp/install.log")"
    finish
fi

# -- the installed tree ------------------------------------------------------
header=$(find "$dest" -path '*/include/sbp/sbp.h' | head -1)
version_h=$(find "$dest" -path '*/include/sbp/sbp_version.h' | head -1)
shlib=$(find "$dest" -name 'libsbp.so.0' | head -1)
pcfile=$(find "$dest" -path '*/pkgconfig/sbp.pc' | head -1)
static=$(find "$dest" -name 'libsbp.a' | head -1)
wanted=("include/sbp/sbp.h:$header" "include/sbp/sbp_version.h:$version_h"
        "lib*/pkgconfig/sbp.pc:$pcfile")
if [ -z "$shlib" ] && [ -n "$static" ]; then
    skip "shared library (a static-only build: default_library=static)"
    wanted+=("lib*/libsbp.a:$static")
else
    wanted+=("lib*/libsbp.so.0:$shlib")
fi
for pair in "${wanted[@]}"; do
    what=${pair%%:*}
    path=${pair#*:}
    if [ -n "$path" ] && [[ $path == */$what ]]; then
        ok "installed ${path#"$dest"}"
    else
        fail "installed $what"
    fi
done
if [ -z "$header" ] || [ -z "$pcfile" ] || { [ -z "$shlib" ] && [ -z "$static" ]; }; then
    find "$dest" | sed "s:^$dest::" | head -40
    finish
fi

extra=
for f in "$(dirname "$header")"/*; do
    case ${f##*/} in sbp.h | sbp_version.h) ;; *) extra="$extra ${f##*/}" ;; esac
done
if [ -z "$extra" ]; then
    ok "include/sbp holds only the public headers"
else
    fail "include/sbp holds only the public headers" "also installed: $extra"
fi

if [ -n "$shlib" ]; then
    if [ -L "$shlib" ] && [ -f "$(readlink -f "$shlib")" ]; then
        ok "libsbp.so.0 -> $(readlink "$shlib")"
    else
        fail "libsbp.so.0 is a symlink to the real library"
    fi
fi
expected=$(sed -n 's/^#define SBP_VERSION_STRING "\(.*\)"/\1/p' "$BUILD/include/sbp_version.h")
if [ -z "$expected" ]; then
    fail "read SBP_VERSION_STRING from $BUILD/include/sbp_version.h"
    finish
fi

# -- pkg-config --------------------------------------------------------------
# The .pc file names the real prefix; the sysroot redirects its paths into
# the destdir. System paths must not be dropped, or a /usr prefix would lose
# its -I and -L.
PKG_CONFIG_PATH=$(dirname "$pcfile")
export PKG_CONFIG_PATH
export PKG_CONFIG_SYSROOT_DIR=$dest
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
export PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
if ! command -v pkg-config >/dev/null; then
    fail "pkg-config is installed"
    finish
fi
modversion=$(pkg-config --modversion sbp 2>&1)
if [ "$modversion" = "$expected" ]; then
    ok "pkg-config --modversion sbp = $expected"
else
    fail "pkg-config --modversion sbp = $expected" "$modversion"
fi
if pkg-config --validate sbp >"$tmp/validate.log" 2>&1; then
    ok "pkg-config --validate sbp"
else
    fail "pkg-config --validate sbp" "$(cat "$tmp/validate.log")"
fi
# (without the sysroot, which pkgconf also prepends to variables)
prefix=$(PKG_CONFIG_SYSROOT_DIR='' pkg-config --variable=prefix sbp)
if [ -n "$prefix" ] && [ -d "$dest$prefix" ] && [[ $header == "$dest$prefix"/* ]]; then
    ok "sbp.pc prefix $prefix is where the files were installed"
else
    fail "sbp.pc prefix matches the installed tree" "prefix=$prefix header=$header"
fi
cflags=$(pkg-config --cflags sbp)
libs=$(pkg-config --libs sbp)
case "$cflags $libs" in
*"$dest"*) ok "pkg-config flags point into the destdir: $cflags $libs" ;;
*) fail "pkg-config flags point into the destdir" "$cflags $libs" ;;
esac

expect_output() { # $1 = label, $2 = output file
    local missing=
    for line in "header $expected" "library $expected" "network relax: 2 layers" \
                "dataset 4 x 3, 3 classes" "ok"; do
        grep -qxF "$line" "$2" || missing="$missing${missing:+; }'$line'"
    done
    if [ -z "$missing" ]; then
        ok "$1 runs and prints the expected lines"
    else
        fail "$1 output (missing $missing)" "$(cat "$2")"
    fi
}

# -- consumers ------------------------------------------------------------------
shared_consumers() {
    local libdir rc resolved
    libdir=$(dirname "$shlib")
    # shellcheck disable=SC2086 # flags are word lists
    if $CC -std=c99 -Wall -Wextra -pedantic -Werror $cflags -o "$tmp/consumer" "$CONSUMER" \
            $libs >"$tmp/cc.log" 2>&1; then
        ok "C consumer compiles and links with pkg-config flags"
        LD_LIBRARY_PATH=$libdir "$tmp/consumer" >"$tmp/out" 2>&1
        rc=$?
        if [ $rc -eq 0 ]; then
            ok "C consumer exits 0"
        else
            fail "C consumer exits 0 (got $rc)" "$(cat "$tmp/out")"
        fi
        expect_output "C consumer" "$tmp/out"
        resolved=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/consumer" |
                   awk '$1 == "libsbp.so.0" { print $3 }')
        if [[ $resolved == "$dest"/* ]]; then
            ok "C consumer loads the installed libsbp.so.0"
        else
            fail "C consumer loads the installed libsbp.so.0" "resolved to: ${resolved:-nothing}"
        fi
    else
        fail "C consumer compiles and links with pkg-config flags" "$(cat "$tmp/cc.log")"
    fi

    if ! command -v "$CXX" >/dev/null; then
        skip "C++ consumer ($CXX not found)"
        return
    fi
    # shellcheck disable=SC2086
    if $CXX -std=c++11 -x c++ -Wall -Wextra -pedantic -Werror $cflags -o "$tmp/consumer_cxx" \
            "$CONSUMER" -x none $libs >"$tmp/cxx.log" 2>&1; then
        ok "C++ consumer compiles and links"
        LD_LIBRARY_PATH=$libdir "$tmp/consumer_cxx" >"$tmp/out_cxx" 2>&1 ||
            fail "C++ consumer exits 0" "$(cat "$tmp/out_cxx")"
        expect_output "C++ consumer" "$tmp/out_cxx"
    else
        fail "C++ consumer compiles and links" "$(cat "$tmp/cxx.log")"
    fi

    # examples/cpp_pkgconfig: built by its own Makefile (pkg-config flags)
    # outside the source tree, as docs/examples.md tells users to.
    local exdir=$SRC/examples/cpp_pkgconfig
    mkdir -p "$tmp/cpp_example"
    if ! command -v make >/dev/null; then
        skip "C++ example (make not found)"
        return
    fi
    # PKG_CONFIG_PATH on make's command line, as the Makefile tells users
    if env -u PKG_CONFIG_PATH make -C "$tmp/cpp_example" -f "$exdir/Makefile" VPATH="$exdir" \
            CXX="$CXX" CXXFLAGS="-O2 -Werror" PKG_CONFIG_PATH="$PKG_CONFIG_PATH" \
            >"$tmp/cpp_example.log" 2>&1; then
        ok "C++ example builds with its Makefile and pkg-config"
        LD_LIBRARY_PATH=$libdir "$tmp/cpp_example/sbp_cpp_example" >"$tmp/out_cpp_example" 2>&1
        rc=$?
        if [ $rc -eq 0 ] && grep -qxF ok "$tmp/out_cpp_example"; then
            ok "C++ example runs and prints ok"
        else
            fail "C++ example runs and prints ok (exit $rc)" "$(cat "$tmp/out_cpp_example")"
        fi
        resolved=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/cpp_example/sbp_cpp_example" |
                   awk '$1 == "libsbp.so.0" { print $3 }')
        if [[ $resolved == "$dest"/* ]]; then
            ok "C++ example loads the installed libsbp.so.0"
        else
            fail "C++ example loads the installed libsbp.so.0" "resolved to: ${resolved:-nothing}"
        fi
    else
        fail "C++ example builds with its Makefile and pkg-config" "$(cat "$tmp/cpp_example.log")"
    fi
}

static_consumer() {
    local slibs
    slibs=$(pkg-config --static --libs sbp)
    # Link the archive itself, not whichever libsbp -lsbp would find.
    slibs=$(printf '%s\n' "$slibs" | sed "s:-lsbp\b:$static:")
    # shellcheck disable=SC2086
    if $CC -std=c99 -DSBP_STATIC_BUILD $cflags -o "$tmp/consumer_static" "$CONSUMER" \
            $slibs >"$tmp/static.log" 2>&1; then
        ok "C consumer links libsbp.a"
        if ldd "$tmp/consumer_static" | grep -q libsbp; then
            fail "static consumer does not need libsbp.so" "$(ldd "$tmp/consumer_static")"
        else
            ok "static consumer does not need libsbp.so"
        fi
        "$tmp/consumer_static" >"$tmp/out_static" 2>&1 ||
            fail "static consumer exits 0" "$(cat "$tmp/out_static")"
        expect_output "static consumer" "$tmp/out_static"
    else
        fail "C consumer links libsbp.a" "$(cat "$tmp/static.log")"
    fi
}

if [ -n "$shlib" ]; then
    shared_consumers
else
    skip "C and C++ consumers against libsbp.so (not installed)"
fi
if [ -n "$static" ]; then
    static_consumer
else
    skip "static link (no libsbp.a installed; default_library=shared)"
fi

# -- the build tree, through meson-uninstalled/sbp-uninstalled.pc --------------
# (what a project next to a libsbp checkout uses before installing it)
unpc=$BUILD/meson-uninstalled/sbp-uninstalled.pc
if [ -f "$unpc" ] && [ -n "$shlib" ]; then
    uflags=$(env -u PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH="$(dirname "$unpc")" \
             pkg-config --cflags --libs sbp 2>&1)
    # shellcheck disable=SC2086
    if $CC -std=c99 -Wall -Werror -o "$tmp/consumer_uninst" "$CONSUMER" $uflags \
            >"$tmp/uninst.log" 2>&1; then
        ok "C consumer builds against the build tree (sbp-uninstalled.pc)"
        LD_LIBRARY_PATH=$BUILD/lib "$tmp/consumer_uninst" >"$tmp/out_uninst" 2>&1 ||
            fail "uninstalled consumer exits 0" "$(cat "$tmp/out_uninst")"
        expect_output "uninstalled consumer" "$tmp/out_uninst"
    else
        fail "C consumer builds against the build tree (sbp-uninstalled.pc)" \
            "flags: $uflags
$(cat "$tmp/uninst.log")"
    fi
else
    skip "build-tree consumer (no meson-uninstalled/sbp-uninstalled.pc or no shared library)"
fi

finish
