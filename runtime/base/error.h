/* Error codes shared by every part of parley: 0 is success, a negative PL_E... is failure.
 * The list is one X-macro so the enum, pl_strerror() and pl_err_name() never disagree.
 * Add new codes at the end; never renumber. */
#ifndef PL_ERROR_H
#define PL_ERROR_H

#define PL_ERRNO_MAP(XX)                                                                           \
    XX(ENOMEM, "out of memory")                                                                    \
    XX(EINVAL, "invalid argument")                                                                 \
    XX(EIO, "input/output error")                                                                  \
    XX(ENOENT, "no such file or directory")                                                        \
    XX(ESYNTAX, "syntax error")                                                                    \
    XX(ELIMIT, "limit exceeded")                                                                   \
    XX(EINVALID, "the bot has errors")                                                             \
    XX(ENOTFOUND, "not found")                                                                     \
    XX(ELOOP, "step budget exhausted")                                                             \
    XX(ECONFLICT, "changed by someone else meanwhile")                                             \
    XX(ESTORE, "the store failed")                                                                 \
    XX(EDENIED, "not accepted as proof of identity")                                               \
    XX(EBUSY, "held by another turn for too long")

enum {
    PL__ERR_FIRST = 0,
#define XX(code, msg) PL__IDX_##code,
    PL_ERRNO_MAP(XX)
#undef XX
};

typedef enum {
    PL_OK = 0,
#define XX(code, msg) PL_##code = -PL__IDX_##code,
    PL_ERRNO_MAP(XX)
#undef XX
} pl_errno_t;

/* A static, human-readable text for an error code; never NULL. */
const char *pl_strerror(int err);
/* The code's name, e.g. "PL_ENOMEM"; never NULL. */
const char *pl_err_name(int err);

#endif
