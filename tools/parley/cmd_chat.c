/* `parley chat`: a conversation with a bot in the terminal, readable or one JSON object per
 * turn (for scripts and tests). */
#define _DEFAULT_SOURCE /* explicit_bzero: the signing secret does not outlive chat */
#include "cli.h"
#include "base/duration.h"
#include "base/error.h"
#include "base/mem.h"
#include "render/template.h"
#include "runtime.h"
#include "session/session.h"
#include "session/sign_in.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "usage: parley chat BOT.yaml [--channel web|app|voice] [--store SPEC] [--user ID]\n"
    "                            [--jwt-secret-file PATH] [--json]\n"
    "\n"
    "Talk to a bot in the terminal. Each line you type is one customer message.\n"
    "\n"
    "  --channel NAME  the channel to pretend to be on (default: web)\n"
    "  --store SPEC    where customer state is kept: memory (default; gone when chat ends)\n"
    "                  sqlite:PATH (created on first use; a later chat with the same\n"
    "                  --user continues where this one stopped) or redis://HOST[:PORT][/DB]\n"
    "                  (password in PARLEY_REDIS_PASSWORD)\n"
    "  --user ID       who you are on the channel (default: local)\n"
    "  --jwt-secret-file PATH\n"
    "                  the secret (32 bytes or more) the site's login signs identity tokens\n"
    "                  with (HS256); needed for /sign-in\n"
    "  --json          read one message per line from stdin and write one JSON object per\n"
    "                  turn: intent, confidence, intents, entities, flow, step, slots,\n"
    "                  messages, trace\n"
    "  -h, --help      show this help\n"
    "\n"
    "While chatting: /state shows the conversation state, /channel NAME switches channel,\n"
    "/wait 30d moves the clock forward, /reset erases you from the store and starts over,\n"
    "/accept OFFER and /decline OFFER press an offer's buttons, /sign-in TOKEN signs you in\n"
    "with a token from the site's login, /quit leaves. Switching channel keeps you the same\n"
    "customer.\n";

typedef struct {
    const pl_runtime_t *rt;
    pl_store_t *store;
    pl_arena_t *scratch;
    const char *user;
    pl_channel_t channel;
    int json;
    int64_t offset;       /* ms the clock was moved forward by /wait */
    char customer[PL_STORE_MAX_KEY + 1]; /* "" until the first turn */
    cJSON *state;         /* as last committed */
    unsigned char secret[4096]; /* for /sign-in; secretlen 0: none given */
    size_t secretlen;
} chat_t;



#define LINE_MAX_BYTES (PL_MAX_MESSAGE_BYTES + 2)

/* Reads one line into buf (without the newline). Returns 1, 0 at end of input, or -1 when
 * the line was longer than the buffer (the rest of it is skipped). */
static int read_line(char *buf, size_t cap, FILE *in)
{
    if (fgets(buf, (int)cap, in) == NULL)
        return 0;
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n') {
        buf[--n] = '\0';
        if (n > 0 && buf[n - 1] == '\r')
            buf[--n] = '\0';
        return 1;
    }
    if (feof(in))
        return 1;
    int c;
    while ((c = fgetc(in)) != EOF && c != '\n')
        ;
    return -1;
}

static void print_readable(const pl_bot_t *bot, const pl_turn_t *t)
{
    for (size_t i = 0; i < t->reply.n; i++) {
        const pl_message_t *m = &t->reply.items[i];
        if (m->kind == PL_MSG_CAPABILITIES) {
            printf("bot> [about this assistant] %s\n", m->text);
        } else if (m->kind == PL_MSG_HANDOFF) {
            printf("bot> [handing over to a person] %s\n", m->text);
        } else if (m->kind == PL_MSG_OFFER) {
            pl_strbuf_t price, until;
            pl_strbuf_init(&price, 0);
            pl_strbuf_init(&until, 0);
            pl_format_money(bot->language, m->offer_price, m->offer_currency, &price);
            pl_format_date(bot->language, m->offer_valid_until, &until);
            printf("bot> [offer: %s, %s, until %s] %s\n", m->offer_title, pl_strbuf_str(&price),
                   pl_strbuf_str(&until), m->text);
            pl_strbuf_cleanup(&price);
            pl_strbuf_cleanup(&until);
        } else
            printf("bot> %s\n", m->text);
        if (m->nquick_replies > 0) {
            printf("     ");
            for (size_t q = 0; q < m->nquick_replies; q++)
                printf("[%s] ", m->quick_replies[q]);
            printf("\n");
        }
    }
}

static void print_error_json(int rc)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", pl_err_name(rc));
    cJSON_AddStringToObject(e, "message",
                            rc == PL_ELIMIT   ? "message longer than 4096 bytes"
                            : rc == PL_EINVAL ? "message is not valid UTF-8"
                                              : pl_strerror(rc));
    char *s = cJSON_PrintUnformatted(o);
    if (s)
        puts(s);
    cJSON_free(s);
    cJSON_Delete(o);
}

static int resume(chat_t *ch);

/* Runs one turn through the store and prints the reply. Returns 0 or the turn's error. */
static int chat_turn(chat_t *ch, const pl_event_t *ev)
{
    pl_turn_t turn;
    pl_session_result_t res;
    int rc = pl_session_turn(ch->rt, ch->store, ch->user, ev, ch->scratch, &turn, &res);
    if (rc != 0)
        return rc;
    cJSON_Delete(ch->state);
    ch->state = res.state;
    memcpy(ch->customer, res.customer, sizeof(ch->customer));
    if (!ch->json) {
        print_readable(pl_runtime_bot(ch->rt), &turn);
        return 0;
    }
    cJSON *o = pl_turn_to_json(ch->rt, ch->state, &turn);
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    if (s != NULL)
        puts(s);
    cJSON_free(s);
    cJSON_Delete(o);
    return s ? 0 : PL_ENOMEM;
}

/* /sign-in TOKEN: the channel user becomes the token's account. */
static void sign_in(chat_t *ch, const char *token)
{
    if (ch->secretlen == 0) {
        printf("(signing in needs the site's secret: start chat with --jwt-secret-file PATH)\n");
        return;
    }
    char account[PL_STORE_MAX_KEY + 1], why[200] = "";
    int rc = pl_sign_in(ch->store, pl_channel_name(ch->channel), ch->user, token, ch->secret,
                        ch->secretlen, pl_cli_now_ms() + ch->offset, account, why,
                        sizeof(why));
    if (rc != 0) {
        printf("(not signed in: %s)\n", why[0] ? why : pl_strerror(rc));
        return;
    }
    cJSON_Delete(ch->state);
    ch->customer[0] = '\0';
    if (resume(ch) != 0)
        printf("(signed in, but your state could not be read)\n");
    else
        printf("(signed in as account %s)\n", account + strlen(PL_ACCOUNT_PREFIX));
}

/* Handles a /command; returns 1 if the line was one, -1 to quit. */
static int chat_command(const char *line, chat_t *ch)
{
    if (line[0] != '/')
        return 0;
    if (strcmp(line, "/quit") == 0 || strcmp(line, "/exit") == 0)
        return -1;
    if (strcmp(line, "/state") == 0) {
        char *s = cJSON_Print(ch->state);
        printf("%s\n", s ? s : "{}");
        cJSON_free(s);
    } else if (strncmp(line, "/channel ", 9) == 0) {
        pl_channel_t to;
        if (pl_channel_parse(line + 9, &to) != 0)
            printf("unknown channel '%s'; use web, app or voice\n", line + 9);
        else if (ch->customer[0] != '\0' &&
                 pl_store_link(ch->store, line + 9, ch->user, ch->customer) != 0)
            printf("(could not link you on %s; staying on %s)\n", line + 9,
                   pl_channel_name(ch->channel));
        else {
            ch->channel = to;
            printf("(now on %s)\n", line + 9);
        }
    } else if (strncmp(line, "/wait ", 6) == 0) {
        int64_t ms;
        if (pl_parse_duration(line + 6, &ms) != 0)
            printf("'%s' is not a duration; write e.g. 30d, 2h, 15m or 10s\n", line + 6);
        else {
            ch->offset += ms;
            printf("(the clock moved forward by %s)\n", line + 6);
        }
    } else if (strcmp(line, "/reset") == 0) {
        if (ch->customer[0] != '\0' && pl_store_erase(ch->store, ch->customer) != 0) {
            printf("(could not erase you from the store; nothing was reset)\n");
        } else {
            cJSON_Delete(ch->state);
            ch->state = cJSON_CreateObject();
            ch->customer[0] = '\0';
            printf("(conversation reset)\n");
        }
    } else if (strncmp(line, "/accept ", 8) == 0 || strncmp(line, "/decline ", 9) == 0) {
        int accept = line[1] == 'a';
        pl_event_t ev = {.kind = accept ? PL_EVENT_ACCEPT_OFFER : PL_EVENT_DECLINE_OFFER,
                         .text = "",
                         .channel = ch->channel,
                         .now_ms = pl_cli_now_ms() + ch->offset,
                         .offer = line + (accept ? 8 : 9)};
        int rc = chat_turn(ch, &ev);
        if (rc != 0)
            printf("(not sent: %s)\n", pl_strerror(rc));
    } else if (strncmp(line, "/sign-in ", 9) == 0) {
        sign_in(ch, line + 9);
    } else {
        printf("commands: /state /channel NAME /wait DURATION /accept OFFER /decline OFFER\n"
               "          /sign-in TOKEN /reset /quit\n");
    }
    return 1;
}

/* Picks up where this user left off in the store, if they were there before. */
static int resume(chat_t *ch)
{
    char *customer = NULL;
    int64_t version;
    ch->state = NULL;
    int rc = pl_store_resolve(ch->store, pl_channel_name(ch->channel), ch->user, &customer);
    if (rc == PL_ENOTFOUND) {
        ch->state = cJSON_CreateObject();
        return ch->state ? 0 : PL_ENOMEM;
    }
    if (rc == 0 && strlen(customer) > PL_STORE_MAX_KEY)
        rc = PL_ESTORE;
    if (rc == 0) {
        memcpy(ch->customer, customer, strlen(customer) + 1);
        rc = pl_session_load_state(ch->store, customer, &ch->state, &version);
    }
    pl_free(customer);
    return rc;
}

int pl_cmd_chat(int argc, char **argv)
{
    static const struct option opts[] = {{"channel", required_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"store", required_argument, NULL, 's'},
                                         {"user", required_argument, NULL, 'u'},
                                         {"jwt-secret-file", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    int json = 0, c;
    pl_channel_t channel = PL_CHANNEL_WEB;
    const char *store_spec = "memory", *user = "local", *secret_file = NULL;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'c') {
            if (pl_channel_parse(optarg, &channel) != 0)
                return pl_cli_usage_error("chat", "unknown channel '%s'; use web, app or voice",
                                          optarg);
        } else if (c == 'j') {
            json = 1;
        } else if (c == 's') {
            store_spec = optarg;
        } else if (c == 'u') {
            user = optarg;
        } else if (c == 'k') {
            secret_file = optarg;
        } else if (c == 'h') {
            fputs(help, stdout);
            return 0;
        } else if (optopt == 'c') {
            return pl_cli_usage_error("chat", "--channel needs a value: web, app or voice");
        } else if (optopt == 's') {
            return pl_cli_usage_error("chat", "--store needs a value: memory, sqlite:PATH or "
                                              "redis://HOST[:PORT][/DB]");
        } else if (optopt == 'u') {
            return pl_cli_usage_error("chat", "--user needs a value");
        } else if (optopt == 'k') {
            return pl_cli_usage_error("chat", "--jwt-secret-file needs a file name");
        } else {
            return pl_cli_usage_error("chat", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return pl_cli_usage_error("chat", optind >= argc ? "no bot file given"
                                                         : "give exactly one bot file");
    static chat_t ch;
    memset(&ch, 0, sizeof(ch));
    if (secret_file != NULL && pl_cli_read_secret("chat", secret_file, ch.secret,
                                                  sizeof(ch.secret), &ch.secretlen) != 0)
        return PL_EXIT_USAGE;
    pl_runtime_t *rt = pl_cli_load_runtime("chat", argv[optind], stderr);
    if (rt == NULL)
        return PL_EXIT_FAIL;
    int rc;
    ch.rt = rt;
    ch.user = user;
    ch.channel = channel;
    ch.json = json;
    char err[512];
    rc = pl_store_open(store_spec, &ch.store, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "parley chat: cannot open the store: %s\n",
                err[0] ? err : pl_strerror(rc));
        pl_runtime_unref(rt);
        return rc == PL_EINVAL ? PL_EXIT_USAGE : PL_EXIT_FAIL;
    }
    rc = resume(&ch);
    if (rc != 0) {
        fprintf(stderr, "parley chat: cannot read your state from the store: %s\n",
                pl_strerror(rc));
        pl_store_close(ch.store);
        pl_runtime_unref(rt);
        return PL_EXIT_FAIL;
    }
    const pl_bot_t *bot = pl_runtime_bot(rt);
    int interactive = !json && isatty(STDIN_FILENO);
    if (!json)
        printf("%s (%s, channel %s). Type /quit to leave, /help for commands.\n", bot->name,
               bot->language, pl_channel_name(channel));
    pl_arena_t scratch;
    pl_arena_init(&scratch, 64 * 1024);
    ch.scratch = &scratch;
    static char line[LINE_MAX_BYTES];
    int status = 0;
    for (;;) {
        if (interactive) {
            printf("you> ");
            fflush(stdout);
        }
        int r = read_line(line, sizeof(line), stdin);
        if (r == 0)
            break;
        pl_arena_reset(&scratch);
        if (r < 0) {
            rc = PL_ELIMIT;
        } else {
            if (!json) {
                int cmd = chat_command(line, &ch);
                if (cmd < 0)
                    break;
                if (cmd > 0)
                    continue;
            }
            pl_event_t ev = {.text = line,
                             .len = strlen(line),
                             .channel = ch.channel,
                             .now_ms = pl_cli_now_ms() + ch.offset};
            rc = chat_turn(&ch, &ev);
        }
        if (rc != 0) {
            if (json)
                print_error_json(rc);
            else
                printf("(not sent: %s)\n", rc == PL_ELIMIT   ? "message longer than 4096 bytes"
                                           : rc == PL_EINVAL ? "message is not valid UTF-8"
                                                             : pl_strerror(rc));
            if (rc == PL_ENOMEM) {
                status = PL_EXIT_FAIL;
                break;
            }
        }
        fflush(stdout);
    }
    pl_arena_cleanup(&scratch);
    explicit_bzero(ch.secret, sizeof(ch.secret));
    cJSON_Delete(ch.state);
    pl_store_close(ch.store);
    pl_runtime_unref(rt);
    return status;
}
