/* Test stand-in for AtomVM's exportedfunction.h: the function types, and
 * what get_imported_bif reads (a struct Bif starts with its
 * ExportedFunction, as in AtomVM). */
#ifndef TEST_ATOMVM_EXPORTEDFUNCTION_H
#define TEST_ATOMVM_EXPORTEDFUNCTION_H
#include "context.h"
#include "term.h"

enum FunctionType
{
    InvalidFunctionType = 0,
    NIFFunctionType = 2,
    BIFFunctionType = 4,
};

struct ExportedFunction
{
    enum FunctionType type;
};

typedef term (*BifImpl0)(Context *ctx);

struct Bif
{
    struct ExportedFunction base;
    BifImpl0 bif0_ptr;
};
#endif
