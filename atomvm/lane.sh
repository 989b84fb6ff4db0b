#!/usr/bin/env bash
# The AtomVM lane: builds AtomVM 0.7 with this library, and as upstream
# ships it, and runs them. Everything is built offline in the Debian 13
# chroot that `./run.sh compat` makes (Emscripten 3.1.69, OTP 27, rebar3
# 3.24), in a work directory outside this checkout. Called by
# `./run.sh atomvm [STAGE...]`, which first builds the library
# (`./run.sh lib`) and the chroot.
#
# Stages (default: all, in this order):
#   build    AtomVM's Erlang side (generic_unix CMake: atomvmlib, packbeam,
#            the test .avm files, wasm32 precompilation); AtomVM for
#            Emscripten/node with JIT as upstream ships it (jit_stream_wasm.c),
#            with this library (applied by atomvm/integrate.sh, the README's
#            steps), with it and --profiling-funcs, and interpreter-only;
#            the web build with this library and upstream's; native x86_64
#            (Release) with its JIT and precompiled code, and interpreter-only
#   suites   AtomVM's suites on node as its wasm CI runs them (hello_world,
#            test_alisp, test_etest, test_estdlib), upstream and this
#            library, each stopped after its result line; a corrupted stream
#   web      AtomVM's test pages (test_atomvm, test_call, test_html5) in
#            headless Chromium with the checks of its cypress specs
#   bench    the Erlang benchmark set on the five variants, interleaved;
#            then in headless Chromium on the two web builds
#   profile  where the time goes with this library, per benchmark case;
#            after bench, also each case's floor: the time in AtomVM's
#            collector, locks and allocator against the native JIT's
#   cache    the native-code cache: test_estdlib twice on one directory,
#            hello_world cold, warm and with damaged entries
#   newest   this library in AtomVM linked by the newest Emscripten Debian
#            has (sid), and AtomVM's suites on it
#   inlining (not in the default) this library's AtomVM for node compiled
#            without the -sINLINING_LIMIT of AtomVM's Emscripten CMake (which
#            makes clang inline nothing it is not told to): its suites, and
#            the benchmark set on it beside the native JIT and the build as
#            AtomVM ships it, interleaved
#   keep=NAME  (not in the default) keeps the current node build with this
#            library as variant wasm-jit@NAME, which later bench stages run
#            too: before and after a change, in the same interleaved run
#
# Inputs (git directories are exported at the given refs; trees used as are):
#   ATOMVM (or the first argument after the stages: a tree or git dir) at
#   ATOMVM_REF (release-0.7); MBEDTLS at v3.6.3.1; ZLIB at v1.2.13 (for
#   Emscripten's zlib port); PACKBEAM (atomvm_packbeam) at 0.8.2. By default
#   the snapshots the tool library's `fetch` leaves under /work/.mirror.
# Settings: ATOMVM_LANE_DIR (work directory, default ../atomvm-lane),
#   ATOMVM_LANE_ROUNDS (benchmark rounds, default 5), ATOMVM_LANE_WEB_LOADS
#   (loads of each test page and build when timing readiness, default 6).
# Results: printed, and kept in $ATOMVM_LANE_DIR/results/.
set -euo pipefail
JIT=$(cd "$(dirname "$0")/.." && pwd)
R=${ATOMVM_LANE_CHROOT:-$JIT/build/trixie}
L=${ATOMVM_LANE_DIR:-$(dirname "$JIT")/atomvm-lane}
ROUNDS=${ATOMVM_LANE_ROUNDS:-5}
MIRROR=${ATOMVM_LANE_MIRROR:-/work/.mirror}
ATOMVM=${ATOMVM:-$MIRROR/atomvm+AtomVM/repo}
ATOMVM_REF=${ATOMVM_REF:-release-0.7}
MBEDTLS=${MBEDTLS:-$MIRROR/Mbed-TLS+mbedtls/repo}
ZLIB=${ZLIB:-$MIRROR/madler+zlib/repo}
PACKBEAM=${PACKBEAM:-$MIRROR/atomvm+atomvm_packbeam/repo}
RES=$L/results
E=/lane/build/erlang-wasm32 # inside the chroot

log() { printf '\n== %s\n' "$*"; }

in_chroot() {
    chroot "$R" env -u NODE_EXTRA_CA_CERTS HOME=/lane/home REBAR_OFFLINE=1 "$@"
}

# The work directory is bind-mounted into the chroot at /lane.
mounts() {
    mkdir -p "$L/home" "$RES" "$R/lane"
    mountpoint -q "$R/lane" || mount --bind "$L" "$R/lane"
    local p
    for p in proc dev; do
        mountpoint -q "$R/$p" || mount --bind "/$p" "$R/$p"
    done
    trap unmount EXIT
}

unmount() {
    local p
    for p in lane proc dev; do
        mountpoint -q "$R/$p" && umount "$R/$p" || true
    done
}

# export NAME SOURCE REF [PATHSPEC...]: $L/src/NAME from a tree or git dir.
export_source() {
    local name=$1 from=$2 ref=$3
    shift 3
    local dest=$L/src/$name
    if [ -f "$from/HEAD" ] && [ -d "$from/objects" ]; then
        local commit
        commit=$(git --git-dir="$from" rev-parse "$ref^{commit}")
        if [ "$(cat "$dest/.lane-commit" 2>/dev/null)" != "$commit" ]; then
            rm -rf "$dest"
            mkdir -p "$dest"
            # (git names blobs missing from a snapshot even when a pathspec
            # leaves them out; the archive is complete without them.)
            git --git-dir="$from" archive "$commit" -- "$@" 2> >(grep -v "^error: invalid object .* for 'tests/" >&2) |
                tar -x -C "$dest"
            echo "$commit" >"$dest/.lane-commit"
        fi
        echo "$name: $ref ($commit)"
    elif [ -d "$from" ]; then
        if [ ! -e "$dest/.lane-tree" ] || [ "$(cat "$dest/.lane-tree")" != "$from" ]; then
            rm -rf "$dest"
            mkdir -p "$(dirname "$dest")"
            cp -a "$from" "$dest"
            echo "$from" >"$dest/.lane-tree"
        fi
        echo "$name: tree $from"
    else
        echo "lane: no $name at $from (set it: see the header of atomvm/lane.sh)" >&2
        exit 2
    fi
}

sources() {
    log "sources"
    export_source AtomVM "$ATOMVM" "$ATOMVM_REF" .
    # Its tests hold a blob the snapshots lack; the library needs none of them.
    export_source mbedtls "$MBEDTLS" v3.6.3.1 . ':(exclude)tests'
    export_source zlib "$ZLIB" v1.2.13 .
    export_source atomvm_packbeam "$PACKBEAM" 0.8.2 .
    # This library applied to a copy of AtomVM by the README's steps.
    local stamp
    stamp="$(cat "$L/src/AtomVM/.lane-commit" "$L/src/AtomVM/.lane-tree" 2>/dev/null || true) $(md5sum "$JIT/atomvm/integrate.sh" "$JIT"/atomvm/integration/* | md5sum)"
    if [ "$(cat "$L/src/AtomVM-jit/.lane-stamp" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$L/src/AtomVM-jit"
        cp -a "$L/src/AtomVM" "$L/src/AtomVM-jit"
        "$JIT/atomvm/integrate.sh" "$L/src/AtomVM-jit"
        echo "$stamp" >"$L/src/AtomVM-jit/.lane-stamp"
    fi
    # What the chroot needs of this checkout: the library, its glue, the shim
    # and the lane's scripts (copied each run: they are inputs of the builds).
    mkdir -p "$L/jit/target/atomvm"
    cp "$JIT/target/atomvm/libatomvm_wasm_jit.a" "$L/jit/target/atomvm/"
    rm -rf "$L/jit/emscripten" "$L/jit/c_shim" "$L/jit/atomvm"
    cp -r "$JIT/emscripten" "$JIT/c_shim" "$JIT/atomvm" "$L/jit/"
}

packages() {
    local need="cmake ninja-build gperf erlang-nox erlang-dev rebar3 zlib1g-dev gcc g++ make"
    if ! in_chroot sh -c "dpkg -s $need >/dev/null 2>&1"; then
        log "installing the build tools in the chroot"
        in_chroot sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null"
    fi
}

# Debian freezes Emscripten's cache and the zlib port would be downloaded:
# seed it with zlib 1.2.13 and build it once.
zlib_port() {
    local cache=$R/usr/share/emscripten/cache
    [ -f "$cache/sysroot/lib/wasm32-emscripten/libz.a" ] && return
    log "Emscripten's zlib port, from zlib 1.2.13"
    mkdir -p "$cache/ports/zlib"
    rm -rf "$cache/ports/zlib/zlib-1.2.13"
    cp -r "$L/src/zlib" "$cache/ports/zlib/zlib-1.2.13"
    echo "https://github.com/madler/zlib/archive/refs/tags/v1.2.13.tar.gz" >"$cache/ports/zlib/.emscripten_url"
    in_chroot env EM_FROZEN_CACHE=0 EM_CACHE=/usr/share/emscripten/cache embuilder build zlib >/dev/null
}

# native BUILD TARGETS [cmake args]: AtomVM's generic_unix CMake, Release.
native() {
    local build=$1 targets=$2
    shift 2
    mkdir -p "$L/build/$build/tools/packbeam/_checkouts"
    # rebar3 takes packbeam's hex dependency from here, offline.
    ln -sfn /lane/src/atomvm_packbeam "$L/build/$build/tools/packbeam/_checkouts/atomvm_packbeam"
    in_chroot sh -c "cd /lane/build/$build &&
        cmake /lane/src/AtomVM -G Ninja -DCMAKE_BUILD_TYPE=Release \
            -DFETCHCONTENT_SOURCE_DIR_MBEDTLS=/lane/src/mbedtls -DFETCHCONTENT_FULLY_DISCONNECTED=ON \
            -DENABLE_TESTING=OFF -DENABLE_PROGRAMS=OFF $* >cmake.log 2>&1 &&
        ninja $targets >ninja.log 2>&1" || {
        tail -30 "$L/build/$build/ninja.log" "$L/build/$build/cmake.log" 2>/dev/null
        echo "lane: the $build build failed (logs in $L/build/$build)"
        exit 1
    }
}

# emscripten BUILD TREE [cmake args]: AtomVM for Emscripten from TREE.
emscripten() {
    local build=$1 tree=$2
    shift 2
    mkdir -p "$L/build/$build"
    # The link depends on the JS library too, which CMake does not track.
    rm -f "$L/build/$build/src/AtomVM.mjs"
    in_chroot sh -c "cd /lane/build/$build &&
        emcmake cmake /lane/src/$tree/src/platforms/emscripten -G Ninja \
            -DFETCHCONTENT_SOURCE_DIR_MBEDTLS=/lane/src/mbedtls -DFETCHCONTENT_FULLY_DISCONNECTED=ON \
            -DENABLE_TESTING=OFF -DENABLE_PROGRAMS=OFF $* >cmake.log 2>&1 &&
        ninja >ninja.log 2>&1" || {
        tail -30 "$L/build/$build/ninja.log" "$L/build/$build/cmake.log" 2>/dev/null
        echo "lane: the $build build failed (logs in $L/build/$build)"
        exit 1
    }
    # What the link printed (AtomVM's own pthreads note aside).
    grep -A3 "Linking C executable src/AtomVM.mjs" "$L/build/$build/ninja.log" | grep -iE "warning|error" |
        grep -v "Wpthreads-mem-growth" | sed "s/^/$build link: /" || true
}

build() {
    log "AtomVM's Erlang side (wasm32 precompiled), native"
    native erlang-wasm32 "atomvmlib-emscripten atomvmlib test_etest test_alisp test_estdlib hello_world" \
        -DAVM_DISABLE_JIT=OFF -DAVM_JIT_TARGET_ARCH=wasm32 -DAVM_PRECOMPILED_TARGETS=wasm32
    log "AtomVM native x86_64: JIT and precompiled, and interpreter-only"
    native native-jit "AtomVM atomvmlib" -DAVM_DISABLE_JIT=OFF -DAVM_PRECOMPILED_TARGETS=x86_64
    native native-interp "AtomVM atomvmlib"
    zlib_port
    local jit="-DAVM_DISABLE_JIT=OFF -DATOMVM_WASM_JIT_DIR=/lane/jit"
    log "AtomVM for Emscripten (node): upstream JIT, this library, profiling, interpreter"
    emscripten wasm-upstream AtomVM -DAVM_DISABLE_JIT=OFF
    emscripten wasm-jit AtomVM-jit $jit
    emscripten wasm-jit-prof AtomVM-jit $jit -DCMAKE_EXE_LINKER_FLAGS=--profiling-funcs
    emscripten wasm-interp AtomVM
    log "AtomVM for Emscripten (web): this library, upstream JIT"
    emscripten web-jit AtomVM-jit $jit -DAVM_EMSCRIPTEN_ENV=web
    emscripten web-upstream AtomVM -DAVM_DISABLE_JIT=OFF -DAVM_EMSCRIPTEN_ENV=web
    # The modules of AtomVM's test pages.
    in_chroot sh -c "mkdir -p /lane/build/web-tests && cd /lane/build/web-tests &&
        for m in test_atomvm test_call test_html5; do erlc /lane/src/AtomVM/src/platforms/emscripten/tests/src/\$m.erl; done"
    ls -l "$L"/build/*/src/AtomVM.wasm "$L"/build/native-*/src/AtomVM | awk '{print $5, $9}'
}

# suite VARIANT NAME PATTERN TIMEOUT ARGS...: one suite, stopped after its
# result line; prints a line of results.
suite() {
    local variant=$1 name=$2 pattern=$3 timeout=$4
    shift 4
    local out=$RES/suite-${SUITE_LABEL:-$variant}-$name.log
    in_chroot env ${SUITE_ENV:-ATOMVM_WASM_JIT_CACHE=off} sh -c \
        "cd /lane/build/$variant && node /lane/jit/atomvm/run-until.js '$pattern' $timeout node src/AtomVM.mjs $*" >"$out" 2>&1 || true
    local result seconds compiled
    # A run without a result line is a result too: no grep may stop the lane.
    result=$(grep -E "$pattern" "$out" | head -1 | cut -c1-110 || true)
    seconds=$(grep -oE '^RESULT [a-z]+( -?[0-9]+)? [0-9.]+' "$out" | awk '{print $NF}' || true)
    compiled=$(grep -c "^+*Compilation of" "$out" || true)
    printf '%-14s %-12s %7ss %3s compiled  %s\n' "${SUITE_LABEL:-$variant}" "$name" "$seconds" "$compiled" "${result:-NO RESULT LINE}"
}

# How many of test_estdlib's tests passed in log file $1, counted
# in the result line only: crash reports the tests provoke on purpose name
# test modules too.
estdlib_counts() {
    local line
    line=$(grep -E '^\[\{test_' "$1" | head -1 || true)
    echo "$(echo "$line" | grep -oE '\{test_[a-z_]+,ok\}' | wc -l) ok," \
        "$(echo "$line" | grep -oE '\{test_[a-z_]+,[^}]*\}' | grep -vc ',ok}$' || true) not ok"
}

# The four suites on build VARIANT (SUITE_LABEL and SUITE_ENV as for suite).
suite_set() {
    local v=$1 libs=$E/libs/atomvmlib-emscripten-wasm32.avm
    suite "$v" hello_world '^hello_world' 300 "$E/examples/erlang/hello_world.beam $libs"
    suite "$v" test_alisp '^\[\{test_alisp' 300 "$E/tests/libs/alisp/test_alisp.avm"
    suite "$v" test_etest 'Tests.*Failures' 300 "$E/tests/libs/etest/test_etest.avm"
    suite "$v" test_estdlib '^\[\{test_' 900 "$E/tests/libs/estdlib/test_estdlib.avm"
    echo "${SUITE_LABEL:-$v} test_estdlib: $(estdlib_counts "$RES/suite-${SUITE_LABEL:-$v}-test_estdlib.log")"
}

suites() {
    log "AtomVM's suites on node (stopped after their result lines; logs in $RES)"
    suite_set wasm-upstream
    # As users get it: modules loaded cold, rewritten once hot.
    suite_set wasm-jit
    # Every module rewritten after one look-up: threads switch to the
    # rewritten modules everywhere, all the time.
    SUITE_LABEL="wasm-jit-hot-at-1" SUITE_ENV="ATOMVM_WASM_JIT_CACHE=off ATOMVM_WASM_JIT_TIER_UP=1" \
        suite_set wasm-jit
    # Every module rewritten at load, with every rewrite, then with each
    # rewrite switched off in turn.
    SUITE_LABEL="wasm-jit-at-load" SUITE_ENV="ATOMVM_WASM_JIT_CACHE=off ATOMVM_WASM_JIT_TIER_UP=0" \
        suite_set wasm-jit
    local off
    for off in tail_calls direct_primitives computed_jumps imported_bifs small_int_bifs trim_live_regs \
        immediate_compares stack_frames map_lookups map_updates atom_terms heap_allocs; do
        SUITE_LABEL="wasm-jit-no-$off" \
            SUITE_ENV="ATOMVM_WASM_JIT_CACHE=off ATOMVM_WASM_JIT_TIER_UP=0 ATOMVM_WASM_JIT_OFF=$off" \
            suite_set wasm-jit
    done
    corrupted
}

# The native-code cache (issue 12), in a directory of its own: test_estdlib
# twice (the second run compiles nothing), hello_world cold and warm.
cache() {
    log "the native-code cache: test_estdlib twice, hello_world cold and warm"
    local libs=$E/libs/atomvmlib-emscripten-wasm32.avm run
    rm -rf "$L/cache-test"
    for run in cold warm; do
        SUITE_ENV=ATOMVM_WASM_JIT_CACHE_DIR=/lane/cache-test \
            suite wasm-jit "test_estdlib-$run" '^\[\{test_' 900 "$E/tests/libs/estdlib/test_estdlib.avm"
        echo "  $run: $(estdlib_counts "$RES/suite-wasm-jit-test_estdlib-$run.log" | sed 's/ not ok/ not ok,/')" \
            "$(ls "$L/cache-test" 2>/dev/null | grep -c '\.avmjit$' || true) entries," \
            "$(du -sk "$L/cache-test" 2>/dev/null | cut -f1) kB"
    done
    rm -rf "$L/cache-test"
    for run in cold warm; do
        SUITE_ENV=ATOMVM_WASM_JIT_CACHE_DIR=/lane/cache-test \
            suite wasm-jit "hello_world-$run" '^hello_world' 300 "$E/examples/erlang/hello_world.beam $libs"
    done
    # An entry damaged on disk: refused with a message, compiled again.
    local f
    for f in "$L"/cache-test/*.avmjit; do
        printf 'damaged' | dd of="$f" bs=1 seek=100 conv=notrunc status=none
    done
    SUITE_ENV=ATOMVM_WASM_JIT_CACHE_DIR=/lane/cache-test \
        suite wasm-jit "hello_world-damaged" '^hello_world' 300 "$E/examples/erlang/hello_world.beam $libs"
    grep -m2 "atomvm_wasm_jit:" "$RES/suite-wasm-jit-hello_world-damaged.log" | cut -c1-160 | sed 's/^/  /' || true
}

# A precompiled module whose stream is damaged (queue's, in a copy of
# atomvmlib): upstream aborts the VM; this library refuses the stream with a
# message, AtomVM compiles the module at run time and the program goes on.
corrupted() {
    log "a corrupted stream in a .avm (the queue module's)"
    mkdir -p "$L/bench"
    cp "$JIT/atomvm/bench/corrupted_case.erl" "$L/bench/"
    in_chroot sh -c "cd /lane/bench && erlc corrupted_case.erl"
    node "$JIT/atomvm/corrupt-avm.js" "$L/build/erlang-wasm32/libs/atomvmlib-emscripten-wasm32.avm" queue.beam \
        "$L/build/corrupt.avm"
    local v
    for v in wasm-upstream wasm-jit; do
        suite $v corrupted '^corrupted_case' 300 "/lane/bench/corrupted_case.beam /lane/build/corrupt.avm"
        grep -E "atomvm_wasm_jit:|Assertion|Aborted|abort" "$RES/suite-$v-corrupted.log" | head -3 | cut -c1-160 | sed "s/^/  $v: /"
    done
}

web() {
    log "AtomVM's test pages in headless Chromium (checks of its cypress specs)"
    (cd "$JIT/tests/browser" && [ -d node_modules/playwright-core ] || npm install --no-audit --no-fund --silent)
    NODE_PATH=$JIT/tests/browser/node_modules node "$JIT/atomvm/web.js" "$L" "$RES/web.json"
}

# The benchmark module, and one module per case that profiles it.
bench_beams() {
    mkdir -p "$L/bench"
    cp "$JIT/atomvm/bench/atomvm_wasm_jit_bench.erl" "$L/bench/"
    local c
    for c in fib loop lists tuples messages binaries maps; do
        printf -- '-module(bench_%s).\n-export([start/0]).\nstart() -> atomvm_wasm_jit_bench:profile(%s).\n' "$c" "$c" \
            >"$L/bench/bench_$c.erl"
    done
    in_chroot sh -c "cd /lane/bench && erlc *.erl"
}

bench() {
    log "the Erlang benchmark set, $ROUNDS interleaved rounds"
    bench_beams
    local b=/lane/bench/atomvm_wasm_jit_bench.beam
    cat >"$L/bench/variants.json" <<EOF
[
 {"name": "native-jit", "cwd": "/lane/build/native-jit", "cmd": ["src/AtomVM", "$b", "libs/atomvmlib-x86_64.avm"]},
 {"name": "native-interp", "cwd": "/lane/build/native-interp", "cmd": ["src/AtomVM", "$b", "libs/atomvmlib.avm"]},
 {"name": "wasm-interp", "cwd": "/lane/build/wasm-interp", "cmd": ["node", "src/AtomVM.mjs", "$b", "$E/libs/atomvmlib-emscripten.avm"]},
 {"name": "wasm-upstream", "cwd": "/lane/build/wasm-upstream", "cmd": ["node", "src/AtomVM.mjs", "$b", "$E/libs/atomvmlib-emscripten-wasm32.avm"]},
 {"name": "wasm-jit", "cwd": "/lane/build/wasm-jit", "cmd": ["node", "src/AtomVM.mjs", "$b", "$E/libs/atomvmlib-emscripten-wasm32.avm"]},
 {"name": "wasm-jit-at-load", "cwd": "/lane/build/wasm-jit", "cmd": ["env", "ATOMVM_WASM_JIT_TIER_UP=0", "node", "src/AtomVM.mjs", "$b", "$E/libs/atomvmlib-emscripten-wasm32.avm"]}
EOF
    local k
    for k in "$L"/build/keep/*/; do
        [ -d "$k" ] || continue
        k=$(basename "$k")
        printf ',\n {"name": "wasm-jit@%s", "cwd": "/lane/build/keep/%s", "cmd": ["node", "src/AtomVM.mjs", "%s", "%s"]}' \
            "$k" "$k" "$b" "$E/libs/atomvmlib-emscripten-wasm32.avm" >>"$L/bench/variants.json"
    done
    printf '\n]\n' >>"$L/bench/variants.json"
    in_chroot node /lane/jit/atomvm/bench.js /lane/bench/variants.json "$ROUNDS" /lane/results/bench.json |
        tee "$RES/bench.txt"
    log "the same set in headless Chromium on the web builds, beside node's"
    (cd "$JIT/tests/browser" && [ -d node_modules/playwright-core ] || npm install --no-audit --no-fund --silent)
    NODE_PATH=$JIT/tests/browser/node_modules node "$JIT/atomvm/web-bench.js" "$L" "$ROUNDS" \
        "$RES/bench.json" "$RES/web-bench.json" | tee "$RES/web-bench.txt"
}

profile() {
    log "profile of this library's AtomVM (--profiling-funcs, node --cpu-prof), per case"
    local dir=/lane/results/profiles c
    mkdir -p "$L/results/profiles"
    rm -rf "$L"/results/profiles/*
    for c in fib loop lists tuples messages binaries maps; do
        # The case ends node itself (process.exit), which writes the
        # profiles; a matched pattern would kill it first.
        in_chroot sh -c "cd /lane/build/wasm-jit-prof && node /lane/jit/atomvm/run-until.js '^BENCH never' 600 \
            node --cpu-prof --cpu-prof-dir=$dir/$c src/AtomVM.mjs /lane/bench/bench_$c.beam \
            /lane/bench/atomvm_wasm_jit_bench.beam $E/libs/atomvmlib-emscripten-wasm32.avm" >/dev/null || true
    done
    in_chroot node /lane/jit/atomvm/profile.js "$dir" /lane/results/bench.json | tee "$RES/profile.txt"
}

# keep NAME: a copy of the node build with this library, for bench.
keep() {
    log "keeping the current wasm-jit build as wasm-jit@$1"
    mkdir -p "$L/build/keep/$1/src"
    cp "$L/build/wasm-jit/src/AtomVM.mjs" "$L/build/wasm-jit/src/AtomVM.wasm" "$L/build/keep/$1/src/"
}

inlining() {
    log "this library's AtomVM for node compiled without -sINLINING_LIMIT"
    local tree=$L/src/AtomVM-jit-noinl cmake
    rm -rf "$tree"
    cp -a "$L/src/AtomVM-jit" "$tree"
    cmake=$tree/src/platforms/emscripten/src/CMakeLists.txt
    grep -q -- ' -sINLINING_LIMIT' "$cmake" || {
        echo "lane: $cmake has no -sINLINING_LIMIT to drop"
        exit 1
    }
    sed -i 's/ -sINLINING_LIMIT//' "$cmake"
    emscripten wasm-jit-noinl AtomVM-jit-noinl -DAVM_DISABLE_JIT=OFF -DATOMVM_WASM_JIT_DIR=/lane/jit
    ls -l "$L"/build/wasm-jit/src/AtomVM.wasm "$L"/build/wasm-jit-noinl/src/AtomVM.wasm | awk '{print $5, $9}'
    suite_set wasm-jit-noinl
    log "the Erlang benchmark set, $ROUNDS interleaved rounds, with and without -sINLINING_LIMIT"
    bench_beams
    local b=/lane/bench/atomvm_wasm_jit_bench.beam libs=$E/libs/atomvmlib-emscripten-wasm32.avm
    cat >"$L/bench/variants-inlining.json" <<EOF
[
 {"name": "native-jit", "cwd": "/lane/build/native-jit", "cmd": ["src/AtomVM", "$b", "libs/atomvmlib-x86_64.avm"]},
 {"name": "wasm-jit", "cwd": "/lane/build/wasm-jit", "cmd": ["node", "src/AtomVM.mjs", "$b", "$libs"]},
 {"name": "wasm-jit-noinl", "cwd": "/lane/build/wasm-jit-noinl", "cmd": ["node", "src/AtomVM.mjs", "$b", "$libs"]}
]
EOF
    in_chroot node /lane/jit/atomvm/bench.js /lane/bench/variants-inlining.json "$ROUNDS" \
        /lane/results/inlining.json | tee "$RES/inlining.txt"
}

newest() {
    log "this library in AtomVM linked by the newest Emscripten in Debian (sid)"
    "$JIT/atomvm/newest.sh" "$L"
}

STAGES=()
for arg in "$@"; do
    case "$arg" in
    build | suites | cache | web | bench | profile | newest | inlining) STAGES+=("$arg") ;;
    keep=?*) STAGES+=("keep ${arg#keep=}") ;;
    *) ATOMVM=$arg ;;
    esac
done
[ ${#STAGES[@]} -gt 0 ] || STAGES=(build suites cache web bench profile newest)
mounts
packages
sources
for s in "${STAGES[@]}"; do $s; done
