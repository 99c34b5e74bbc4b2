/* Fuzz target: any bytes as a customer's message to the demo bot must give a reply or a
 * clear error, never a crash or a leak, and a refused message leaves the state unchanged.
 * With PL_FUZZ (clang) it is a libFuzzer target; otherwise main() replays files, or with no
 * arguments a built-in set of awkward messages. */
#include "runtime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pl_runtime_t *rt;
static cJSON *state;
static pl_arena_t scratch;

static void setup(void)
{
    if (rt != NULL)
        return;
    const char *dir = getenv("PL_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/dialogs/camera-shop.en.yaml", dir ? dir : ".");
    pl_diags_t d;
    pl_diags_init(&d);
    if (pl_runtime_load(path, &d, &rt) != 0) {
        pl_diags_print(&d, stderr);
        abort();
    }
    pl_diags_cleanup(&d);
    state = cJSON_CreateObject();
    pl_arena_init(&scratch, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    pl_arena_reset(&scratch);
    char *before = cJSON_PrintUnformatted(state);
    pl_event_t ev = {.text = (const char *)data,
                     .len = size,
                     .channel = (pl_channel_t)(size % 3),
                     .now_ms = 1767225600000LL + (int64_t)size};
    pl_turn_t t;
    int rc = pl_runtime_turn(rt, &state, &ev, &scratch, &t);
    if (rc != 0) {
        char *after = cJSON_PrintUnformatted(state);
        if (strcmp(before, after) != 0)
            abort(); /* a refused message must not change the state */
        free(after);
    }
    free(before);
    if (cJSON_GetArraySize(state) > 64)
        abort(); /* the state must not grow without bound */
    return 0;
}

#ifndef PL_FUZZING
static const char *const awkward[] = {
    "",
    " ",
    "\n",
    "{{slot.budget}}",
    "€€€€€€",
    "1,1,1,1,1,1,1,1,1,1,1,1,1,1",
    "LU-123456 LU-654321",
    "I want a camera for 99999999999999999999 euros",
    "Ä Ö Ü ß ẞ",
    "\xF0\x9F\x93\xB7\xF0\x9F\x98\x80",
    "\xC3\x28",
    "a\xE2\x80\x8B"
    "b",
    "I want a camera",
    "-500 €",
    "$",
    "800",
    "video",
    "bye",
};

int main(int argc, char **argv)
{
    int n = 0;
    if (argc < 2) {
        for (size_t i = 0; i < sizeof(awkward) / sizeof(awkward[0]); i++, n++)
            LLVMFuzzerTestOneInput((const uint8_t *)awkward[i], strlen(awkward[i]));
        static char big[5000];
        memset(big, '9', sizeof(big));
        LLVMFuzzerTestOneInput((const uint8_t *)big, sizeof(big));
        LLVMFuzzerTestOneInput((const uint8_t *)big, 4096);
        n += 2;
    }
    for (int i = 1; i < argc; i++, n++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            perror(argv[i]);
            return 1;
        }
        static uint8_t buf[8192];
        size_t len = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
    }
    cJSON_Delete(state);
    pl_arena_cleanup(&scratch);
    pl_runtime_unref(rt);
    printf("replayed %d inputs\n", n);
    return 0;
}
#endif
