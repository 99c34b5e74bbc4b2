/* Short answers to the bot's yes/no questions (an offer, consent, "forget me"). Only a
 * message that is nothing but a yes or a no counts: "no idea" is not a "no". */
#ifndef PL_YES_NO_H
#define PL_YES_NO_H

/* 1 for a yes, -1 for a no, 0 for anything else, in the bot's language ("de" or "en"). */
int pl_yes_no(const char *language, const char *text);

#endif
