#!/usr/bin/env bash
# Build, test and demo atomvm-wasm-jit. Each command installs what is missing
# (Debian packages; needs root or sudo) and builds what it needs.
#
#   ./run.sh demo    build the library and run a JIT module in the test host
#   ./run.sh test    run every test: Rust (host), lints, node end-to-end in
#                    the single-thread and -pthread variants
#   ./run.sh bench   measure against the C runtime's design; prints a table
#                    and writes bench-results.json
#   ./run.sh fuzz [S] fuzz loading, the differential oracle, the instruction reader and cache entries, S seconds each (default 60)
#   ./run.sh compat  the end-to-end suite linked by Emscripten 3.1.69 (Debian 13)
#   ./run.sh browser the -pthread suite and the demo page in headless Chromium
#   ./run.sh build   build the two static libraries and the test programs
#   ./run.sh lint    cargo fmt and clippy, host and wasm
#   ./run.sh lib     build the library as AtomVM links it: target/atomvm/
#   ./run.sh atomvm [STAGE...] build AtomVM 0.7 with it and run it (atomvm/lane.sh)
#   ./run.sh deps    only install the Debian packages
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD

# Debian's Rust 1.96 has the std sources needed for -Zbuild-std; use it for
# everything, ahead of any rustup toolchain on PATH.
export PATH="/usr/bin:$PATH"
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
export NODE_PATH=/usr/share/nodejs # emcc 3.1.6 looks for acorn there
TARGET=wasm32-unknown-emscripten
# Nothing panics on input (errors are returned), so a panic may abort at once:
# that drops std's panic machinery (17 KB of the linked .wasm).
# Target features, chosen on purpose: the MVP plus sign-ext and mutable
# globals (every Emscripten 3.1.x program has them), and for -pthread
# programs atomics and bulk-memory (thread-local storage in a shared memory
# needs both). Not rustc's default CPU, whose reference-types, multivalue and
# call-indirect-overlong the library does not use and binaryen 120 (Debian
# 13's, with Emscripten 3.1.69) refuses; see `lib_fixup`.
ST_FLAGS="-Zunstable-options -Cpanic=immediate-abort -C target-cpu=mvp -C target-feature=+sign-ext,+mutable-globals"
MT_FLAGS="$ST_FLAGS -C target-feature=+atomics,+bulk-memory"
FIXTURES=${ATOMVM_WASM_JIT_FIXTURES:-$ROOT/../shared/fixtures}
B=$ROOT/build

log() { printf '\n== %s\n' "$*"; }

deps() {
    local need=() pkg
    for pkg in emscripten cargo-web rustc-web rust-web-src rustfmt-web rust-web-clippy; do
        dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
    done
    command -v node >/dev/null || need+=(nodejs)
    if [ ${#need[@]} -gt 0 ]; then
        log "installing ${need[*]}"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
        # The downloaded .debs are not needed once installed (about 1 GB).
        $sudo apt-get clean
    fi
}

# Free space where the build goes: CI machines have little to spare, and a
# full disk shows up as a confusing compiler error.
disk_free() { log "disk: $(df -h --output=avail "$ROOT" | tail -1 | tr -d ' ') free under $ROOT"; }

# cargo for the wasm target: target dir, RUSTFLAGS, subcommand, then what
# goes after `--` (for clippy).
wasm_cargo() {
    local dir=$1 flags=$2 cmd=$3
    shift 3
    RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags" cargo "$cmd" -q --release --lib --target $TARGET \
        -Zbuild-std=std,panic_abort --target-dir "$ROOT/target/$dir" "$@"
}

# LLVM declares bulk-memory-opt (a subset of bulk-memory) with bulk-memory;
# binaryen 120 does not know the name and emcc 3.1.69 passes every declared
# feature to it, so the objects stop declaring it (src/bin/jit-objfeatures.rs);
# emranlib then writes the archive's index again.
lib_fixup() {
    cargo run -q --release --bin jit-objfeatures -- "$1" bulk-memory-opt >/dev/null
    emranlib "$1"
}

# The library as AtomVM links it (-pthread), where the CMake lines of
# atomvm/integration/ expect it: target/atomvm/libatomvm_wasm_jit.a.
lib() {
    deps
    wasm_cargo wasm-mt "$MT_FLAGS" build
    lib_fixup "$(lib_mt)"
    mkdir -p "$ROOT/target/atomvm"
    cp "$(lib_mt)" "$ROOT/target/atomvm/libatomvm_wasm_jit.a"
    echo "$ROOT/target/atomvm/libatomvm_wasm_jit.a"
}

lib_st() { echo "$ROOT/target/wasm-st/$TARGET/release/libatomvm_wasm_jit.a"; }
lib_mt() { echo "$ROOT/target/wasm-mt/$TARGET/release/libatomvm_wasm_jit.a"; }

# The test programs include Emscripten's table cache (getWasmTableEntry), as
# programs with invoke_* wrappers do, to check the library keeps it in step.
EMCC_COMMON=(-O2 -std=gnu11 -Wall -Iinclude -Itests/host -Itests/host/atomvm
    --js-library emscripten/atomvm_wasm_jit.js '-sDEFAULT_LIBRARY_FUNCS_TO_INCLUDE=$getWasmTableEntry'
    -sALLOW_TABLE_GROWTH -sALLOW_MEMORY_GROWTH -sWASM_ASYNC_COMPILATION=0 -sNODERAWFS -sEXIT_RUNTIME=1)

emcc_quiet() {
    # A known, harmless note: pthreads + memory growth is what AtomVM itself
    # uses.
    emcc "$@" 2>&1 | { grep -v -e "Wpthreads-mem-growth" || true; }
    return "${PIPESTATUS[0]}"
}

build() {
    deps
    log "building the static libraries (single thread and -pthread)"
    wasm_cargo wasm-st "$ST_FLAGS" build
    wasm_cargo wasm-mt "$MT_FLAGS" build
    lib_fixup "$(lib_st)"
    lib_fixup "$(lib_mt)"
    log "generating test streams"
    cargo run -q --bin jit-streamgen -- "$B/streams"
    log "linking the test host with emcc $(emcc --version | head -1 | sed 's/.*) //')"
    mkdir -p "$B"
    local host=(tests/host/host.c c_shim/jit_stream_wasm_shim.c)
    emcc_quiet "${EMCC_COMMON[@]}" -sENVIRONMENT=node tests/host/tests.c "${host[@]}" "$(lib_st)" -o "$B/tests-st.js"
    emcc_quiet "${EMCC_COMMON[@]}" -sENVIRONMENT=node,worker -pthread -sPTHREAD_POOL_SIZE=6 \
        tests/host/tests.c "${host[@]}" "$(lib_mt)" -o "$B/tests-mt.js"
    emcc_quiet "${EMCC_COMMON[@]}" -sENVIRONMENT=node tests/host/demo.c "${host[@]}" "$(lib_st)" -o "$B/demo.js"
    # The same host in a constrained program: a table that cannot grow, and
    # at most 64 MB of memory.
    local constrained=()
    local flag
    for flag in "${EMCC_COMMON[@]}"; do
        [ "$flag" = -sALLOW_TABLE_GROWTH ] || constrained+=("$flag")
    done
    emcc_quiet "${constrained[@]}" -sMAXIMUM_MEMORY=64MB -sENVIRONMENT=node tests/host/tests.c "${host[@]}" \
        "$(lib_st)" -o "$B/tests-constrained.js"
}

# Bytes the library adds to a linked -O3 -pthread program's .wasm.
wasm_bytes_added() {
    local d=$B/size
    mkdir -p "$d"
    # A failed link must stop the bench: a stale or partial .wasm would be
    # measured instead (a command substitution does not inherit set -e).
    rm -f "$d"/*.wasm "$d"/*.js
    emcc_quiet -O3 -pthread benches/size_main.c benches/size_stubs.c -o "$d/stubs.js" >&2 || return 1
    emcc_quiet -O3 -pthread benches/size_main.c benches/size_glue.c "$(lib_mt)" \
        --js-library emscripten/atomvm_wasm_jit.js -sALLOW_TABLE_GROWTH -o "$d/lib.js" >&2 || return 1
    echo $(($(stat -c %s "$d/lib.wasm") - $(stat -c %s "$d/stubs.wasm")))
}

bench() {
    disk_free
    build
    log "benchmark (node $(node --version), -O3 -pthread build)"
    emcc_quiet -O3 -std=gnu11 -Wall -pthread -Iinclude -Itests/host -Itests/host/atomvm \
        --js-library emscripten/atomvm_wasm_jit.js -sALLOW_TABLE_GROWTH -sALLOW_MEMORY_GROWTH \
        -sWASM_ASYNC_COMPILATION=0 -sNODERAWFS -sEXIT_RUNTIME=1 -sENVIRONMENT=node,worker \
        -sINITIAL_MEMORY=64MB -sEXPORTED_RUNTIME_METHODS=addFunction \
        benches/bench.c tests/host/host.c c_shim/jit_stream_wasm_shim.c "$(lib_mt)" -o "$B/bench.js"
    local bytes
    bytes=$(wasm_bytes_added) || { echo "the size probe did not link" >&2; exit 1; }
    node "$B/bench.js" "$B/streams" "$ROOT/bench-results.json" "$bytes" "node $(node --version)"
    browser_deps
    web_build
    log "the same benchmark in headless Chromium"
    WASM_BYTES_ADDED=$bytes node tests/browser/run.js "$B/web" bench
}

# Coverage-guided fuzzing (cargo fuzz, libFuzzer), natively, of both
# targets for S seconds each: `load` (parsing, checks, verdict, rewriting
# under every option, the memory budget, the registry), seeded by the test
# generator and the fixtures; `diff` (the differential oracle on generated
# programs and the fixtures' functions); `reader` (the analysis's
# instruction reader against wasmparser's, on arbitrary bodies); `cache`
# (reading cache entries).
fuzz() {
    local seconds=${1:-60}
    deps
    command -v cargo-fuzz >/dev/null || [ -x "$HOME/.cargo/bin/cargo-fuzz" ] || {
        log "installing cargo-fuzz from crates.io"
        cargo install -q cargo-fuzz --locked
    }
    local corpus=$ROOT/fuzz/corpus
    mkdir -p "$corpus/load" "$corpus/diff" "$corpus/reader" "$corpus/cache"
    cargo run -q --bin jit-streamgen -- "$B/streams"
    find "$B/streams" "$B/streams/bad" -maxdepth 1 -name '*.stream' -size -1M -exec cp {} "$corpus/load/" \;
    [ -d "$FIXTURES" ] && cp "$FIXTURES"/*.stream "$corpus/load/"
    local i
    for i in $(seq 1 16); do
        [ -f "$corpus/diff/seed$i" ] || head -c 512 /dev/urandom >"$corpus/diff/seed$i"
    done
    fuzz_target load "$seconds"
    fuzz_target diff "$seconds"
    # Bodies to start from: the fixtures' bytes (their code among them).
    [ -d "$FIXTURES" ] && cp "$FIXTURES"/*.stream "$corpus/reader/"
    [ -n "$(ls "$corpus/reader")" ] || head -c 256 /dev/urandom >"$corpus/reader/seed"
    fuzz_target reader "$seconds"
    [ -n "$(ls "$corpus/cache")" ] || head -c 128 /dev/urandom >"$corpus/cache/seed"
    fuzz_target cache "$seconds"
}

fuzz_target() {
    local target=$1 seconds=$2 out
    log "fuzzing $target for $seconds s (seeds: $(ls "$ROOT/fuzz/corpus/$target" | wc -l))"
    out=$(mktemp)
    # No sanitizer: the targets drive safe Rust; debug assertions (overflow
    # checks) stay on.
    if ! (cd fuzz && RUSTC_BOOTSTRAP=1 PATH="$HOME/.cargo/bin:$PATH" cargo fuzz run -s none "$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 >"$out" 2>&1); then
        grep -E -B2 -A30 "panicked|ERROR|^error" "$out" | head -60 || tail -40 "$out"
        echo "fuzz $target: failed (a crashing input is saved under fuzz/artifacts/$target/)"
        rm -f "$out"
        return 1
    fi
    echo "fuzz $target: $(grep -E '^Done [0-9]+ runs' "$out"), $(grep -oE 'cov: [0-9]+' "$out" | tail -1) edges"
    rm -f "$out"
}

# The end-to-end suite linked by Debian 13's Emscripten 3.1.69 (AtomVM needs
# an Emscripten newer than Debian 12's 3.1.6), in a trixie chroot made with
# debootstrap from the same package registry, at -O3 as AtomVM links (emcc
# then runs binaryen 120's wasm-opt with a flag for every target feature the
# objects declare: see lib_fixup).
# The Debian 13 (trixie) chroot with Emscripten 3.1.69, made once.
trixie() {
    R=$B/trixie
    if [ ! -x "$R/usr/bin/emcc" ]; then
        log "making a Debian 13 (trixie) chroot with Emscripten 3.1.69"
        dpkg -s debootstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
        rm -rf "$R"
        debootstrap --variant=minbase trixie "$R" http://deb.debian.org/debian >/dev/null
        chroot "$R" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends emscripten nodejs >/dev/null &&
            apt-get clean && rm -rf /var/lib/apt/lists/*'
    fi
}

compat_tests() {
    local R
    trixie
    local W=$R/work
    rm -rf "$W"
    mkdir -p "$W/lib"
    cp -r include tests c_shim emscripten "$W/"
    cp "$(lib_st)" "$W/lib/libst.a"
    cp "$(lib_mt)" "$W/lib/libmt.a"
    cp -r "$B/streams" "$W/streams"
    local fixtures=()
    if [ -d "$FIXTURES" ]; then
        cp -r "$FIXTURES" "$W/fixtures"
        fixtures=(fixtures)
    fi
    log "node end-to-end with $(chroot "$R" emcc --version | head -1 | sed 's/ (.*) / /;s/ ()//'), node $(chroot "$R" node --version)"
    local flags="-O3 -std=gnu11 -Iinclude -Itests/host -Itests/host/atomvm --js-library emscripten/atomvm_wasm_jit.js"
    flags="$flags -sDEFAULT_LIBRARY_FUNCS_TO_INCLUDE=\\\$getWasmTableEntry"
    flags="$flags -sALLOW_TABLE_GROWTH -sALLOW_MEMORY_GROWTH -sWASM_ASYNC_COMPILATION=0 -sNODERAWFS -sEXIT_RUNTIME=1"
    local srcs="tests/host/tests.c tests/host/host.c c_shim/jit_stream_wasm_shim.c"
    chroot "$R" sh -c "cd /work && emcc $flags -sENVIRONMENT=node $srcs lib/libst.a -o st.js 2>link.log &&
        emcc $flags -pthread -sPTHREAD_POOL_SIZE=6 -sENVIRONMENT=node,worker $srcs lib/libmt.a -o mt.js 2>>link.log" || {
        grep -v -e "Wpthreads-mem-growth" "$W/link.log" | tail -20
        echo "emcc 3.1.69 failed to link the test host at -O3"
        return 1
    }
    log "node end-to-end, st, Emscripten 3.1.69"
    run_counted chroot "$R" env -u NODE_EXTRA_CA_CERTS sh -c "cd /work && node st.js streams ${fixtures[*]}"
    log "node end-to-end, -pthread, Emscripten 3.1.69"
    run_counted chroot "$R" env -u NODE_EXTRA_CA_CERTS sh -c "cd /work && node mt.js streams ${fixtures[*]}"
}

# Web builds of the -pthread test host, the demo and the benchmark, as
# AtomVM builds for the web (-sENVIRONMENT=web,worker -sPROXY_TO_PTHREAD),
# with the streams (and fixtures) preloaded.
web_build() {
    local W=$B/web
    mkdir -p "$W"
    local flags=(-std=gnu11 -Wall -Iinclude -Itests/host -Itests/host/atomvm
        --js-library emscripten/atomvm_wasm_jit.js '-sDEFAULT_LIBRARY_FUNCS_TO_INCLUDE=$getWasmTableEntry' -sALLOW_TABLE_GROWTH -sALLOW_MEMORY_GROWTH
        -pthread -sPROXY_TO_PTHREAD -sENVIRONMENT=web,worker -sEXIT_RUNTIME=1 -sPTHREAD_POOL_SIZE=8
        --preload-file "$B/streams@/streams")
    [ -d "$FIXTURES" ] && flags+=(--preload-file "$FIXTURES@/fixtures")
    local host=(tests/host/host.c c_shim/jit_stream_wasm_shim.c "$(lib_mt)")
    log "web builds (-pthread, PROXY_TO_PTHREAD)"
    emcc_quiet -O2 "${flags[@]}" tests/host/tests.c "${host[@]}" -o "$W/tests.js"
    emcc_quiet -O2 "${flags[@]}" tests/host/demo.c "${host[@]}" -o "$W/demo.js"
    emcc_quiet -O3 "${flags[@]}" -sINITIAL_MEMORY=64MB -sEXPORTED_RUNTIME_METHODS=addFunction \
        benches/bench.c "${host[@]}" -o "$W/bench.js"
    cp tests/browser/page.html "$W/"
}

# Headless Chromium (Debian's) driven by playwright-core (npm).
browser_deps() {
    dpkg -s chromium >/dev/null 2>&1 || {
        log "installing chromium"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        apt-get clean
    }
    [ -d tests/browser/node_modules/playwright-core ] ||
        (cd tests/browser && npm install --no-audit --no-fund --silent)
}

browser_tests() {
    browser_deps
    web_build
    log "in headless Chromium: the end-to-end suite (-pthread) and the demo page"
    local fixtures=""
    [ -d "$FIXTURES" ] && fixtures=1
    BROWSER_FIXTURES=$fixtures run_counted node tests/browser/run.js "$B/web" tests demo
}

demo() {
    build
    log "demo"
    node "$B/demo.js" "$B/streams"
}

lint() {
    log "lints: cargo fmt, clippy (host and $TARGET)"
    cargo fmt --all -- --check
    (cd fuzz && cargo fmt --all -- --check)
    cargo clippy -q --all-targets -- -D warnings
    wasm_cargo wasm-st "$ST_FLAGS" clippy -- -D warnings
    wasm_cargo wasm-mt "$MT_FLAGS" clippy -- -D warnings
}

PASSED=0
FAILED=0
# Adds the counts of "N passed; M failed" / "N passed, M failed" in $1.
count() {
    local p f
    p=$(grep -oE '[0-9]+ passed' "$1" | awk '{s += $1} END {print s + 0}')
    f=$(grep -oE '[0-9]+ failed' "$1" | awk '{s += $1} END {print s + 0}')
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
}

# Runs a test command, shows its output, counts its results; stops on failure.
run_counted() {
    local out
    out=$(mktemp)
    local rc=0
    "$@" >"$out" 2>&1 || rc=$?
    grep -vE '^(running 0 tests|test result: ok. 0 passed.*)$' "$out" | grep -v '^$' || true
    count "$out"
    rm -f "$out"
    if [ $rc -ne 0 ]; then
        echo "tests: $PASSED passed, $((FAILED > 0 ? FAILED : 1)) failed"
        exit $rc
    fi
}

node_tests() {
    local fixtures=()
    [ -d "$FIXTURES" ] && fixtures=("$FIXTURES")
    local v
    for v in st mt; do
        log "node end-to-end, $v: tail-linked jumps and direct primitives (default)"
        run_counted node "$B/tests-$v.js" "$B/streams" "${fixtures[@]}"
        log "node end-to-end, $v: modules as generated (only the imports adapted)"
        run_counted node "$B/tests-$v.js" --no-tail-calls --no-direct-primitives "$B/streams" "${fixtures[@]}"
    done
    log "node end-to-end, st: an engine without tail calls (the runtime must detect it)"
    run_counted node --no-experimental-wasm-return-call "$B/tests-st.js" "$B/streams" "${fixtures[@]}"
    log "node end-to-end, st: a program without -sALLOW_TABLE_GROWTH, at most 64 MB"
    run_counted node "$B/tests-constrained.js" --constrained "$B/streams"
}

test_all() {
    disk_free
    build
    log "Rust tests (host)"
    run_counted cargo test -q
    lint
    node_tests
    compat_tests
    browser_tests
    fuzz 40 # four targets: under three minutes in all
    disk_free
    log "summary"
    echo "tests: $PASSED passed, $FAILED failed"
}

case "${1:-}" in
atomvm)
    # AtomVM in the loop (see atomvm/lane.sh); needs AtomVM's sources.
    lib
    trixie
    shift
    exec "$ROOT/atomvm/lane.sh" "$@"
    ;;
deps) deps ;;
lib) lib ;;
lint) lint ;;
build) build ;;
demo) demo ;;
bench) bench ;;
fuzz) fuzz "${2:-60}" ;;
compat)
    build
    compat_tests
    ;;
browser)
    build
    browser_tests
    ;;
test) test_all ;;
*)
    sed -n '2,19p' "$0"
    exit 2
    ;;
esac
