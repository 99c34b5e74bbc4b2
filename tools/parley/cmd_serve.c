/* `parley serve`: reads the configuration (a YAML file and command-line overrides) and runs
 * the server of channels/server.h. */
#include "cli.h"
#include "base/error.h"
#include "dialog/yaml_tree.h"
#include "server.h"

#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help[] =
    "usage: parley serve BOT.yaml... [--listen HOST:PORT] [--store SPEC] [--config FILE]\n"
    "                    [--origin URL]... [--jwt-secret-file PATH] [--www DIR] [--demo]\n"
    "                    [--rate-limit N] [--idle-timeout SECONDS]\n"
    "                    [--voice-skill-id ID]... [--voice-cert-cache DIR] [--voice-ca FILE]\n"
    "                    [--insecure-skip-voice-verification]\n"
    "                    [--log-level error|warning|info|debug]\n"
    "\n"
    "Serves the bots to the web widget and the app: HTTP and WebSocket on one port\n"
    "(routes and protocol: channels/README.md). Stop it with Ctrl-C or SIGTERM; SIGHUP, or\n"
    "saving a bot file, reloads the bots (a bot with errors keeps its running version).\n"
    "\n"
    "  --listen HOST:PORT     where to listen (default 127.0.0.1:8080; port 0: any free one)\n"
    "  --store SPEC           sqlite:PATH (default sqlite:parley-state.db), memory, or\n"
    "                         redis://HOST[:PORT][/DB] (password in PARLEY_REDIS_PASSWORD;\n"
    "                         several instances can share one Redis: README, Operations)\n"
    "  --config FILE          a YAML file with the same settings: listen, store, bots,\n"
    "                         origins, jwt_secret_file (or jwt_secret), www, demo,\n"
    "                         log_level, limits: {rate_limit, idle_timeout},\n"
    "                         redis_password (paths in it\n"
    "                         are relative to the file); options given here win\n"
    "  --origin URL           a web page origin allowed to open the WebSocket, exactly as\n"
    "                         browsers send it (repeatable; default: this server's own)\n"
    "  --jwt-secret-file PATH the secret the shop's login signs identity tokens with (HS256,\n"
    "                         32 bytes or more; or in the environment as PARLEY_JWT_SECRET);\n"
    "                         without it, signed identities are refused\n"
    "  --www DIR              the widget's and the demo page's files (default channels/web/www)\n"
    "  --demo                 serve /demo/token, so the demo page can play a signed-in customer\n"
    "  --rate-limit N         messages per 10 seconds per connection or app user (1-100, 20)\n"
    "  --idle-timeout SECONDS an idle WebSocket is closed after this long (10-86400, 600)\n"
    "  --voice-skill-id ID    a skill id the voice webhook (POST /v1/voice/alexa) answers\n"
    "                         (repeatable; requests for other skills are refused)\n"
    "  --voice-cert-cache DIR the voice platform's signing certificate chains, one PEM file\n"
    "                         per chain named like the last part of its URL (this server\n"
    "                         fetches nothing; see channels/README.md for filling it)\n"
    "  --voice-ca FILE        roots those chains must lead to (default: the system's roots,\n"
    "                         /etc/ssl/certs/ca-certificates.crt)\n"
    "  --insecure-skip-voice-verification\n"
    "                         for local development only: voice requests are not verified\n"
    "                         (every such request logs a warning)\n"
    "  --log-level LEVEL      error, warning, info (default) or debug\n"
    "  -h, --help             show this help\n";

#define MAX_LIST 16

typedef struct {
    char *listen, *store, *secret_file, *secret, *www, *log_level, *rate, *idle;
    char *voice_cache, *voice_ca, *redis_password;
    char *bots[MAX_LIST], *origins[MAX_LIST], *skills[MAX_LIST];
    size_t nbots, norigins, nskills;
    int voice_insecure;
    int demo, demo_set;
} settings_t;

/* dir/rel, unless rel is absolute (malloc'd). */
static char *relative_to(const char *dir, const char *rel)
{
    if (rel[0] == '/' || dir == NULL)
        return strdup(rel);
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

static int config_error(const pl_ynode_t *n, const char *msg)
{
    fprintf(stderr, "%s:%d:%d: error: %s\n", n->file, n->line, n->col, msg);
    return -1;
}

static int read_list(const pl_ynode_t *v, const char *dir, char **out, size_t *n, int paths)
{
    if (v->kind != PL_Y_SEQ)
        return config_error(v, "expected a list, e.g. [a, b]");
    for (size_t i = 0; i < v->n; i++) {
        if (v->kids[i]->kind != PL_Y_SCALAR || *n == MAX_LIST)
            return config_error(v->kids[i], "expected a text (at most 16 entries)");
        out[(*n)++] = paths ? relative_to(dir, v->kids[i]->str) : strdup(v->kids[i]->str);
    }
    return 0;
}

/* limits: {rate_limit: N, idle_timeout: SECONDS}. */
static int read_limits(const pl_ynode_t *v, settings_t *cfg)
{
    if (v->kind != PL_Y_MAP)
        return config_error(v, "'limits' is a mapping: {rate_limit: 20, idle_timeout: 600}");
    for (size_t i = 0; i < v->n; i++) {
        const pl_ynode_t *k = v->kids[2 * i], *x = v->kids[2 * i + 1];
        char **slot = strcmp(k->str, "rate_limit") == 0     ? &cfg->rate
                      : strcmp(k->str, "idle_timeout") == 0 ? &cfg->idle
                                                             : NULL;
        if (slot == NULL)
            return config_error(k, "unknown limit; use rate_limit or idle_timeout");
        if (x->kind != PL_Y_SCALAR)
            return config_error(x, "expected a number");
        if (*slot == NULL)
            *slot = strdup(x->str);
    }
    return 0;
}

/* voice: {skill_ids: [...], cert_cache: DIR, trusted_ca: FILE}. */
static int read_voice(const pl_ynode_t *v, const char *dir, settings_t *cfg)
{
    if (v->kind != PL_Y_MAP)
        return config_error(v, "'voice' is a mapping: {skill_ids: [...], cert_cache: DIR, "
                               "trusted_ca: FILE}");
    for (size_t i = 0; i < v->n; i++) {
        const pl_ynode_t *k = v->kids[2 * i], *x = v->kids[2 * i + 1];
        if (strcmp(k->str, "skill_ids") == 0) {
            if (cfg->nskills == 0 && read_list(x, dir, cfg->skills, &cfg->nskills, 0) != 0)
                return -1;
            continue;
        }
        char **slot = strcmp(k->str, "cert_cache") == 0   ? &cfg->voice_cache
                      : strcmp(k->str, "trusted_ca") == 0 ? &cfg->voice_ca
                                                          : NULL;
        if (slot == NULL)
            return config_error(k, "unknown voice setting; use skill_ids, cert_cache or trusted_ca");
        if (x->kind != PL_Y_SCALAR)
            return config_error(x, "expected a path");
        if (*slot == NULL)
            *slot = relative_to(dir, x->str);
    }
    return 0;
}

/* Reads the configuration file into cfg; options already set stay. */
static int read_config(const char *path, settings_t *cfg)
{
    static const char *const keys[] = {"listen",    "store",      "bots",  "origins",
                                       "jwt_secret_file", "jwt_secret", "www", "demo",
                                       "log_level", "limits",     "voice", "redis_password"};
    pl_diags_t d;
    pl_diags_init(&d);
    pl_ydoc_t doc;
    int rc = pl_ydoc_load(&doc, path, &d);
    pl_diags_print(&d, stderr);
    pl_diags_cleanup(&d);
    char *copy = strdup(path);
    const char *dir = copy ? dirname(copy) : ".";
    if (rc == 0 && (doc.root == NULL || doc.root->kind != PL_Y_MAP)) {
        fprintf(stderr, "%s: error: the configuration must be a mapping of settings\n", path);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < doc.root->n; i++) {
        const pl_ynode_t *k = doc.root->kids[2 * i], *v = doc.root->kids[2 * i + 1];
        size_t j = 0;
        while (j < sizeof(keys) / sizeof(keys[0]) && strcmp(k->str, keys[j]) != 0)
            j++;
        if (j == sizeof(keys) / sizeof(keys[0])) {
            rc = config_error(k, "unknown setting; use listen, store, bots, origins, "
                                 "jwt_secret_file, jwt_secret, www, demo, log_level, limits, "
                                 "voice or redis_password");
            break;
        }
        if (strcmp(k->str, "limits") == 0) {
            rc = read_limits(v, cfg);
        } else if (strcmp(k->str, "voice") == 0) {
            rc = read_voice(v, dir, cfg);
        } else if (strcmp(k->str, "bots") == 0) {
            rc = cfg->nbots ? 0 : read_list(v, dir, cfg->bots, &cfg->nbots, 1);
        } else if (strcmp(k->str, "origins") == 0) {
            rc = cfg->norigins ? 0 : read_list(v, dir, cfg->origins, &cfg->norigins, 0);
        } else if (strcmp(k->str, "demo") == 0) {
            int b;
            if (!pl_ynode_bool(v, &b))
                rc = config_error(v, "'demo' is true or false");
            else if (!cfg->demo_set)
                cfg->demo = b;
        } else if (v->kind != PL_Y_SCALAR) {
            rc = config_error(v, "expected a text");
        } else {
            char **slot = strcmp(k->str, "listen") == 0            ? &cfg->listen
                          : strcmp(k->str, "store") == 0           ? &cfg->store
                          : strcmp(k->str, "jwt_secret_file") == 0 ? &cfg->secret_file
                          : strcmp(k->str, "jwt_secret") == 0      ? &cfg->secret
                          : strcmp(k->str, "www") == 0             ? &cfg->www
                          : strcmp(k->str, "redis_password") == 0  ? &cfg->redis_password
                                                                   : &cfg->log_level;
            if (*slot != NULL)
                continue; /* the command line wins */
            if (strcmp(k->str, "store") == 0 && strncmp(v->str, "sqlite:", 7) == 0) {
                char *p = relative_to(dir, v->str + 7);
                size_t n = strlen(p) + 8;
                *slot = malloc(n);
                if (*slot)
                    snprintf(*slot, n, "sqlite:%s", p);
                free(p);
            } else if (strcmp(k->str, "jwt_secret_file") == 0 || strcmp(k->str, "www") == 0) {
                *slot = relative_to(dir, v->str);
            } else {
                *slot = strdup(v->str);
            }
        }
    }
    free(copy);
    pl_ydoc_cleanup(&doc);
    return rc == 0 ? 0 : -1;
}

/* "HOST:PORT", "[v6]:PORT" or ":PORT" into host (static) and port. */
static int parse_listen(const char *s, const char **host, int *port)
{
    static char h[64];
    const char *colon = strrchr(s, ':');
    if (colon == NULL)
        return -1;
    size_t hl = (size_t)(colon - s);
    if (hl > 0 && s[0] == '[' && s[hl - 1] == ']') {
        s++;
        hl -= 2;
    }
    if (hl >= sizeof(h))
        return -1;
    memcpy(h, s, hl);
    h[hl] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || colon[1] == '\0' || p < 0 || p > 65535)
        return -1;
    *host = hl ? h : "127.0.0.1";
    *port = (int)p;
    return 0;
}

/* A whole number from lo to hi. */
static int number_in(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi)
        return 0;
    *out = (int)v;
    return 1;
}

static int parse_level(const char *s)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* The widget's files: --www, else channels/web/www here, else next to the binary's build dir. */
static const char *default_www(void)
{
    static char path[4096];
    struct stat st;
    if (stat("channels/web/www", &st) == 0 && S_ISDIR(st.st_mode))
        return "channels/web/www";
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
    if (n > 0) {
        path[n] = '\0';
        char *dir = dirname(path);
        size_t dl = strlen(dir);
        snprintf(path + dl, sizeof(path) - dl, "/../channels/web/www");
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return path;
    }
    return "channels/web/www";
}

static void free_settings(settings_t *c)
{
    free(c->listen);
    free(c->store);
    free(c->secret_file);
    if (c->secret != NULL)
        memset(c->secret, 0, strlen(c->secret));
    free(c->secret);
    free(c->rate);
    free(c->idle);
    if (c->redis_password != NULL)
        memset(c->redis_password, 0, strlen(c->redis_password));
    free(c->redis_password);
    free(c->voice_cache);
    free(c->voice_ca);
    for (size_t i = 0; i < c->nskills; i++)
        free(c->skills[i]);
    free(c->www);
    free(c->log_level);
    for (size_t i = 0; i < c->nbots; i++)
        free(c->bots[i]);
    for (size_t i = 0; i < c->norigins; i++)
        free(c->origins[i]);
}

int pl_cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"store", required_argument, NULL, 's'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"origin", required_argument, NULL, 'o'},
                                         {"jwt-secret-file", required_argument, NULL, 'k'},
                                         {"www", required_argument, NULL, 'w'},
                                         {"demo", no_argument, NULL, 'd'},
                                         {"log-level", required_argument, NULL, 'v'},
                                         {"rate-limit", required_argument, NULL, 'r'},
                                         {"idle-timeout", required_argument, NULL, 'i'},
                                         {"voice-skill-id", required_argument, NULL, 'K'},
                                         {"voice-cert-cache", required_argument, NULL, 'C'},
                                         {"voice-ca", required_argument, NULL, 'A'},
                                         {"insecure-skip-voice-verification", no_argument, NULL,
                                          'I'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    settings_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    const char *config = NULL;
    int c, status = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1 && status == 0) {
        char **slot = c == 'l' ? &cfg.listen : c == 's' ? &cfg.store : c == 'k' ? &cfg.secret_file
                      : c == 'w' ? &cfg.www : c == 'v' ? &cfg.log_level : c == 'r' ? &cfg.rate
                      : c == 'i' ? &cfg.idle : c == 'C' ? &cfg.voice_cache
                      : c == 'A' ? &cfg.voice_ca : NULL;
        if (slot != NULL) {
            free(*slot);
            *slot = strdup(optarg);
        } else if (c == 'c') {
            config = optarg;
        } else if (c == 'o' && cfg.norigins < MAX_LIST) {
            cfg.origins[cfg.norigins++] = strdup(optarg);
        } else if (c == 'd') {
            cfg.demo = cfg.demo_set = 1;
        } else if (c == 'K' && cfg.nskills < MAX_LIST) {
            cfg.skills[cfg.nskills++] = strdup(optarg);
        } else if (c == 'I') {
            cfg.voice_insecure = 1;
        } else if (c == 'h') {
            fputs(help, stdout);
            free_settings(&cfg);
            return 0;
        } else if (c == '?' && optopt != 0) {
            status = pl_cli_usage_error("serve", "option '%s' needs a value", argv[optind - 1]);
        } else {
            status = pl_cli_usage_error("serve", "unknown option '%s'", argv[optind - 1]);
        }
    }
    for (int i = optind; status == 0 && i < argc; i++) {
        if (cfg.nbots == MAX_LIST)
            status = pl_cli_usage_error("serve", "at most %d bots", MAX_LIST);
        else
            cfg.bots[cfg.nbots++] = strdup(argv[i]);
    }
    if (status == 0 && config != NULL && read_config(config, &cfg) != 0)
        status = PL_EXIT_USAGE;
    pl_server_config_t sc = {.host = "127.0.0.1", .port = 8080, .log_level = PL_LOG_INFO};
    static unsigned char secret[4096];
    if (status == 0 && cfg.nbots == 0)
        status = pl_cli_usage_error("serve", "no bot file given");
    if (status == 0 && cfg.listen != NULL && parse_listen(cfg.listen, &sc.host, &sc.port) != 0)
        status = pl_cli_usage_error("serve", "'%s' is not HOST:PORT, e.g. 127.0.0.1:8080",
                                    cfg.listen);
    if (status == 0 && cfg.log_level != NULL && (sc.log_level = parse_level(cfg.log_level)) < 0)
        status = pl_cli_usage_error("serve", "log level '%s' is not error, warning, info or debug",
                                    cfg.log_level);
    sc.rate_messages = 20;
    sc.idle_seconds = 600;
    if (status == 0 && cfg.rate != NULL && !number_in(cfg.rate, 1, 100, &sc.rate_messages))
        status = pl_cli_usage_error("serve", "the rate limit must be 1 to 100 messages, not '%s'",
                                    cfg.rate);
    if (status == 0 && cfg.idle != NULL && !number_in(cfg.idle, 10, 86400, &sc.idle_seconds))
        status = pl_cli_usage_error("serve", "the idle timeout must be 10 to 86400 seconds, not '%s'",
                                    cfg.idle);
    const char *env_secret = getenv("PARLEY_JWT_SECRET");
    if (status == 0 && cfg.secret_file == NULL && cfg.secret == NULL && env_secret != NULL)
        cfg.secret = strdup(env_secret);
    if (status == 0 && cfg.secret_file != NULL &&
        pl_cli_read_secret("serve", cfg.secret_file, secret, sizeof(secret), &sc.secretlen) != 0)
        status = PL_EXIT_USAGE;
    if (status == 0 && cfg.secret_file == NULL && cfg.secret != NULL) {
        size_t n = strlen(cfg.secret);
        if (n < 32 || n > sizeof(secret))
            status = pl_cli_usage_error("serve", "the identity secret must be 32 to %zu bytes",
                                        sizeof(secret));
        else
            memcpy(secret, cfg.secret, sc.secretlen = n);
    }
    if (status == 0 && sc.secretlen == 0 && cfg.demo) {
        /* the demo signs its own tokens: a fresh secret per run, known to nobody else */
        if (getrandom(secret, 48, 0) != 48)
            status = PL_EXIT_FAIL;
        sc.secretlen = 48;
    }
    if (status != 0) {
        free_settings(&cfg);
        return status;
    }
    sc.secret = sc.secretlen ? secret : NULL;
    sc.store = cfg.store ? cfg.store : "sqlite:parley-state.db";
    /* the store reads the Redis password from the environment; the file's wins over none */
    if (cfg.redis_password != NULL && getenv("PARLEY_REDIS_PASSWORD") == NULL)
        setenv("PARLEY_REDIS_PASSWORD", cfg.redis_password, 1);
    sc.bots = (const char *const *)cfg.bots;
    sc.nbots = cfg.nbots;
    sc.origins = (const char *const *)cfg.origins;
    sc.norigins = cfg.norigins;
    sc.www = cfg.www ? cfg.www : default_www();
    sc.demo = cfg.demo;
    sc.voice_skills = (const char *const *)cfg.skills;
    sc.nvoice_skills = cfg.nskills;
    sc.voice_cert_cache = cfg.voice_cache ? cfg.voice_cache : "voice-certs";
    sc.voice_trusted_ca = cfg.voice_ca ? cfg.voice_ca : "/etc/ssl/certs/ca-certificates.crt";
    sc.voice_insecure = cfg.voice_insecure;
    int rc = pl_server_run(&sc);
    memset(secret, 0, sizeof(secret));
    free_settings(&cfg);
    return rc == 0 ? 0 : rc == PL_EINVAL || rc == PL_EINVALID ? PL_EXIT_FAIL : PL_EXIT_FAIL;
}
