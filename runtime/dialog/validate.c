/* Checks on the whole loaded model: steps that can never run, steps with no way out,
 * loops that never wait for the customer, flows nothing starts, and intents nothing uses.
 * Runs after loading even when loading found errors, so it must cope with a partly built
 * model (unresolved targets are -1). */
#include "base/mem.h"
#include "dialog/loader_int.h"

#include <string.h>

/* The successors of step i in flow f, as (flow, step) pairs; returns how many. */
static size_t successors(const pl_bot_t *bot, size_t fi, size_t i, int out_flow[], int out_step[],
                         size_t max)
{
    const pl_flow_t *f = &bot->flows[fi];
    const pl_step_t *st = &f->steps[i];
    size_t n = 0;
#define ADD_TARGET(t)                                                                              \
    do {                                                                                           \
        if ((t).flow >= 0 && (size_t)(t).flow < bot->nflows && bot->flows[(t).flow].nsteps > 0 &&  \
            n < max) {                                                                             \
            out_flow[n] = (t).flow;                                                                \
            out_step[n++] = 0;                                                                     \
        } else if ((t).flow < 0 && (t).step >= 0 && n < max) {                                     \
            out_flow[n] = (int)fi;                                                                 \
            out_step[n++] = (t).step;                                                              \
        }                                                                                          \
    } while (0)
#define ADD_NEXT()                                                                                 \
    do {                                                                                           \
        if (i + 1 < f->nsteps && n < max) {                                                        \
            out_flow[n] = (int)fi;                                                                 \
            out_step[n++] = (int)i + 1;                                                            \
        }                                                                                          \
    } while (0)
    switch (st->kind) {
    case PL_STEP_SAY:
    case PL_STEP_OFFER:
    case PL_STEP_CONSENT:
    case PL_STEP_ASK:
        if (st->has_next)
            ADD_TARGET(st->next);
        else
            ADD_NEXT();
        if (st->kind == PL_STEP_ASK && st->has_on_fail)
            ADD_TARGET(st->on_fail);
        break;
    case PL_STEP_GOTO:
        if (st->has_next)
            ADD_TARGET(st->next);
        break;
    case PL_STEP_BRANCH: {
        int otherwise = 0;
        for (size_t b = 0; b < st->nbranches; b++) {
            ADD_TARGET(st->branches[b].target);
            if (st->branches[b].cond.kind == PL_COND_ALL && st->branches[b].cond.nkids == 0)
                otherwise = 1;
        }
        if (!otherwise)
            ADD_NEXT();
        break;
    }
    case PL_STEP_HANDOFF:
    case PL_STEP_END:
        break;
    }
#undef ADD_TARGET
#undef ADD_NEXT
    return n;
}

/* True when the step would run past the end of its flow. */
static int falls_off(const pl_flow_t *f, size_t i)
{
    const pl_step_t *st = &f->steps[i];
    if (i + 1 < f->nsteps)
        return 0;
    switch (st->kind) {
    case PL_STEP_SAY:
    case PL_STEP_OFFER:
    case PL_STEP_CONSENT:
    case PL_STEP_ASK:
        return !st->has_next;
    case PL_STEP_BRANCH:
        for (size_t b = 0; b < st->nbranches; b++)
            if (st->branches[b].cond.kind == PL_COND_ALL && st->branches[b].cond.nkids == 0)
                return 0;
        return 1;
    default:
        return 0;
    }
}

static int unresolved(const pl_target_t *t)
{
    return t->flow < 0 && t->step < 0;
}

/* True when a jump of the flow could not be resolved (already reported): reachability
 * would then only repeat that error. */
static int has_unresolved_jump(const pl_flow_t *f)
{
    for (size_t i = 0; i < f->nsteps; i++) {
        const pl_step_t *st = &f->steps[i];
        if ((st->has_next && unresolved(&st->next)) ||
            (st->has_on_fail && unresolved(&st->on_fail)))
            return 1;
        for (size_t b = 0; b < st->nbranches; b++)
            if (unresolved(&st->branches[b].target))
                return 1;
    }
    return 0;
}

static void check_flow_steps(pl__loader_t *L, size_t fi)
{
    const pl_bot_t *bot = L->bot;
    const pl_flow_t *f = &bot->flows[fi];
    if (f->nsteps == 0 || has_unresolved_jump(f))
        return;
    char *reach = pl_calloc(f->nsteps, 1);
    int *queue = pl_malloc(f->nsteps * sizeof(*queue));
    if (reach == NULL || queue == NULL) {
        pl_free(reach);
        pl_free(queue);
        L->oom = 1;
        return;
    }
    size_t head = 0, tail = 0;
    reach[0] = 1;
    queue[tail++] = 0;
    while (head < tail) {
        size_t i = (size_t)queue[head++];
        int sf[64], ss[64];
        size_t n = successors(bot, fi, i, sf, ss, 64);
        for (size_t k = 0; k < n; k++) {
            if ((size_t)sf[k] != fi || reach[ss[k]])
                continue;
            reach[ss[k]] = 1;
            queue[tail++] = ss[k];
        }
    }
    for (size_t i = 0; i < f->nsteps; i++) {
        const pl_step_t *st = &f->steps[i];
        if (!reach[i] && (i == 0 || reach[i - 1]))
            pl__err_at(L, &st->pos,
                       "step '%s' in flow '%s' can never run: the step before it ends the flow "
                       "or jumps away, and no 'goto' leads here",
                       st->id, f->id);
        if (reach[i] && falls_off(f, i))
            pl__err_at(L, &st->pos,
                       "step '%s' is the last step of flow '%s' but has no way out; add "
                       "'- end:' after it, or a 'goto:'/'flow:'",
                       st->id, f->id);
    }
    pl_free(reach);
    pl_free(queue);
}

/* Finds cycles made only of steps that do not wait for the customer (everything but 'ask'),
 * across flows. Such a cycle would make the bot talk forever. */
static void check_loops(pl__loader_t *L)
{
    const pl_bot_t *bot = L->bot;
    size_t total = 0;
    size_t *base = pl_malloc((bot->nflows + 1) * sizeof(*base));
    if (base == NULL) {
        L->oom = 1;
        return;
    }
    for (size_t fi = 0; fi < bot->nflows; fi++) {
        base[fi] = total;
        total += bot->flows[fi].nsteps;
    }
    base[bot->nflows] = total;
    /* color: 0 new, 1 on the stack, 2 done */
    char *color = pl_calloc(total ? total : 1, 1);
    int *stack_f = pl_malloc((total + 1) * sizeof(int)),
        *stack_s = pl_malloc((total + 1) * sizeof(int));
    size_t *stack_k = pl_malloc((total + 1) * sizeof(size_t));
    if (color == NULL || stack_f == NULL || stack_s == NULL || stack_k == NULL) {
        L->oom = 1;
        goto out;
    }
    for (size_t fi = 0; fi < bot->nflows; fi++) {
        for (size_t si = 0; si < bot->flows[fi].nsteps; si++) {
            if (color[base[fi] + si] != 0 || bot->flows[fi].steps[si].kind == PL_STEP_ASK)
                continue;
            size_t top = 0;
            stack_f[0] = (int)fi;
            stack_s[0] = (int)si;
            stack_k[0] = 0;
            color[base[fi] + si] = 1;
            while (top != (size_t)-1) {
                int cf = stack_f[top], cs = stack_s[top];
                int sf[64], ss[64];
                size_t n = successors(bot, (size_t)cf, (size_t)cs, sf, ss, 64);
                if (stack_k[top] >= n) {
                    color[base[cf] + (size_t)cs] = 2;
                    top--;
                    continue;
                }
                size_t k = stack_k[top]++;
                const pl_step_t *next = &bot->flows[sf[k]].steps[ss[k]];
                char c = color[base[sf[k]] + (size_t)ss[k]];
                if (next->kind == PL_STEP_ASK || c == 2)
                    continue;
                if (c == 1) {
                    const pl_step_t *from = &bot->flows[cf].steps[cs];
                    pl__err_at(L, &from->pos,
                               "steps loop without asking the customer anything: '%s' in flow "
                               "'%s' leads back to '%s' in flow '%s'; add an 'ask' step or an "
                               "'end'",
                               from->id, bot->flows[cf].id, next->id, bot->flows[sf[k]].id);
                    continue;
                }
                color[base[sf[k]] + (size_t)ss[k]] = 1;
                top++;
                stack_f[top] = sf[k];
                stack_s[top] = ss[k];
                stack_k[top] = 0;
            }
        }
    }
out:
    pl_free(base);
    pl_free(color);
    pl_free(stack_f);
    pl_free(stack_s);
    pl_free(stack_k);
}

static int cond_uses_intent(const pl_cond_t *c, int intent)
{
    if (c->kind == PL_COND_INTENT && c->index == intent)
        return 1;
    for (size_t i = 0; i < c->nkids; i++)
        if (cond_uses_intent(&c->kids[i], intent))
            return 1;
    return 0;
}

static int intent_used(const pl_bot_t *bot, int intent)
{
    for (size_t fi = 0; fi < bot->nflows; fi++) {
        const pl_flow_t *f = &bot->flows[fi];
        for (size_t t = 0; t < f->ntriggers; t++)
            if (f->trigger_idx[t] == intent)
                return 1;
        for (size_t si = 0; si < f->nsteps; si++)
            for (size_t b = 0; b < f->steps[si].nbranches; b++)
                if (cond_uses_intent(&f->steps[si].branches[b].cond, intent))
                    return 1;
    }
    return 0;
}


/* An intent a 'cannot' entry answers is used too. */
static int cannot_intent(const pl_bot_t *bot, int intent)
{
    for (size_t c = 0; c < bot->ncannots; c++)
        for (size_t i = 0; i < bot->cannots[c].nintents; i++)
            if (bot->cannots[c].intents[i] == intent)
                return 1;
    return 0;
}

static int flow_started(const pl_bot_t *bot, int flow)
{
    if (bot->flows[flow].ntriggers > 0 || bot->fallback.escalate_flow == flow)
        return 1;
    for (size_t fi = 0; fi < bot->nflows; fi++) {
        int sf[64], ss[64];
        for (size_t si = 0; si < bot->flows[fi].nsteps; si++) {
            size_t n = successors(bot, fi, si, sf, ss, 64);
            for (size_t k = 0; k < n; k++)
                if (sf[k] == flow && (size_t)flow != fi)
                    return 1;
        }
    }
    return 0;
}

void pl__validate(pl__loader_t *L, int had_errors)
{
    const pl_bot_t *bot = L->bot;
    for (size_t fi = 0; fi < bot->nflows; fi++)
        check_flow_steps(L, fi);
    check_loops(L);
    /* an unresolved trigger or condition makes intents and flows look unused: those
     * warnings would only repeat the errors, so they wait until the errors are fixed */
    if (had_errors)
        return;
    for (size_t fi = 0; fi < bot->nflows; fi++)
        if (bot->flows[fi].nsteps > 0 && !flow_started(bot, (int)fi))
            pl__warn_at(L, &bot->flows[fi].pos,
                        "flow '%s' is never started: it has no 'trigger' and no 'flow:' leads "
                        "to it",
                        bot->flows[fi].id);
    for (size_t i = 0; i < bot->nintents; i++)
        if (!bot->intents[i].builtin && !pl_builtin_intent(bot->intents[i].id) &&
            !intent_used(bot, (int)i) && !cannot_intent(bot, (int)i))
            pl__warn_at(L, &bot->intents[i].pos,
                        "intent '%s' is not used: no flow has it as 'trigger' and no condition "
                        "tests it",
                        bot->intents[i].id);
    if (bot->nflows == 0) {
        pl_pos_t whole_file = {L->docs[0].file, 0, 0, 0};
        pl__warn_at(L, &whole_file, "the bot has no flows; it can only answer with its fallback");
    }
}
