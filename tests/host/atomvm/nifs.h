/* Test stand-in for the NIF descriptor of AtomVM's nifs.h. */
#ifndef TEST_ATOMVM_NIFS_H
#define TEST_ATOMVM_NIFS_H
#include "context.h"
#include "term.h"

enum FunctionType
{
    NIFFunctionType = 2
};
struct ExportedFunction
{
    enum FunctionType type;
};
typedef term (*NifImpl)(Context *ctx, int argc, term argv[]);
struct Nif
{
    struct ExportedFunction base;
    NifImpl nif_ptr;
};
#endif
