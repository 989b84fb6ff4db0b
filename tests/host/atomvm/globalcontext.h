/* Test stand-in: atoms are interned by the test host. */
#ifndef TEST_ATOMVM_GLOBALCONTEXT_H
#define TEST_ATOMVM_GLOBALCONTEXT_H
#include "term.h"

typedef const void *AtomString;
#define ATOM_STR(LENSTR, STR) (LENSTR STR)

typedef struct GlobalContext GlobalContext;
term globalcontext_make_atom(GlobalContext *glb, AtomString string);
#endif
