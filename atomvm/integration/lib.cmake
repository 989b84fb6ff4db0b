    # atomvm-wasm-jit replaces jit_stream_wasm.c: its C shim, compiled with
    # AtomVM's headers (ATOMVM_WASM_JIT_DIR: absolute path of its checkout).
    if (NOT IS_ABSOLUTE "${ATOMVM_WASM_JIT_DIR}" OR NOT EXISTS "${ATOMVM_WASM_JIT_DIR}/c_shim/jit_stream_wasm_shim.c")
        message(FATAL_ERROR "set ATOMVM_WASM_JIT_DIR to the absolute path of an atomvm-wasm-jit checkout")
    endif()
    list(APPEND SOURCE_FILES ${ATOMVM_WASM_JIT_DIR}/c_shim/jit_stream_wasm_shim.c)
