/* The voice renderer (see ssml.h). Each message becomes one fragment: its text is cleaned first
 * (valid UTF-8 of XML characters only, no emoji, in speech no URLs or e-mail addresses, single
 * spaces), then escaped. Fragments are joined with short pauses while they fit; the one that
 * does not fit is cut after its last sentence that does, and speech ends there. */
#include "render/ssml.h"
#include "base/error.h"
#include "render/emoji.h"
#include "render/template.h"

#include <math.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <utf8proc.h>

#define SPEAK_OPEN "<speak>"
#define SPEAK_CLOSE "</speak>"
#define PAUSE "<break time=\"300ms\"/>"
#define MAX_OPTIONS 3 /* more than three options are too many to remember when heard */

/* parley's own words in speech, per language. */
typedef struct {
    const char *website, *email;         /* said instead of a URL, an e-mail address */
    const char *website_dat, *email_dat; /* the same after a German preposition with dative */
    const char *sent_to_app;             /* instead of "not here" when the app or widget is open */
    const char *or_, *or_more;           /* "a, b or c?"; "a, b, c, or something else?" */
    const char *offer, *for_, *until;
    const char *euro, *euros, *dollar, *dollars, *cent, *cents;
} words_t;

static const words_t words_en = {
    .website = "the website",
    .email = "our e-mail address",
    .website_dat = "the website",
    .email_dat = "our e-mail address",
    .sent_to_app = "I have sent the details to your app.",
    .or_ = " or ",
    .or_more = ", or something else?",
    .offer = "My offer: ",
    .for_ = " for ",
    .until = ", valid until ",
    .euro = "euro",
    .euros = "euros",
    .dollar = "dollar",
    .dollars = "dollars",
    .cent = "cent",
    .cents = "cents",
};

static const words_t words_de = {
    .website = "die Webseite",
    .email = "unsere E-Mail-Adresse",
    .website_dat = "der Webseite",
    .email_dat = "unserer E-Mail-Adresse",
    .sent_to_app = "Die Details habe ich in die App geschickt.",
    .or_ = " oder ",
    .or_more = ", oder etwas anderes?",
    .offer = "Mein Angebot: ",
    .for_ = " für ",
    .until = ", gültig bis ",
    .euro = "Euro",
    .euros = "Euro",
    .dollar = "Dollar",
    .dollars = "Dollar",
    .cent = "Cent",
    .cents = "Cent",
};

typedef struct {
    const pl_bot_t *bot;
    const words_t *w;
    int de;
    int spoken; /* SSML; else plain text */
    int app_linked;
    pl_strbuf_t tmp, word; /* scratch for cleaning */
} ctx_t;

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(unsigned char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

/* --- cleaning ------------------------------------------------------------------------------ */

/* Appends s without what XML cannot carry or speech should not hear: bytes that are not UTF-8
 * are dropped, control characters become spaces, U+FFFE and U+FFFF go. */
static int sanitize(const char *s, pl_strbuf_t *out)
{
    size_t len = strlen(s), i = 0;
    int rc = 0;
    while (i < len && rc == 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0) {
            i++;
            continue;
        }
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            rc = pl_strbuf_putc(out, ' ');
        else if (cp != 0xFFFE && cp != 0xFFFF)
            rc = pl_strbuf_append(out, s + i, (size_t)n);
        i += (size_t)n;
    }
    return rc;
}

/* Length of the domain name at s (labels of letters, digits and '-' joined by dots, at least
 * two, the last one of two or more letters), or 0; *tld is its last label. */
static size_t domain_len(const char *s, const char **tld)
{
    size_t i = 0, labels = 0, last = 0;
    for (;;) {
        size_t start = i;
        while (is_alnum((unsigned char)s[i]) || s[i] == '-')
            i++;
        if (i == start)
            return 0;
        labels++;
        last = start;
        if (s[i] != '.' || !is_alnum((unsigned char)s[i + 1]))
            break;
        i++;
    }
    if (labels < 2 || i - last < 2)
        return 0;
    for (size_t k = last; k < i; k++)
        if (!is_alpha((unsigned char)s[k]))
            return 0;
    *tld = s + last;
    return i;
}

/* Length of the e-mail address at s ("mailto:" included), or 0. */
static size_t email_len(const char *s)
{
    size_t i = strncasecmp(s, "mailto:", 7) == 0 ? 7 : 0, start = i;
    if (!is_alnum((unsigned char)s[i]))
        return 0;
    while (is_alnum((unsigned char)s[i]) || (s[i] != '\0' && strchr("._%+-", s[i]) != NULL))
        i++;
    if (i == start || s[i] != '@')
        return 0;
    const char *tld;
    size_t d = domain_len(s + i + 1, &tld);
    return d ? i + 1 + d : 0;
}

/* Top-level domains that make a bare "name.tld" a web address. Lowercase only: "ASP.NET" is a
 * product, "shop.net" an address. */
static int known_tld(const char *t, size_t n)
{
    static const char *const tlds[] = {"com",  "net",   "org",    "info", "biz", "io", "co",
                                       "de",   "at",    "ch",     "eu",   "uk",  "us", "fr",
                                       "it",   "es",    "nl",     "be",   "dk",  "se", "pl",
                                       "shop", "store", "online", "app",  "dev", "me", "tv"};
    for (size_t i = 0; i < sizeof(tlds) / sizeof(tlds[0]); i++)
        if (strlen(tlds[i]) == n && strncmp(tlds[i], t, n) == 0)
            return 1;
    return 0;
}

/* Length of the web address at s ("https://…", "www.…" or "name.tld/…"), or 0. */
static size_t url_len(const char *s)
{
    size_t i = 0;
    if (is_alpha((unsigned char)s[0])) {
        size_t j = 1;
        while (is_alnum((unsigned char)s[j]) || s[j] == '+' || s[j] == '-' || s[j] == '.')
            j++;
        if (strncmp(s + j, "://", 3) == 0 && s[j + 3] != '\0' && s[j + 3] != ' ')
            i = j + 3;
    }
    if (i == 0 && strncasecmp(s, "www.", 4) == 0 && is_alnum((unsigned char)s[4]))
        i = 4;
    if (i == 0) {
        const char *tld;
        size_t d = domain_len(s, &tld);
        if (d == 0 || !known_tld(tld, (size_t)(s + d - tld)))
            return 0;
        i = d;
    }
    /* the rest of the address: anything up to a space, a quote or an angle bracket, letters
     * and digits of any script included */
    size_t len = strlen(s);
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c == ' ' || c == '"' || c == '\'' || c == '<' || c == '>')
                break;
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0)
            break;
        utf8proc_category_t cat = utf8proc_category(cp);
        if (cat < UTF8PROC_CATEGORY_LU || cat > UTF8PROC_CATEGORY_NO)
            break; /* punctuation, symbols, spaces: „…“ around it stay outside */
        i += (size_t)n;
    }
    /* punctuation at its end belongs to the sentence, and so does a ')' that closes a '('
     * before the address ("(see https://x.de/a_(b))") */
    int open = 0;
    for (size_t k = 0; k < i; k++)
        open += s[k] == '(' ? 1 : s[k] == ')' ? -1 : 0;
    while (i > 0 && (strchr(".,;:!?]", s[i - 1]) != NULL || (s[i - 1] == ')' && open < 0))) {
        open += s[i - 1] == ')';
        i--;
    }
    return i;
}

/* Whether the word before s[i] is a German preposition that wants the dative here: "auf der
 * Webseite", "unter unserer E-Mail-Adresse" (and not "an unsere E-Mail-Adresse"). */
static int after_dative(const char *s, size_t i)
{
    static const char *const preps[] = {"auf", "unter", "bei", "von", "mit", "aus", "in"};
    size_t end = i;
    while (end > 0 && s[end - 1] == ' ')
        end--;
    size_t start = end;
    while (start > 0 && is_alpha((unsigned char)s[start - 1]))
        start--;
    for (size_t k = 0; k < sizeof(preps) / sizeof(preps[0]); k++)
        if (end - start == strlen(preps[k]) && strncasecmp(s + start, preps[k], end - start) == 0)
            return 1;
    return 0;
}

/* Appends s with web addresses and e-mail addresses replaced by words. */
static int unlink_text(const ctx_t *c, const char *s, pl_strbuf_t *out)
{
    size_t i = 0, done = 0;
    int rc = 0;
    while (s[i] != '\0' && rc == 0) {
        unsigned char prev = i > 0 ? (unsigned char)s[i - 1] : ' ';
        size_t n = 0;
        const char *say = NULL;
        if (!is_alnum(prev) && strchr("._%+-@", prev) == NULL) {
            int dat = c->de && after_dative(s, i);
            if ((n = email_len(s + i)) > 0)
                say = dat ? c->w->email_dat : c->w->email;
            else if ((n = url_len(s + i)) > 0)
                say = dat ? c->w->website_dat : c->w->website;
        }
        if (say == NULL) {
            i++;
            continue;
        }
        rc = pl_strbuf_append(out, s + done, i - done);
        if (rc == 0)
            rc = pl_strbuf_puts(out, say);
        i += n;
        done = i;
    }
    return rc ? rc : pl_strbuf_puts(out, s + done);
}

/* Single spaces, none at the ends or before ",.!?", in place. */
static void squeeze(pl_strbuf_t *b)
{
    if (b->data == NULL)
        return;
    size_t w = 0;
    for (size_t r = 0; r < b->len; r++) {
        char ch = b->data[r];
        if (ch == ' ' && (w == 0 || b->data[w - 1] == ' '))
            continue;
        if (strchr(",.!?", ch) != NULL && w > 0 && b->data[w - 1] == ' ')
            w--;
        b->data[w++] = ch;
    }
    while (w > 0 && b->data[w - 1] == ' ')
        w--;
    b->data[w] = '\0';
    b->len = w;
}

/* Sets out to s cleaned for this output (see the top of the file). */
static int clean(ctx_t *c, const char *s, pl_strbuf_t *out)
{
    pl_strbuf_clear(&c->tmp);
    pl_strbuf_clear(out);
    int rc = sanitize(s, &c->tmp);
    if (rc != 0 || c->tmp.data == NULL)
        return rc;
    pl_strip_emoji(c->tmp.data);
    c->tmp.len = strlen(c->tmp.data);
    rc = c->spoken ? unlink_text(c, c->tmp.data, out) : pl_strbuf_puts(out, c->tmp.data);
    squeeze(out);
    return rc;
}

/* --- output -------------------------------------------------------------------------------- */

/* Appends text: escaped in speech, as it is in plain text. */
static int put(const ctx_t *c, pl_strbuf_t *out, const char *s, size_t n)
{
    if (!c->spoken)
        return pl_strbuf_append(out, s, n);
    size_t done = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *e = s[i] == '&'    ? "&amp;"
                        : s[i] == '<'  ? "&lt;"
                        : s[i] == '>'  ? "&gt;"
                        : s[i] == '"'  ? "&quot;"
                        : s[i] == '\'' ? "&apos;"
                                       : NULL;
        if (e == NULL)
            continue;
        rc = pl_strbuf_append(out, s + done, i - done);
        if (rc == 0)
            rc = pl_strbuf_puts(out, e);
        done = i + 1;
    }
    return rc ? rc : pl_strbuf_append(out, s + done, n - done);
}

static int puts_text(const ctx_t *c, pl_strbuf_t *out, const char *s)
{
    return put(c, out, s, strlen(s));
}

/* Whether the text in out ends a sentence (or introduces a list with ':'). */
static int ends_sentence(const pl_strbuf_t *out)
{
    static const char *const closers[] = {
        "&quot;", "&apos;", "\"", "'", ")", "\xe2\x80\x9c", "\xe2\x80\x9d", "\xc2\xbb", "\xc2\xab"};
    size_t n = out->len;
    for (size_t i = 0; i < sizeof(closers) / sizeof(closers[0]); i++) {
        size_t k = strlen(closers[i]);
        if (n >= k && memcmp(out->data + n - k, closers[i], k) == 0) {
            n -= k;
            break;
        }
    }
    if (n >= 3 && memcmp(out->data + n - 3, "\xe2\x80\xa6", 3) == 0) /* … */
        return 1;
    return n > 0 && strchr(".!?:", out->data[n - 1]) != NULL;
}

/* Whether text already says option (ignoring case of ASCII letters). */
static int mentions(const char *text, const char *option)
{
    size_t n = strlen(option);
    for (const char *p = text; n > 0 && *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)option[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* "Travel, people or sports?": at most three quick replies as a question — unless the
 * question itself already names every one of them (then they would be said twice). */
static int options(ctx_t *c, const pl_message_t *m, pl_strbuf_t *out)
{
    size_t named = 0;
    for (size_t i = 0; m->text != NULL && i < m->nquick_replies; i++)
        named += mentions(m->text, m->quick_replies[i]);
    if (m->nquick_replies > 0 && named == m->nquick_replies)
        return 0;
    pl_strbuf_t said[MAX_OPTIONS];
    size_t n = 0, total = 0;
    int rc = 0;
    for (size_t i = 0; i < MAX_OPTIONS; i++)
        pl_strbuf_init(&said[i], 0);
    for (size_t i = 0; i < m->nquick_replies && rc == 0; i++) {
        pl_strbuf_t *b = n < MAX_OPTIONS ? &said[n] : &c->word;
        if ((rc = clean(c, m->quick_replies[i], b)) != 0)
            break;
        while (b->len > 0 && strchr(".!?,;:", b->data[b->len - 1]) != NULL)
            b->data[--b->len] = '\0';
        if (b->len == 0)
            continue;
        total++;
        if (n < MAX_OPTIONS)
            n++;
    }
    if (rc == 0 && n > 0 && out->len > 0)
        rc = pl_strbuf_puts(out, ends_sentence(out) ? " " : ". ");
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *s = said[i].data;
        /* English reads one question: "Travel, people or sports?"; a word in capitals
         * ("DSLR") or a single letter stays as it is. German nouns keep their capitals. */
        size_t k = 1;
        while (s[k] >= 'a' && s[k] <= 'z')
            k++;
        if (i > 0 && !c->de && s[0] >= 'A' && s[0] <= 'Z' && k > 1 &&
            !is_alnum((unsigned char)s[k]))
            s[0] = (char)(s[0] - 'A' + 'a');
        if (i > 0)
            rc = pl_strbuf_puts(out, total > MAX_OPTIONS || i < n - 1 ? ", " : c->w->or_);
        if (rc == 0)
            rc = put(c, out, s, said[i].len);
    }
    if (rc == 0 && n > 0)
        rc = pl_strbuf_puts(out, total > MAX_OPTIONS ? c->w->or_more : "?");
    for (size_t i = 0; i < MAX_OPTIONS; i++)
        pl_strbuf_cleanup(&said[i]);
    return rc;
}

/* An amount as it is said: "849 euros and 50 cents", "849 Euro 50". */
static int money_spoken(const ctx_t *c, double amount, const char *currency, pl_strbuf_t *out)
{
    int usd = currency != NULL && strcmp(currency, "USD") == 0;
    const words_t *w = c->w;
    long long total = llround(amount * 100), whole = total / 100;
    int cents = (int)(total % 100), rc = 0;
    if (whole > 0 || cents == 0)
        rc = pl_strbuf_printf(out, "%lld %s", whole,
                              usd ? (whole == 1 ? w->dollar : w->dollars)
                                  : (whole == 1 ? w->euro : w->euros));
    if (rc != 0 || cents == 0)
        return rc;
    if (whole == 0)
        return pl_strbuf_printf(out, "%d %s", cents, cents == 1 ? w->cent : w->cents);
    if (c->de)
        return pl_strbuf_printf(out, " %d", cents);
    return pl_strbuf_printf(out, " and %d %s", cents, cents == 1 ? w->cent : w->cents);
}

/* An offer as one sentence that ends with its exact terms:
 * "My offer: Nikon Z50 starter kit for 849 euros, valid until <date>." */
static int offer(ctx_t *c, const pl_message_t *m, pl_strbuf_t *out)
{
    int rc = pl_strbuf_puts(out, c->w->offer);
    if (rc == 0 && m->offer_title != NULL)
        rc = clean(c, m->offer_title, &c->word);
    if (rc == 0 && c->word.len > 0 && m->offer_title != NULL) {
        rc = put(c, out, c->word.data, c->word.len);
        if (rc == 0)
            rc = pl_strbuf_puts(out, c->w->for_);
    }
    double p = m->offer_price;
    if (rc == 0 && c->spoken && p >= 0 && p < 1e13)
        rc = money_spoken(c, p, m->offer_currency, out);
    else if (rc == 0)
        rc = pl_format_money(c->bot->language, p, m->offer_currency ? m->offer_currency : "EUR",
                             out);
    if (rc == 0 && m->offer_valid_until > 0) {
        rc = pl_strbuf_puts(out, c->w->until);
        time_t secs = (time_t)(m->offer_valid_until / 1000);
        struct tm tm;
        if (rc == 0 && !c->spoken)
            rc = pl_format_date(c->bot->language, m->offer_valid_until, out);
        else if (rc == 0 && gmtime_r(&secs, &tm) != NULL)
            /* Alexa reads a date without a format attribute as YYYYMMDD, in its language */
            rc = pl_strbuf_printf(out, "<say-as interpret-as=\"date\">%04d%02d%02d</say-as>",
                                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    }
    return rc ? rc : pl_strbuf_putc(out, '.');
}

/* The fragment of one message; empty when it has nothing to say. */
static int message(ctx_t *c, const pl_message_t *m, pl_strbuf_t *out)
{
    int rc = 0;
    if (m->kind == PL_MSG_OFFER) {
        rc = offer(c, m, out);
    } else if (c->spoken && c->app_linked && m->unavailable) {
        rc = puts_text(c, out, c->w->sent_to_app);
    } else if (m->text != NULL) {
        rc = clean(c, m->text, &c->word);
        if (rc == 0)
            rc = put(c, out, c->word.data ? c->word.data : "", c->word.len);
    }
    return rc ? rc : options(c, m, out);
}

/* --- length -------------------------------------------------------------------------------- */

/* Where to cut fragment s[0..len) so that it fits in limit bytes: after the last sentence that
 * fits, else (when words) after the last word or character that fits, with *dot set to say
 * that a '.' must end it (limit counts that '.'). With markup, never inside a tag, an element
 * or an entity. 0: nothing fits. */
static size_t cut_point(const char *s, size_t len, size_t limit, int markup, int words, int *dot)
{
    size_t sentence = 0, word = 0, chr = 0, tag_start = 0;
    int depth = 0, in_tag = 0, in_entity = 0;
    *dot = 0;
    for (size_t p = 1; p <= len && p <= limit; p++) {
        char ch = s[p - 1];
        if (markup && ch == '<') {
            in_tag = 1;
            tag_start = p - 1;
        } else if (markup && ch == '>' && in_tag) {
            in_tag = 0;
            if (s[tag_start + 1] == '/')
                depth--;
            else if (s[p - 2] != '/')
                depth++;
        } else if (markup && ch == '&') {
            in_entity = 1;
        } else if (ch == ';') {
            in_entity = 0;
        }
        if (in_tag || in_entity || depth > 0)
            continue;
        int next_ok = p == len || s[p] == ' ';
        int ellipsis = p >= 3 && memcmp(s + p - 3, "\xe2\x80\xa6", 3) == 0;
        if (next_ok && (strchr(".!?", ch) != NULL || ellipsis))
            sentence = p;
        if (p < limit && p < len && s[p] == ' ')
            word = p;
        if (p < limit && (p == len || ((unsigned char)s[p] & 0xC0) != 0x80))
            chr = p;
    }
    if (sentence > 0 || !words)
        return sentence;
    size_t p = word > 0 ? word : chr;
    while (p > 0 && strchr(",:- ", s[p - 1]) != NULL)
        p--;
    *dot = p > 0;
    return p;
}

/* Renders every message in c's mode and appends the whole to out (unchanged on failure). */
static int render(ctx_t *c, const pl_reply_t *reply, pl_strbuf_t *out)
{
    const char *open = c->spoken ? SPEAK_OPEN : "", *close = c->spoken ? SPEAK_CLOSE : "";
    const char *sep = c->spoken ? PAUSE : "\n";
    size_t start = out->len, used = 0, budget = PL_SSML_MAX - strlen(open) - strlen(close);
    size_t said = 0;
    pl_strbuf_t frag;
    pl_strbuf_init(&frag, 0);
    pl_strbuf_init(&c->tmp, 0);
    pl_strbuf_init(&c->word, 0);
    int rc = pl_strbuf_puts(out, open);
    for (size_t i = 0; i < reply->n && rc == 0; i++) {
        pl_strbuf_clear(&frag);
        if ((rc = message(c, &reply->items[i], &frag)) != 0 || frag.len == 0)
            continue;
        size_t gap = said > 0 ? strlen(sep) : 0;
        if (used + gap + frag.len <= budget) {
            if ((rc = pl_strbuf_puts(out, said > 0 ? sep : "")) == 0)
                rc = pl_strbuf_append(out, frag.data, frag.len);
            used += gap + frag.len;
            said++;
            continue;
        }
        /* the last message that fits in part: up to its last sentence that fits; a first
         * message without one is cut after a word, so that something is said */
        int dot = 0;
        size_t cut = used + gap < budget ? cut_point(frag.data, frag.len, budget - used - gap,
                                                     c->spoken, said == 0, &dot)
                                         : 0;
        if (cut > 0) {
            if ((rc = pl_strbuf_puts(out, said > 0 ? sep : "")) == 0)
                rc = pl_strbuf_append(out, frag.data, cut);
            if (rc == 0 && dot)
                rc = pl_strbuf_putc(out, '.');
        }
        break;
    }
    if (rc == 0)
        rc = pl_strbuf_puts(out, close);
    if (rc != 0 && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    pl_strbuf_cleanup(&frag);
    pl_strbuf_cleanup(&c->tmp);
    pl_strbuf_cleanup(&c->word);
    return rc;
}

static void ctx_init(ctx_t *c, const pl_bot_t *bot, int spoken, int app_linked)
{
    memset(c, 0, sizeof(*c));
    c->bot = bot;
    c->de = strcmp(bot->language, "de") == 0;
    c->w = c->de ? &words_de : &words_en;
    c->spoken = spoken;
    c->app_linked = app_linked;
}

int pl_ssml_render(const pl_bot_t *bot, const pl_reply_t *reply, const pl_ssml_opts_t *o,
                   pl_strbuf_t *out)
{
    ctx_t c;
    ctx_init(&c, bot, 1, o != NULL && o->app_linked);
    return render(&c, reply, out);
}

int pl_ssml_plain(const pl_bot_t *bot, const pl_reply_t *reply, pl_strbuf_t *out)
{
    ctx_t c;
    ctx_init(&c, bot, 0, 0);
    return render(&c, reply, out);
}
