/* How parley recognises emoji in bot texts: shared by the renderers that must drop them
 * (personas that want none, and speech, which must never read them out). */
#ifndef PL_RENDER_EMOJI_H
#define PL_RENDER_EMOJI_H

/* Drops emoji from s in place: pictographs, regional indicators (flags), skin-tone modifiers,
 * zero-width joiners, variation selectors, keycap marks and emoji tag characters. A space left
 * doubled by a removed emoji goes with it, and trailing spaces go. s must be NUL-terminated;
 * bytes that are not valid UTF-8 are kept as they are. */
void pl_strip_emoji(char *s);

#endif
