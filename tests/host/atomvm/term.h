/* Test stand-in: a term is a tagged word; a binary is a pointer to a
 * TestBinary with tag 0x2, an atom is (index << 6) | 0xB; a map is a
 * boxed pointer (tag 0x2) to a header, its keys' tuple (a boxed pointer
 * to a header whose bits 6 and up are the arity, then the keys), and its
 * values. */
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
#define TERM_PRIMARY_MASK 0x3
#define TERM_PRIMARY_BOXED 0x2
#define TERM_PRIMARY_IMMED 0x3
#define TERM_BOXED_TUPLE 0x0
#define TERM_BOXED_MAP 0x2C
#define TERM_MAP_NOT_FOUND -1

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
static inline avm_int_t term_to_int(term t) { return (avm_int_t) t >> 4; }
static inline term term_from_atom_index(uint32_t i) { return ((term) i << 6) | TERM_IMMED2_ATOM; }
static inline bool term_is_atom(term t) { return (t & TERM_IMMED2_TAG_MASK) == TERM_IMMED2_ATOM; }
static inline const term *term_to_const_term_ptr(term t) { return (const term *) (t & ~(uintptr_t) 0x3); }
static inline size_t term_get_map_keys_offset(void) { return 1; }
static inline term term_get_map_keys(term t) { return term_to_const_term_ptr(t)[term_get_map_keys_offset()]; }
static inline size_t term_get_map_value_offset(void) { return 2; }
static inline int term_get_tuple_arity(term t) { return (int) (term_to_const_term_ptr(t)[0] >> 6); }
static inline term term_get_tuple_element(term t, int i) { return term_to_const_term_ptr(t)[i + 1]; }
#endif
