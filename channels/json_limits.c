/* JSON from the network, within limits: valid UTF-8, nesting at most PL_SRV_MAX_DEPTH, one
 * object, and an error that says where it went wrong. */
#include "server_int.h"
#include "base/utf8.h"

#include <stdio.h>

int pl__json_depth(const char *s, size_t len)
{
    int depth = 0, max = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                max = depth;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return max;
}

cJSON *pl__json_parse(const char *s, size_t len, pl_srv_err_t *err, char *msg, size_t msglen)
{
    if (!pl_utf8_valid(s, len)) {
        *err = PL_ERR_NOT_UTF8;
        snprintf(msg, msglen, "the message is not valid UTF-8");
        return NULL;
    }
    if (pl__json_depth(s, len) > PL_SRV_MAX_DEPTH) {
        *err = PL_ERR_TOO_DEEP;
        snprintf(msg, msglen, "JSON nested deeper than %d", PL_SRV_MAX_DEPTH);
        return NULL;
    }
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    if (o == NULL || !cJSON_IsObject(o)) {
        size_t at = o == NULL && end != NULL && end >= s ? (size_t)(end - s) : 0;
        if (o == NULL && cJSON_GetErrorPtr() != NULL && cJSON_GetErrorPtr() >= s &&
            cJSON_GetErrorPtr() <= s + len)
            at = (size_t)(cJSON_GetErrorPtr() - s);
        *err = PL_ERR_BAD_JSON;
        if (o == NULL)
            snprintf(msg, msglen, "not valid JSON at byte %zu", at);
        else
            snprintf(msg, msglen, "expected a JSON object");
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
