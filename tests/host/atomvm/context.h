/* Test stand-in for AtomVM's Context: the fields generated code touches sit
 * at the offsets of spec section 2; `global` is the host's. */
#ifndef TEST_ATOMVM_CONTEXT_H
#define TEST_ATOMVM_CONTEXT_H
#include <stddef.h>
#include <stdint.h>
#include "globalcontext.h"
#include "list.h"
#include "term.h"

/* AtomVM's memory.h: a process heap, with its fragments. */
typedef struct HeapFragment HeapFragment;
struct HeapFragment
{
    HeapFragment *next;
    term mso_list;
};

/* Past this many times the need, test_heap shrinks the heap. */
#define HEAP_NEED_GC_SHRINK_THRESHOLD_COEFF 64

typedef struct Heap
{
    HeapFragment *root;
    term *heap_start;
    term *heap_ptr;
    term *heap_end;
} Heap;

typedef struct Context Context;
struct Context
{
    GlobalContext *global; /* 0x00 */
    Heap heap; /* 0x04 .. 0x13 */
    term *e; /* 0x14 */
    term x[17]; /* 0x18 */
    term cp; /* 0x5C */
    term *fr; /* 0x60 */
    term bs; /* 0x64 */
    size_t bs_offset; /* 0x68 */
    /* What jit_trim_live_regs (entry 7) looks at first. */
    struct ListHead extended_x_regs;
};

_Static_assert(offsetof(struct Context, heap.heap_ptr) == 0xC, "heap_ptr");
_Static_assert(offsetof(struct Context, e) == 0x14, "e");
_Static_assert(offsetof(struct Context, x) == 0x18, "x");
_Static_assert(offsetof(struct Context, cp) == 0x5C, "cp");
_Static_assert(offsetof(struct Context, fr) == 0x60, "fr");
_Static_assert(offsetof(struct Context, bs) == 0x64, "bs");
_Static_assert(offsetof(struct Context, bs_offset) == 0x68, "bs_offset");
#endif
