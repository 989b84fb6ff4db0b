/* Test stand-in: a term is a tagged word; a binary is a pointer to a
 * TestBinary with tag 0x2, an atom is (index << 6) | 0xB. */
#ifndef TEST_ATOMVM_TERM_H
#define TEST_ATOMVM_TERM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uintptr_t term;
typedef intptr_t avm_int_t;

#define TERM_IMMED_TAG_MASK 0xF
#define TERM_INTEGER_TAG 0xF
#define TERM_IMMED2_TAG_MASK 0x3F
#define TERM_IMMED2_ATOM 0xB

typedef enum
{
    TermCompareNoOpts = 0,
    TermCompareExact = 1
} TermCompareOpts;

typedef enum
{
    TermCompareMemoryAllocFail = 0,
    TermEquals = 1,
    TermLessThan = 2,
    TermGreaterThan = 4
} TermCompareResult;

struct TestBinary
{
    size_t size;
    const uint8_t *data;
};

static inline term term_from_test_binary(const struct TestBinary *b) { return ((uintptr_t) b) | 0x2; }
static inline bool term_is_binary(term t) { return (t & 0x3) == 0x2; }
static inline const char *term_binary_data(term t)
{
    return (const char *) ((const struct TestBinary *) (t & ~(uintptr_t) 0x3))->data;
}
static inline size_t term_binary_size(term t) { return ((const struct TestBinary *) (t & ~(uintptr_t) 0x3))->size; }
static inline term term_from_int(int32_t v) { return ((uintptr_t) v << 4) | 0xF; }
static inline bool term_is_integer(term t) { return (t & TERM_IMMED_TAG_MASK) == TERM_INTEGER_TAG; }
static inline term term_from_atom_index(uint32_t i) { return ((term) i << 6) | TERM_IMMED2_ATOM; }
static inline bool term_is_atom(term t) { return (t & TERM_IMMED2_TAG_MASK) == TERM_IMMED2_ATOM; }
#endif
