/* parley's own words about offers and privacy (see notices.h). German texts avoid "du" and
 * "Sie" so they fit every tone of a bot. */
#include "render/notices.h"
#include "base/error.h"
#include "dialog/offers.h"
#include "render/template.h"

#include <string.h>

/* {{offer.*}} is the snapshot the notice is about; %s is a category's name. */
static const char *const en[PL_NOTICE_COUNT] = {
    [PL_NOTICE_OFFER_ACCEPTED] = "Thank you! I have noted that you accept the {{offer.title}} for "
                                 "{{offer.price}}. That holds on every channel.",
    [PL_NOTICE_OFFER_DECLINED] = "All right, I will not offer you the {{offer.title}} again.",
    [PL_NOTICE_OFFER_CLOSED] = "That offer is no longer open.",
    [PL_NOTICE_CONSENT_GIVEN] = "Thank you. I will remember your preferences on every channel; "
                                "say \"stop personalising\" at any time to end that.",
    [PL_NOTICE_CONSENT_REFUSED] =
        "All right. I will not remember anything about you after this conversation.",
    [PL_NOTICE_STOPPED] = "Done: I no longer personalise anything for you, on any channel, and "
                          "I have deleted what I had learnt about your preferences.",
    [PL_NOTICE_FORGET_CONFIRM] = "Shall I delete everything I know about you, on every channel? "
                                 "This cannot be undone. Please answer yes or no.",
    [PL_NOTICE_FORGOTTEN] = "Done: I have deleted everything I knew about you. Our next "
                            "conversation starts from scratch.",
    [PL_NOTICE_FORGET_KEPT] = "All right, I have not deleted anything.",
    [PL_NOTICE_SUPPRESSED] = "Understood: no more offers for %s, on any channel.",
    [PL_NOTICE_WHICH_CATEGORY] = "Which offers would you rather not get any more? For example: %s.",
    [PL_NOTICE_RESUME] = "Shall we continue where you left off %s?",
    [PL_NOTICE_FRESH_START] = "All right, we start afresh.",
    [PL_NOTICE_LINK_CODE] = "Your code is %s. Within 10 minutes, say \"my code is\" and these six "
                            "digits to the assistant on your other device; the code works once.",
    [PL_NOTICE_LINK_SIGN_IN] = "To link another device, please sign in on the website or in the "
                               "app first, then ask me there.",
    [PL_NOTICE_LINKED] = "Done: this device is now linked to your account. Offers and settings "
                         "are the same everywhere.",
    [PL_NOTICE_LINK_DENIED] = "That code did not work. Please check it, or ask for a new code on "
                              "the website or in the app.",
    [PL_NOTICE_LINK_LIMITED] = "Too many wrong codes. Please wait 15 minutes and try again.",
    [PL_NOTICE_GOODBYE] = "Goodbye!",
    [PL_NOTICE_TRY_AGAIN] = "Sorry, I cannot reach my records just now, so nothing was changed. "
                            "Please try again in a moment.",
};
static const char *const de[PL_NOTICE_COUNT] = {
    [PL_NOTICE_OFFER_ACCEPTED] = "Danke! Notiert: {{offer.title}} für {{offer.price}} ist "
                                 "angenommen – auf allen Kanälen.",
    [PL_NOTICE_OFFER_DECLINED] = "In Ordnung, das Angebot {{offer.title}} kommt nicht wieder.",
    [PL_NOTICE_OFFER_CLOSED] = "Dieses Angebot ist nicht mehr offen.",
    [PL_NOTICE_CONSENT_GIVEN] = "Danke. Ich merke mir die Vorlieben auf allen Kanälen; „keine "
                                "Personalisierung“ beendet das jederzeit.",
    [PL_NOTICE_CONSENT_REFUSED] = "In Ordnung. Nach diesem Gespräch merke ich mir nichts.",
    [PL_NOTICE_STOPPED] = "Erledigt: keine Personalisierung mehr, auf keinem Kanal. Was ich über "
                          "Vorlieben gelernt hatte, ist gelöscht.",
    [PL_NOTICE_FORGET_CONFIRM] = "Alles löschen, was ich gespeichert habe – auf allen Kanälen? "
                                 "Das lässt sich nicht rückgängig machen. Bitte mit Ja oder Nein "
                                 "antworten.",
    [PL_NOTICE_FORGOTTEN] =
        "Erledigt: Alles Gespeicherte ist gelöscht. Das nächste Gespräch beginnt ganz neu.",
    [PL_NOTICE_FORGET_KEPT] = "In Ordnung, nichts wurde gelöscht.",
    [PL_NOTICE_SUPPRESSED] = "Verstanden: keine Angebote mehr für %s, auf keinem Kanal.",
    [PL_NOTICE_WHICH_CATEGORY] = "Für welche Angebote soll es keine mehr geben? Zum Beispiel: %s.",
    [PL_NOTICE_RESUME] = "Sollen wir da weitermachen, wo wir %s aufgehört haben?",
    [PL_NOTICE_FRESH_START] = "In Ordnung, wir fangen neu an.",
    [PL_NOTICE_LINK_CODE] = "Der Code lautet %s. Innerhalb von 10 Minuten auf dem anderen Gerät "
                            "„mein Code ist“ und die sechs Ziffern sagen; der Code gilt einmal.",
    [PL_NOTICE_LINK_SIGN_IN] = "Zum Verknüpfen eines weiteren Geräts bitte zuerst auf der Webseite "
                               "oder in der App anmelden und dort noch einmal fragen.",
    [PL_NOTICE_LINKED] = "Erledigt: Dieses Gerät ist jetzt mit dem Konto verknüpft. Angebote und "
                         "Einstellungen sind überall dieselben.",
    [PL_NOTICE_LINK_DENIED] = "Dieser Code hat nicht funktioniert. Bitte prüfen oder auf der "
                              "Webseite oder in der App einen neuen Code anfordern.",
    [PL_NOTICE_LINK_LIMITED] = "Zu viele falsche Codes. Bitte in 15 Minuten noch einmal versuchen.",
    [PL_NOTICE_GOODBYE] = "Auf Wiederhören!",
    [PL_NOTICE_TRY_AGAIN] = "Entschuldigung, gerade komme ich nicht an meine Daten; es wurde "
                            "nichts geändert. Bitte gleich noch einmal versuchen.",
};

/* How customers name category id: the first of its words. */
static const char *category_name(const pl_bot_t *bot, const char *id)
{
    for (size_t c = 0; id != NULL && c < bot->ncategories; c++)
        if (strcmp(bot->categories[c].id, id) == 0 && bot->categories[c].nwords > 0)
            return bot->categories[c].words[0];
    return id ? id : "";
}

/* Where the customer was, as a phrase: "on the website", "am Telefon". */
static const char *place(const pl_bot_t *bot, const char *channel)
{
    static const char *const en_places[] = {"on the website", "in the app", "on the phone"};
    static const char *const de_places[] = {"auf der Webseite", "in der App", "am Telefon"};
    pl_channel_t ch;
    if (channel == NULL || pl_channel_parse(channel, &ch) != 0)
        return "";
    return (strcmp(bot->language, "de") == 0 ? de_places : en_places)[ch];
}

int pl_notice_text(const pl_bot_t *bot, const cJSON *state, pl_notice_t n, const char *subject,
                   pl_strbuf_t *out)
{
    if ((unsigned)n >= PL_NOTICE_COUNT)
        return PL_EINVAL;
    const char *text = (strcmp(bot->language, "de") == 0 ? de : en)[n];
    const char *mark = strstr(text, "%s");
    if (mark == NULL) {
        pl_template_ctx_t ctx = {.bot = bot, .state = state};
        ctx.offer = subject ? pl_offer_snapshot(state, subject) : NULL;
        return pl_template_expand(text, &ctx, out);
    }
    int rc = pl_strbuf_append(out, text, (size_t)(mark - text));
    if (n == PL_NOTICE_RESUME) {
        const char *name = place(bot, subject);
        rc = rc ? rc : pl_strbuf_append(out, name, strlen(name));
    } else if (n == PL_NOTICE_LINK_CODE) {
        /* "482 019": three and three, easier to read out and to say */
        size_t len = subject ? strlen(subject) : 0;
        for (size_t i = 0; rc == 0 && i < len; i++) {
            if (i == 3 && len == 6)
                rc = pl_strbuf_putc(out, ' ');
            if (rc == 0)
                rc = pl_strbuf_putc(out, subject[i]);
        }
    } else if (n == PL_NOTICE_WHICH_CATEGORY) {
        for (size_t c = 0; rc == 0 && c < bot->ncategories && c < 4; c++) {
            if (c > 0)
                rc = pl_strbuf_append(out, ", ", 2);
            const char *name = category_name(bot, bot->categories[c].id);
            if (rc == 0)
                rc = pl_strbuf_append(out, name, strlen(name));
        }
    } else {
        const char *name = category_name(bot, subject);
        rc = pl_strbuf_append(out, name, strlen(name));
    }
    return rc ? rc : pl_strbuf_append(out, mark + 2, strlen(mark + 2));
}
