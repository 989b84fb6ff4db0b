/* Test stand-in for the NIF descriptor of AtomVM's nifs.h. */
#ifndef TEST_ATOMVM_NIFS_H
#define TEST_ATOMVM_NIFS_H
#include "context.h"
#include "exportedfunction.h"
#include "term.h"

typedef term (*NifImpl)(Context *ctx, int argc, term argv[]);
struct Nif
{
    struct ExportedFunction base;
    NifImpl nif_ptr;
};
#endif
