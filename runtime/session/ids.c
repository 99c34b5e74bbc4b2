/* Customer ids nobody can guess: 128 bits from the operating system's random source. */
#include "session/store.h"
#include "base/error.h"

#include <stdio.h>
#include <sys/random.h>

int pl_random_id(char out[33])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n <= 0)
            return PL_EIO;
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}
