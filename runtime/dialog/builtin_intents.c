/* The built-in intents every bot understands in its language, with their examples: what the
 * bot is and can do, a person please, privacy ("stop personalising", "forget me", "not
 * interested in X any more"). A bot may add its own examples under the same id. */
#include "dialog/loader_int.h"

#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
    const char *id;
    const char *const *en, *const *de;
} builtin_t;

static const char *const can_en[] = {"what can you do",         "what can you help me with",
                                     "what are you able to do", "what do you offer",
                                     "what can I ask you",      "what else can you do",
                                     "what are your features",  NULL};
static const char *const can_de[] = {"was kannst du",
                                     "was können Sie",
                                     "was kannst du alles",
                                     "was kann ich dich fragen",
                                     "was kann ich Sie fragen",
                                     "was bietest du an",
                                     "welche Funktionen hast du",
                                     NULL};
/* Questions about what the bot is; "am I talking to a human?" asks this, not for a person. */
static const char *const bot_en[] = {"are you a bot",
                                     "are you human",
                                     "are you a real person",
                                     "am I talking to a real person",
                                     "am I talking to a human",
                                     "am I chatting with a computer",
                                     "is this a human or a machine",
                                     "are you a robot",
                                     "are you an AI",
                                     "is this a machine",
                                     "are you real",
                                     NULL};
static const char *const bot_de[] = {"bist du ein Bot",
                                     "bist du ein Mensch",
                                     "sind Sie ein Mensch",
                                     "rede ich mit einem echten Menschen",
                                     "spreche ich mit einem Menschen",
                                     "chatte ich mit einem Computer",
                                     "ist das ein Mensch oder eine Maschine",
                                     "bist du ein Roboter",
                                     "bist du eine KI",
                                     "ist das eine Maschine",
                                     "sind Sie echt",
                                     NULL};
static const char *const human_en[] = {"I want to talk to a person",
                                       "can I speak to a human",
                                       "connect me with an agent",
                                       "real person please",
                                       "I need a human",
                                       "let me talk to someone",
                                       NULL};
static const char *const human_de[] = {"ich möchte mit einem Menschen sprechen",
                                       "kann ich mit einem Mitarbeiter sprechen",
                                       "verbinden Sie mich mit einem Menschen",
                                       "echter Mensch bitte",
                                       "ich brauche einen Menschen",
                                       "kann ich jemanden anrufen",
                                       NULL};

/* Privacy, on every channel: they act on the customer's whole state. */
static const char *const stop_en[] = {"stop personalising",
                                      "stop personalizing",
                                      "don't personalise anything for me",
                                      "I don't want personalised offers",
                                      "stop using my data",
                                      "no more personalisation please",
                                      "stop tracking what I like",
                                      "I withdraw my consent",
                                      NULL};
static const char *const stop_de[] = {"keine Personalisierung",
                                      "bitte keine Personalisierung mehr",
                                      "hör auf mich zu personalisieren",
                                      "ich will keine personalisierten Angebote",
                                      "nutze meine Daten nicht mehr",
                                      "ich widerrufe meine Einwilligung",
                                      "Personalisierung ausschalten",
                                      NULL};
static const char *const forget_en[] = {"forget me",
                                        "forget about me",
                                        "forget who I am",
                                        "delete my data",
                                        "erase my personal data",
                                        "delete my personal information",
                                        "remove my data from your system",
                                        NULL};
static const char *const forget_de[] = {"vergiss mich",
                                        "vergiss alles über mich",
                                        "lösche meine Daten",
                                        "lösch alles was du über mich weißt",
                                        "entferne meine persönlichen Daten",
                                        "meine Daten bitte löschen",
                                        NULL};
static const char *const notint_en[] = {"I am not interested in that any more",
                                        "I'm not interested in those anymore",
                                        "no more offers about that",
                                        "stop offering me that",
                                        "I don't want offers for this any more",
                                        "not interested in these offers",
                                        NULL};
static const char *const notint_de[] = {"das interessiert mich nicht mehr",
                                        "kein Interesse mehr daran",
                                        "keine Angebote mehr dafür",
                                        "hör auf mir das anzubieten",
                                        "ich will dazu keine Angebote mehr",
                                        "ich habe kein Interesse mehr an diesen Angeboten",
                                        NULL};
/* A code for linking the voice assistant (or another device) to the signed-in customer. */
static const char *const link_en[] = {"link my voice assistant",
                                      "connect my account to the voice assistant",
                                      "give me a code to link my speaker",
                                      "I want to use you on my smart speaker too",
                                      "link this account to my phone",
                                      "how do I connect Alexa to my account",
                                      NULL};
static const char *const link_de[] = {"Sprachassistent verknüpfen",
                                      "mein Konto mit dem Sprachassistenten verbinden",
                                      "Code zum Verknüpfen meines Lautsprechers",
                                      "ich will dich auch auf meinem smarten Lautsprecher nutzen",
                                      "wie verbinde ich Alexa mit meinem Konto",
                                      "Gerät mit meinem Konto verknüpfen",
                                      NULL};

static const builtin_t builtins[PL_BUILTIN_COUNT] = {
    [PL_BUILTIN_WHAT_CAN_YOU_DO] = {PL_INTENT_WHAT_CAN_YOU_DO, can_en, can_de},
    [PL_BUILTIN_ARE_YOU_A_BOT] = {PL_INTENT_ARE_YOU_A_BOT, bot_en, bot_de},
    [PL_BUILTIN_TALK_TO_HUMAN] = {PL_INTENT_TALK_TO_HUMAN, human_en, human_de},
    [PL_BUILTIN_STOP_PERSONALISING] = {PL_INTENT_STOP_PERSONALISING, stop_en, stop_de},
    [PL_BUILTIN_FORGET_ME] = {PL_INTENT_FORGET_ME, forget_en, forget_de},
    [PL_BUILTIN_NOT_INTERESTED] = {PL_INTENT_NOT_INTERESTED, notint_en, notint_de},
    [PL_BUILTIN_LINK_CHANNEL] = {PL_INTENT_LINK_CHANNEL, link_en, link_de},
};

int pl_builtin_intent(const char *id)
{
    for (size_t b = 0; b < COUNT(builtins); b++)
        if (strcmp(builtins[b].id, id) == 0)
            return 1;
    return 0;
}

void pl__add_builtin_intents(pl__loader_t *L)
{
    pl_bot_t *bot = L->bot;
    int de = strcmp(bot->language, "de") == 0;
    size_t missing = 0;
    for (size_t b = 0; b < COUNT(builtins); b++)
        missing += pl_bot_intent(bot, builtins[b].id) < 0;
    if (missing == 0) {
        for (size_t b = 0; b < COUNT(builtins); b++)
            bot->builtin[b] = pl_bot_intent(bot, builtins[b].id);
        return;
    }
    pl_intent_t *all = pl__alloc(L, bot->nintents + missing, sizeof(*all));
    if (all == NULL)
        return;
    if (bot->nintents)
        memcpy(all, bot->intents, bot->nintents * sizeof(*all));
    bot->intents = all;
    for (size_t b = 0; b < COUNT(builtins); b++) {
        if (pl_bot_intent(bot, builtins[b].id) >= 0)
            continue; /* the bot's own examples for it */
        const char *const *ex = de ? builtins[b].de : builtins[b].en;
        size_t n = 0;
        while (ex[n])
            n++;
        pl_intent_t *it = &all[bot->nintents++];
        memset(it, 0, sizeof(*it));
        it->id = builtins[b].id;
        it->examples = (const char **)ex;
        it->nexamples = n;
        it->builtin = 1;
    }
    for (size_t b = 0; b < COUNT(builtins); b++)
        bot->builtin[b] = pl_bot_intent(bot, builtins[b].id);
}
