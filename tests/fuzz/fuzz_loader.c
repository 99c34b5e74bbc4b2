/* Fuzz target: any bytes as a bot file must give diagnostics or a bot, never a crash, a hang
 * or a leak. Built with libFuzzer when PL_FUZZ is on (clang); otherwise main() replays the
 * files named on the command line, which CTest does with the bad fixtures. */
#include "base/diag.h"
#include "dialog/bot.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/parley-fuzz-%d.yaml", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    pl_diags_t d;
    pl_diags_init(&d);
    pl_bot_t *bot = NULL;
    pl_bot_load(path, &d, &bot);
    pl_diags_sort(&d);
    FILE *sink = fopen("/dev/null", "w");
    if (sink != NULL) {
        pl_diags_print(&d, sink);
        fclose(sink);
    }
    pl_bot_free(bot);
    pl_diags_cleanup(&d);
    unlink(path);
    return 0;
}

#ifndef PL_FUZZING
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            perror(argv[i]);
            return 1;
        }
        static uint8_t buf[2 * 1024 * 1024];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
#endif
