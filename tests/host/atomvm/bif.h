/* Test stand-in for AtomVM's bif.h: the six BIFs the runtime answers for
 * small integers, with AtomVM's semantics on that path (host.c), counting
 * their calls; erlang:map_get/2 on maps of immediate keys. */
#ifndef TEST_ATOMVM_BIF_H
#define TEST_ATOMVM_BIF_H
#include "context.h"
#include "term.h"

term bif_erlang_add_2(Context *ctx, uint32_t fail_label, int live, term arg1, term arg2);
term bif_erlang_sub_2(Context *ctx, uint32_t fail_label, int live, term arg1, term arg2);
term bif_erlang_band_2(Context *ctx, uint32_t fail_label, int live, term arg1, term arg2);
term bif_erlang_bor_2(Context *ctx, uint32_t fail_label, int live, term arg1, term arg2);
term bif_erlang_bxor_2(Context *ctx, uint32_t fail_label, int live, term arg1, term arg2);
term bif_erlang_bsr_2(Context *ctx, uint32_t fail_label, int live, term arg1, term arg2);
term bif_erlang_map_get_2(Context *ctx, uint32_t fail_label, term arg1, term arg2);
#endif
