if (NOT AVM_DISABLE_JIT)
    # atomvm-wasm-jit: the runtime (built by `./run.sh lib` in its checkout)
    # and its JavaScript glue.
    target_link_libraries(AtomVM PRIVATE ${ATOMVM_WASM_JIT_DIR}/target/atomvm/libatomvm_wasm_jit.a)
    target_link_options(AtomVM PRIVATE "SHELL:--js-library ${ATOMVM_WASM_JIT_DIR}/emscripten/atomvm_wasm_jit.js")
    if (AVM_EMSCRIPTEN_ENV STREQUAL "web")
        # The native-code cache keeps its directory in IndexedDB.
        target_link_options(AtomVM PRIVATE -lidbfs.js)
    endif()
endif()
