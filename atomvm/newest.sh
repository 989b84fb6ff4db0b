#!/usr/bin/env bash
# The lane's "newest" stage: AtomVM for node with this library, linked by
# the newest Emscripten Debian has (sid's), in a sid chroot next to the
# trixie one, and AtomVM's suites on it (hello_world, test_alisp,
# test_etest, test_estdlib, with the .avm files the lane's trixie build made).
#
#   atomvm/newest.sh LANE_DIR      (called by atomvm/lane.sh)
set -euo pipefail
L=$1
JIT=$(cd "$(dirname "$0")/.." && pwd)
S=${ATOMVM_LANE_SID:-$JIT/build/sid}
RES=$L/results

if [ ! -x "$S/usr/bin/emcc" ]; then
    echo "making a Debian sid chroot with its Emscripten (a few minutes, once)"
    dpkg -s debootstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    rm -rf "$S"
    debootstrap --variant=minbase sid "$S" http://deb.debian.org/debian >/dev/null
    # (A mirror's sid may be past its Release file's validity date.)
    chroot "$S" sh -c 'apt-get -o Acquire::Check-Valid-Until=false update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends emscripten nodejs cmake ninja-build gperf erlang-nox make >/dev/null'
fi
mkdir -p "$S/lane"
mountpoint -q "$S/lane" || mount --bind "$L" "$S/lane"
for p in proc dev; do mountpoint -q "$S/$p" || mount --bind "/$p" "$S/$p"; done
trap 'for p in lane proc dev; do mountpoint -q "$S/$p" && umount "$S/$p" || true; done' EXIT
sid() { chroot "$S" env -u NODE_EXTRA_CA_CERTS HOME=/lane/home "$@"; }
echo "emcc: $(sid emcc --version | head -1)"

# Emscripten's zlib port, seeded from the zlib release it names (offline),
# in the cache this Emscripten uses (sid's, as root: /var/cache/emscripten).
cache=$S$(sid em-config CACHE | tail -1)
if [ ! -f "$cache/sysroot/lib/wasm32-emscripten/libz.a" ]; then
    version=$(sed -n "s/^VERSION = '\(.*\)'/\1/p" "$S/usr/share/emscripten/tools/ports/zlib.py")
    url=$(grep -o "https://github.com/madler/zlib/[^']*" "$S/usr/share/emscripten/tools/ports/zlib.py" | head -1 |
        sed "s/{VERSION}/$version/")
    mkdir -p "$cache/ports/zlib" "$L/src/zlib-$version" "$cache/sysroot/lib/pkgconfig"
    zlib_git=${ZLIB:-/work/.mirror/madler+zlib/repo}
    tag=v$version
    if ! git --git-dir="$zlib_git" rev-parse -q --verify "$tag^{commit}" >/dev/null; then
        # (Sid's Emscripten may name a zlib newer than the sources at hand;
        # its port builds any 1.3.x tree the same way.)
        tag=$(git --git-dir="$zlib_git" tag --sort=-v:refname | head -1)
        echo "zlib $version is not in $zlib_git: its port gets $tag's sources"
    fi
    git --git-dir="$zlib_git" archive "$tag" | tar -x -C "$L/src/zlib-$version"
    rm -rf "$cache/ports/zlib/zlib-$version"
    cp -r "$L/src/zlib-$version" "$cache/ports/zlib/zlib-$version"
    echo "$url" >"$cache/ports/zlib/.emscripten_url"
    sid env EM_FROZEN_CACHE=0 embuilder build zlib >/dev/null
fi

b=/lane/build/wasm-jit-newest
mkdir -p "$L/build/wasm-jit-newest"
rm -f "$L/build/wasm-jit-newest/src/AtomVM.mjs"
sid sh -c "cd $b && emcmake cmake /lane/src/AtomVM-jit/src/platforms/emscripten -G Ninja \
    -DFETCHCONTENT_SOURCE_DIR_MBEDTLS=/lane/src/mbedtls -DFETCHCONTENT_FULLY_DISCONNECTED=ON \
    -DENABLE_TESTING=OFF -DENABLE_PROGRAMS=OFF -DAVM_DISABLE_JIT=OFF -DATOMVM_WASM_JIT_DIR=/lane/jit \
    >cmake.log 2>&1 && ninja >ninja.log 2>&1" || {
    tail -30 "$L/build/wasm-jit-newest/ninja.log" "$L/build/wasm-jit-newest/cmake.log" 2>/dev/null
    echo "newest: the build failed (logs in $L/build/wasm-jit-newest)"
    exit 1
}
grep -A3 "Linking C executable src/AtomVM.mjs" "$L/build/wasm-jit-newest/ninja.log" | grep -iE "warning|error" | sed 's/^/link: /' || true

E=/lane/build/erlang-wasm32
run() {
    local name=$1 pattern=$2
    shift 2
    sid sh -c "cd $b && node /lane/jit/atomvm/run-until.js '$pattern' 900 node src/AtomVM.mjs $*" \
        >"$RES/suite-wasm-jit-newest-$name.log" 2>&1 || true
    printf '%-20s %-12s %s\n' wasm-jit-newest "$name" \
        "$(grep -E "$pattern" "$RES/suite-wasm-jit-newest-$name.log" | head -1 | cut -c1-110 || echo 'NO RESULT LINE')"
}
run hello_world '^hello_world' "$E/examples/erlang/hello_world.beam $E/libs/atomvmlib-emscripten-wasm32.avm"
run test_alisp '^\[\{test_alisp' "$E/tests/libs/alisp/test_alisp.avm"
run test_etest 'Tests.*Failures' "$E/tests/libs/etest/test_etest.avm"
run test_estdlib '^\[\{test_' "$E/tests/libs/estdlib/test_estdlib.avm"
