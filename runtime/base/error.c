/* Texts and names for the error codes of error.h. */
#include "base/error.h"

const char *pl_strerror(int err)
{
    switch (err) {
    case PL_OK:
        return "success";
#define XX(code, msg)                                                                              \
    case PL_##code:                                                                                \
        return msg;
        PL_ERRNO_MAP(XX)
#undef XX
    }
    return "unknown error";
}

const char *pl_err_name(int err)
{
    switch (err) {
    case PL_OK:
        return "PL_OK";
#define XX(code, msg)                                                                              \
    case PL_##code:                                                                                \
        return "PL_" #code;
        PL_ERRNO_MAP(XX)
#undef XX
    }
    return "PL_EUNKNOWN";
}
