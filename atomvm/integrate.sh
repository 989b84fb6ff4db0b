#!/usr/bin/env bash
# Applies the README's "Integrating into AtomVM" steps to an AtomVM source
# tree (release-0.7 or later), so that its Emscripten build uses
# atomvm-wasm-jit instead of src/platforms/emscripten/src/lib/jit_stream_wasm.c:
#
#   atomvm/integrate.sh ATOMVM_TREE
#
# 1. In src/platforms/emscripten/src/lib/CMakeLists.txt, the line that adds
#    jit_stream_wasm.c is replaced by atomvm/integration/lib.cmake, and the
#    file is deleted (jit_stream_wasm.h, which declares the NIF hook, stays).
# 2. In src/platforms/emscripten/src/CMakeLists.txt, atomvm/integration/
#    link.cmake is inserted after the line linking libAtomVM${PLATFORM_LIB_SUFFIX}.
#
# Then configure with `emcmake cmake -DATOMVM_WASM_JIT_DIR=<absolute path of
# this checkout> ...`, after `./run.sh lib` here. Running it twice is an error.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TREE=${1:?usage: integrate.sh ATOMVM_TREE}
LIB=$TREE/src/platforms/emscripten/src/lib/CMakeLists.txt
SRC=$TREE/src/platforms/emscripten/src/CMakeLists.txt
ADD_C='    list(APPEND SOURCE_FILES jit_stream_wasm.c)'
LINK='target_link_libraries(AtomVM PRIVATE libAtomVM${PLATFORM_LIB_SUFFIX})'

# Replaces the one line of $1 equal to $2 by the contents of $3 (before: keep
# the line and insert after it, with $4 = after).
splice() {
    local file=$1 line=$2 snippet=$3 mode=${4:-replace}
    local n
    n=$(grep -cxF -- "$line" "$file" || true)
    if [ "$n" != 1 ]; then
        echo "integrate.sh: expected one line '$line' in $file, found $n" >&2
        exit 1
    fi
    awk -v line="$line" -v snippet="$snippet" -v mode="$mode" '
        $0 == line {
            if (mode == "after") print
            while ((getline s < snippet) > 0) print s
            next
        }
        { print }' "$file" >"$file.new"
    mv "$file.new" "$file"
}

splice "$LIB" "$ADD_C" "$HERE/integration/lib.cmake"
rm -f "$TREE/src/platforms/emscripten/src/lib/jit_stream_wasm.c"
splice "$SRC" "$LINK" "$HERE/integration/link.cmake" after
echo "integrated atomvm-wasm-jit into $TREE"
