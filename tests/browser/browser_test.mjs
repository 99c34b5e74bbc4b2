// Real-browser test of the web widget and the demo page: starts `parley serve --demo` on a free
// loopback port, drives Debian's Chromium with playwright-core and follows one customer through
// a German conversation, an accepted offer, a page reload and the app channel in a fresh browser.
// Usage: node browser_test.mjs [PARLEY] [SOURCE_DIR]   (defaults: build/parley, .)
// Prints one PASS or FAIL line per check and exits 0 when all passed. The screenshot goes to
// PARLEY_ARTIFACTS (a .png path, or a directory) or next to the parley binary.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const parley = path.resolve(process.argv[2] || 'build/parley');
const srcDir = path.resolve(process.argv[3] || '.');
const CHROMIUM = '/usr/bin/chromium';
const TOTAL_TIMEOUT_MS = 180_000;
const STEP_TIMEOUT_MS = 15_000;

const artifactsEnv = process.env.PARLEY_ARTIFACTS;
const screenshot = artifactsEnv
    ? (artifactsEnv.endsWith('.png') ? path.resolve(artifactsEnv) : path.resolve(artifactsEnv, 'browser-test.png'))
    : path.join(path.dirname(parley), 'browser-test.png');

let failures = 0;
let passes = 0;
let interrupted = false; // after SIGINT/SIGTERM, steps failing because the browser went away are not news
function pass(name, detail) {
    if (interrupted) {
        return;
    }
    passes++;
    console.log(`PASS ${name}${detail ? ` (${detail})` : ''}`);
}
function fail(name, detail) {
    if (interrupted) {
        return;
    }
    failures++;
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ''}`);
}
function info(text) {
    if (interrupted) {
        return;
    }
    console.log(`INFO ${text}`);
}
// check(name, condition, detail when it failed)
function check(name, ok, detail) {
    if (ok) {
        pass(name);
    } else {
        fail(name, detail);
    }
    return ok;
}
// step(name, fn): a check whose body may throw (a locator timing out, say)
async function step(name, fn) {
    try {
        const detail = await fn();
        pass(name, typeof detail === 'string' ? detail : undefined);
        return true;
    } catch (e) {
        fail(name, String(e && e.message ? e.message : e).split('\n').slice(0, 6).join(' | '));
        return false;
    }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const clean = (s) => String(s).replace(/[\u00a0\u202f]/g, ' ').replace(/\s+/g, ' ').trim();
const show = (o) => JSON.stringify(o).slice(0, 400);

async function waitFor(what, predicate, timeoutMs = STEP_TIMEOUT_MS) {
    const end = Date.now() + timeoutMs;
    for (;;) {
        const v = predicate();
        if (v) {
            return v;
        }
        if (Date.now() > end) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await sleep(50);
    }
}

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

// ---- the server ----

let server = null;
let serverExited = null;
let serverLog = '';
let tmpDir = null;
let browser = null;

// starts parley on port (a free one when not given); the store stays in tmpDir across restarts
async function startServer(port) {
    if (!fs.existsSync(parley)) {
        throw new Error(`no parley binary at ${parley}`);
    }
    tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'parley-browser-'));
    port ??= await freePort();
    serverExited = null;
    const args = ['serve', '--demo', '--store', `sqlite:${path.join(tmpDir, 'state.db')}`,
        'dialogs/camera-shop.de.yaml', 'dialogs/camera-shop.en.yaml', '--listen', `127.0.0.1:${port}`];
    info(`starting ${parley} ${args.join(' ')} (in ${srcDir})`);
    server = spawn(parley, args, { cwd: srcDir, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout.on('data', (d) => { serverLog += d; });
    server.stderr.on('data', (d) => { serverLog += d; });
    server.on('exit', (code, signal) => { serverExited = { code, signal }; });
    server.on('error', (e) => { serverExited = { error: e.message }; });
    const base = `http://127.0.0.1:${port}`;
    const end = Date.now() + 20_000;
    for (;;) {
        if (serverExited) {
            throw new Error(`parley exited before /healthz answered: ${show(serverExited)}`);
        }
        try {
            const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
            if (res.ok) {
                return { base, health: await res.json().catch(() => null) };
            }
        } catch {
            // not listening yet
        }
        if (Date.now() > end) {
            throw new Error('/healthz did not answer 200 within 20 s');
        }
        await sleep(100);
    }
}

let serverDown = false; // between the stop and the start of the restart below
async function stopServer() {
    if (!server || serverExited) {
        return;
    }
    server.kill('SIGTERM');
    const end = Date.now() + 5000;
    while (!serverExited && Date.now() < end) {
        await sleep(50);
    }
    if (!serverExited) {
        info('parley did not stop within 5 s of SIGTERM; killing it');
        server.kill('SIGKILL');
        while (!serverExited) {
            await sleep(50);
        }
    }
}

let cleaning = null;
function cleanup() {
    cleaning ??= (async () => {
        if (browser) {
            await browser.close().catch(() => {});
        }
        await stopServer();
        if (tmpDir) {
            fs.rmSync(tmpDir, { recursive: true, force: true });
        }
    })();
    return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, async () => {
        console.log(`FAIL interrupted by ${sig}`);
        interrupted = true;
        await cleanup();
        process.exit(1);
    });
}

// ---- WebSocket frames, as the browser saw them ----

// Every WebSocket a page opens (its iframes' too), with the JSON frames in both directions.
function recordSockets(page) {
    const sockets = [];
    page.on('websocket', (ws) => {
        const s = { url: ws.url(), sent: [], received: [], closed: false };
        sockets.push(s);
        const parse = (payload) => {
            try {
                return JSON.parse(typeof payload === 'string' ? payload : payload.toString());
            } catch {
                return { unparsed: String(payload).slice(0, 200) };
            }
        };
        ws.on('framesent', (f) => s.sent.push(parse(f.payload)));
        ws.on('framereceived', (f) => s.received.push(parse(f.payload)));
        ws.on('close', () => { s.closed = true; });
    });
    return {
        // the newest open socket whose hello said this channel
        socket(channel) {
            for (let i = sockets.length - 1; i >= 0; i--) {
                const s = sockets[i];
                if (!s.closed && s.sent[0] && s.sent[0].type === 'hello' && s.sent[0].channel === channel) {
                    return s;
                }
            }
            return null;
        },
        all: sockets,
    };
}

const offerIn = (stateMsg, id) => (stateMsg && Array.isArray(stateMsg.offers) ? stateMsg.offers.find((o) => o && o.id === id) : null);

// checks the frames that answer a hello: `capabilities` first, then `state` (channels/README.md)
async function checkHandshake(label, rec, channel, expect) {
    let s = null;
    await step(`${label}: hello is answered by capabilities, then state`, async () => {
        s = await waitFor(`a ${channel} socket with two frames`, () => {
            const x = rec.socket(channel);
            return x && x.received.length >= 2 ? x : null;
        });
        const [caps, state] = s.received;
        if (caps.type !== 'capabilities' || state.type !== 'state') {
            throw new Error(`first frames were ${show(caps)} and ${show(state)}`);
        }
        const problems = [];
        if (caps.v !== 1) problems.push(`capabilities.v is ${show(caps.v)}, not 1`);
        if (typeof caps.bot !== 'string') problems.push('capabilities.bot is not a string');
        if (typeof caps.signed_in !== 'boolean') problems.push('capabilities.signed_in is not a boolean');
        const m = caps.manifest || {};
        if (typeof m.disclosure !== 'string') problems.push('manifest.disclosure missing');
        if (m.channel !== channel) problems.push(`manifest.channel is ${show(m.channel)}, not ${channel}`);
        if (m.language !== 'de') problems.push(`manifest.language is ${show(m.language)}, not de`);
        if (!Array.isArray(state.offers)) problems.push(`state.offers is not an array: ${show(state)}`);
        if (typeof state.signed_in !== 'boolean') problems.push(`state.signed_in is not a boolean: ${show(state)}`);
        if (!state.consent || !('personalisation' in state.consent)) problems.push(`state.consent.personalisation missing: ${show(state)}`);
        if (expect && expect.signedIn !== undefined && caps.signed_in !== expect.signedIn) {
            problems.push(`capabilities.signed_in is ${caps.signed_in}, expected ${expect.signedIn}`);
        }
        if (problems.length) {
            throw new Error(problems.join('; '));
        }
        return `bot ${caps.bot}`;
    });
    if (s) {
        const hello = s.sent[0];
        const helloProblems = [];
        if (hello.v !== 1) helloProblems.push('v');
        if (!/^[A-Za-z0-9_-]{22}$/.test(hello.client_id || '')) helloProblems.push(`client_id ${show(hello.client_id)}`);
        if (hello.locale !== 'de') helloProblems.push('locale');
        if (typeof hello.token !== 'string' || hello.token.split('.').length !== 3) helloProblems.push('token');
        check(`${label}: widget sends hello first (v 1, ${channel}, 22-char client id, locale de, token)`,
            helloProblems.length === 0, `${helloProblems.join(', ')} in ${show(hello)}`);
    }
    return s;
}

// ---- the test ----

async function run() {
    let base;
    if (!(await step('parley serve starts and answers /healthz', async () => {
        const started = await startServer();
        base = started.base;
        const bots = started.health && started.health.bots;
        if (!started.health || started.health.status !== 'ok' || !Array.isArray(bots) || !bots.includes('camera-shop-de')) {
            throw new Error(`/healthz answered ${show(started.health)}, want {"status":"ok","bots":[…"camera-shop-de"…]}`);
        }
        return base;
    }))) {
        return;
    }

    await step('GET /demo/token?sub=demo-visitor gives a token', async () => {
        const res = await fetch(`${base}/demo/token?sub=demo-visitor`);
        const body = await res.json().catch(() => null);
        if (res.status !== 200 || !body || typeof body.token !== 'string') {
            throw new Error(`status ${res.status}, body ${show(body)}`);
        }
    });

    browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        // this script's own handlers stop parley too; Playwright's would exit before that
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--no-first-run', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
    });
    info(`Chromium ${browser.version()}`);
    const contextOptions = { locale: 'de-DE', viewport: { width: 1280, height: 900 } };

    // ---- first visit: the shop with the widget, and the app pane ----
    const ctx1 = await browser.newContext(contextOptions);
    const page = await ctx1.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const consoleErrors = [];
    // the browser's own complaints about a refused WebSocket, or any refused connection while
    // the server is down for its restart, are expected
    page.on('console', (m) => {
        const t = m.text();
        if (m.type() === 'error' && !/WebSocket connection/.test(t) && !(serverDown && /ERR_CONNECTION_REFUSED/.test(t))) consoleErrors.push(t);
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    const rec1 = recordSockets(page);
    const outside = [];
    page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith(base.replace('http', 'ws'))) outside.push(r.url()); });

    await step('demo page loads', async () => {
        const res = await page.goto(`${base}/`);
        if (!res || res.status() !== 200) {
            throw new Error(`GET / answered ${res && res.status()}`);
        }
        return await page.title();
    });

    const web = page.locator('.parley-root.parley-floating');
    const app = page.frameLocator('.app-pane iframe').locator('.parley-root');

    await step('web widget shows the disclosure banner', async () => {
        const d = web.locator('.parley-banner .parley-disclosure');
        await d.waitFor({ state: 'visible' });
        const text = clean(await d.textContent());
        if (!/automatisch/i.test(text) || !/kein Mensch/i.test(text)) {
            throw new Error(`banner says ${show(text)}`);
        }
        return text;
    });
    await step('banner says what the bot can do on the web', async () => {
        const can = clean(await web.locator('.parley-banner .parley-can').textContent());
        if (!can.startsWith('Ich kann:')) {
            throw new Error(`banner says ${show(can)}`);
        }
    });
    await checkHandshake('web', rec1, 'web', { signedIn: true });
    await checkHandshake('app pane', rec1, 'app', { signedIn: true });

    await step('message list has aria-live="polite"', async () => {
        const live = await web.locator('.parley-log').getAttribute('aria-live');
        if (live !== 'polite') {
            throw new Error(`aria-live is ${show(live)}`);
        }
    });

    const question = 'Ich suche eine Kamera für Reisen, Budget 900 Euro';
    await step('keyboard: Tab reaches the message input, with a visible focus style', async () => {
        await page.locator('body').click({ position: { x: 5, y: 300 } });
        for (let i = 0; i < 60; i++) {
            await page.keyboard.press('Tab');
            if (await web.locator('.parley-input').evaluate((el) => el === document.activeElement)) {
                const outline = await web.locator('.parley-input').evaluate((el) => {
                    const cs = getComputedStyle(el);
                    return `${cs.outlineStyle} ${cs.outlineWidth}`;
                });
                if (outline.startsWith('none') || outline.endsWith(' 0px')) {
                    throw new Error(`focused input has no outline (${outline})`);
                }
                return `${i + 1} Tab presses, outline ${outline}`;
            }
        }
        throw new Error('60 Tab presses did not reach the input');
    });
    await step('input and buttons have accessible names', async () => {
        const inputName = await web.locator('.parley-input').evaluate((el) => (el.labels && el.labels[0] ? el.labels[0].textContent : ''));
        if (!inputName) {
            throw new Error('the input has no <label>');
        }
        const names = await web.locator('button').evaluateAll((bs) => bs.map((b) => (b.getAttribute('aria-label') || b.textContent).trim()));
        if (names.some((n) => !n)) {
            throw new Error(`a button without a name among ${show(names)}`);
        }
        return `input "${inputName}", buttons ${names.join(' / ')}`;
    });
    await step('typing and Enter sends the message', async () => {
        await page.keyboard.type(question);
        await page.keyboard.press('Enter');
        await web.locator('.parley-msg-user .parley-text', { hasText: question }).waitFor();
        const sent = await waitFor('the message frame', () => {
            const s = rec1.socket('web');
            return s && s.sent.find((f) => f.type === 'message' && f.text === question);
        });
        if (typeof sent.id !== 'string') {
            throw new Error(`message frame without id: ${show(sent)}`);
        }
    });

    const card = web.locator('.parley-log .parley-offer').first();
    let offerId = null;
    let offerReply = null;
    await step('the answer is a reply with in_reply_to and an offer message', async () => {
        const s = rec1.socket('web');
        const sent = s.sent.find((f) => f.type === 'message' && f.text === question);
        offerReply = await waitFor('the reply', () => s.received.find((f) => f.type === 'reply' && f.in_reply_to === sent.id));
        const offerMsg = (offerReply.messages || []).find((m) => m.type === 'offer');
        if (!offerMsg || !offerMsg.offer || typeof offerMsg.offer.id !== 'string') {
            throw new Error(`no offer message in ${show(offerReply)}`);
        }
        const o = offerMsg.offer;
        for (const k of ['title', 'currency']) {
            if (typeof o[k] !== 'string') throw new Error(`offer.${k} missing in ${show(o)}`);
        }
        for (const k of ['price', 'valid_until']) {
            if (typeof o[k] !== 'number') throw new Error(`offer.${k} is not a number in ${show(o)}`);
        }
        offerId = o.id;
        return `${o.id}: ${o.title}`;
    });
    await step('an offer card shows title, price in German format and validity', async () => {
        await card.waitFor();
        const title = clean(await card.locator('.parley-offer-title').textContent());
        const price = clean(await card.locator('.parley-offer-price').textContent());
        const valid = clean(await card.locator('.parley-offer-valid').textContent());
        if (!/Nikon Z50/.test(title)) throw new Error(`title ${show(title)}`);
        if (price !== '849 €') throw new Error(`price ${show(price)}, want "849 €"`);
        if (!/^Gültig bis \d{2}\.\d{2}\.\d{4}$/.test(valid)) throw new Error(`validity ${show(valid)}`);
        const buttons = await card.locator('.parley-offer-actions button').allTextContents();
        if (buttons.join('|') !== 'Annehmen|Ablehnen') throw new Error(`buttons ${show(buttons)}`);
        return `${title}, ${price}, ${valid}`;
    });
    await step('the app pane sees the new offer (state pushed to the other channel)', async () => {
        await app.locator('.parley-offers .parley-offer', { hasText: 'Nikon Z50' }).waitFor();
    });

    await step('Accept (by keyboard) sends accept_offer and the card shows accepted', async () => {
        await card.getByRole('button', { name: 'Annehmen' }).focus();
        await page.keyboard.press('Enter');
        const s = rec1.socket('web');
        const action = await waitFor('the action frame', () => s.sent.find((f) => f.type === 'action'));
        if (action.action !== 'accept_offer' || action.offer !== offerId || typeof action.id !== 'string') {
            throw new Error(`sent ${show(action)}`);
        }
        const reply = await waitFor('the reply to the action', () => s.received.find((f) => f.type === 'reply' && f.in_reply_to === action.id));
        await card.locator('.parley-offer-status', { hasText: 'Angenommen' }).waitFor();
        const stateAfter = s.received.slice(s.received.indexOf(reply) - 1).find((f) => f.type === 'state');
        info(stateAfter
            ? `the accepting connection also got a state push: ${show(stateAfter)}`
            : 'the accepting connection got no state push of its own change (README leaves this open); the card used the reply');
        return clean((reply.messages || []).map((m) => m.text).join(' '));
    });
    await step('the app pane shows the offer as accepted (state push)', async () => {
        await app.locator('.parley-offers .parley-offer[data-status="accepted"]', { hasText: 'Nikon Z50' }).waitFor();
        const s = rec1.socket('app');
        const pushed = s.received.filter((f) => f.type === 'state');
        const last = pushed[pushed.length - 1];
        const o = offerIn(last, offerId);
        if (!o || o.status !== 'accepted') {
            throw new Error(`last state on the app connection: ${show(last)}`);
        }
    });

    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot });
    info(`screenshot: ${screenshot}`);

    // ---- the server restarts: the widget comes back by itself ----
    await step('when the server stops, the widget shows it is offline', async () => {
        serverDown = true;
        await stopServer();
        await web.locator('.parley-conn[data-state="offline"]').waitFor();
        return clean(await web.locator('.parley-conn').textContent());
    });
    await step('when the server is back, the widget reconnects and says hello again', async () => {
        const before = rec1.all.length;
        await startServer(Number(new URL(base).port));
        serverDown = false;
        const s = await waitFor('a new web socket answered with state', () => {
            const x = rec1.all.slice(before).find((k) => k.sent[0] && k.sent[0].type === 'hello' && k.sent[0].channel === 'web');
            return x && x.received.find((f) => f.type === 'state') ? x : null;
        }, 30_000);
        if (s.sent[0].client_id !== (await page.evaluate(() => localStorage.getItem('parley.client_id')))) {
            throw new Error(`hello after the restart has another client id: ${show(s.sent[0])}`);
        }
        await web.locator('.parley-conn[data-state="online"]').waitFor();
        const o = offerIn(s.received.find((f) => f.type === 'state'), offerId);
        if (!o || o.status !== 'accepted') {
            throw new Error(`state after the restart: ${show(s.received.find((f) => f.type === 'state'))}`);
        }
    });

    // ---- reload: the same visitor comes back ----
    const clientId1 = await page.evaluate(() => localStorage.getItem('parley.client_id'));
    const socketsBefore = rec1.all.length;
    await step('after a reload the earlier messages are shown again', async () => {
        await page.reload();
        await web.locator('.parley-msg-user .parley-text', { hasText: question }).waitFor();
        await web.locator('.parley-divider', { hasText: 'fortgesetzt' }).waitFor();
        await web.locator('.parley-log .parley-offer', { hasText: 'Nikon Z50' }).waitFor();
    });
    await step('after the reload hello carries the same client id and state has the accepted offer', async () => {
        const s = await waitFor('a new web socket with its state', () => {
            const x = rec1.all.slice(socketsBefore).find((k) => k.sent[0] && k.sent[0].channel === 'web');
            return x && x.received.find((f) => f.type === 'state') ? x : null;
        });
        if (s.sent[0].client_id !== clientId1) {
            throw new Error(`client id ${s.sent[0].client_id}, before ${clientId1}`);
        }
        const o = offerIn(s.received.find((f) => f.type === 'state'), offerId);
        if (!o || o.status !== 'accepted') {
            throw new Error(`state after hello: ${show(s.received.find((f) => f.type === 'state'))}`);
        }
        await web.locator('.parley-log .parley-offer[data-status="accepted"] .parley-offer-status', { hasText: 'Angenommen' }).waitFor();
        const buttons = await web.locator('.parley-log .parley-offer .parley-offer-actions:visible').count();
        if (buttons !== 0) throw new Error('the accepted card still shows its buttons');
    });
    await step('the server continues the same conversation (answering its last question)', async () => {
        const quick = web.locator('.parley-quick button', { hasText: /^Ja$/ });
        if (await quick.count() > 0) {
            await quick.first().click();
        } else {
            info('no "Ja" quick reply after the reload; typing it');
            await web.locator('.parley-input').fill('Ja');
            await web.locator('.parley-input').press('Enter');
        }
        const s = rec1.all.slice(socketsBefore).find((k) => k.sent[0] && k.sent[0].channel === 'web');
        const sent = await waitFor('the "Ja" frame', () => s.sent.find((f) => f.type === 'message' && f.text === 'Ja'));
        const reply = await waitFor('its reply', () => s.received.find((f) => f.type === 'reply' && f.in_reply_to === sent.id));
        const text = clean((reply.messages || []).map((m) => m.text).join(' '));
        if (!/merke mir/i.test(text)) {
            throw new Error(`"Ja" was answered with ${show(text)}, not the thanks for the consent`);
        }
        return text;
    });

    // ---- a second browser (fresh storage): the app with the same demo account ----
    const ctx2 = await browser.newContext(contextOptions);
    const page2 = await ctx2.newPage();
    page2.setDefaultTimeout(STEP_TIMEOUT_MS);
    page2.on('pageerror', (e) => consoleErrors.push(String(e)));
    const rec2 = recordSockets(page2);
    const appOnly = page2.locator('.parley-root');
    await step('a fresh browser opens the app page', async () => {
        const res = await page2.goto(`${base}/app.html`);
        if (!res || res.status() !== 200) throw new Error(`GET /app.html answered ${res && res.status()}`);
    });
    const s2 = await checkHandshake('fresh app', rec2, 'app', { signedIn: true });
    if (s2) {
        check('fresh app: a new anonymous client id', s2.sent[0].client_id !== clientId1, `same client id ${clientId1}`);
        const o = offerIn(s2.received[1], offerId);
        check('fresh app: state after hello holds the accepted offer', o && o.status === 'accepted',
            `state after hello: ${show(s2.received[1])}`);
    }
    await step('fresh app shows the disclosure and the accepted offer', async () => {
        await appOnly.locator('.parley-banner .parley-disclosure').waitFor({ state: 'visible' });
        const c = appOnly.locator('.parley-offers .parley-offer', { hasText: 'Nikon Z50' });
        await c.waitFor();
        const status = clean(await c.locator('.parley-offer-status').textContent());
        if (status !== 'Angenommen') throw new Error(`status ${show(status)}`);
        const price = clean(await c.locator('.parley-offer-price').textContent());
        if (price !== '849 €') throw new Error(`price ${show(price)}`);
    });
    await step('text is shown as written, never as HTML', async () => {
        const input = appOnly.locator('.parley-input');
        await input.focus();
        await page2.keyboard.type('<b>Hallo</b>');
        await page2.keyboard.press('Enter');
        await appOnly.locator('.parley-msg-user .parley-text', { hasText: '<b>Hallo</b>' }).waitFor();
        await appOnly.locator('.parley-msg-bot').last().waitFor();
        const tags = await appOnly.locator('.parley-log b').count();
        if (tags !== 0) throw new Error('a <b> element appeared in the message list');
    });
    await step('the app\'s Kontakt button asks for a person and the handoff is shown', async () => {
        await appOnly.getByRole('button', { name: 'Kontakt' }).click();
        const handoff = appOnly.locator('.parley-type-handoff').last();
        await handoff.waitFor();
        const label = clean(await handoff.locator('.parley-handoff-label').textContent());
        if (label !== 'Ein Mensch übernimmt') throw new Error(`label ${show(label)}`);
        return clean(await handoff.locator('.parley-text').textContent());
    });
    await page2.screenshot({ path: screenshot.replace(/\.png$/, '-app.png') });

    check('no request left loopback', outside.length === 0, outside.join(', '));
    check('no JavaScript errors on the pages', consoleErrors.length === 0, consoleErrors.slice(0, 5).join(' | '));
}

const timer = setTimeout(async () => {
    fail('browser test', `did not finish within ${TOTAL_TIMEOUT_MS / 1000} s`);
    await cleanup();
    process.exit(1);
}, TOTAL_TIMEOUT_MS);

try {
    await run();
} catch (e) {
    fail('browser test', String(e && e.stack ? e.stack : e).split('\n').slice(0, 8).join('\n'));
}
clearTimeout(timer);
await cleanup();
if (interrupted) {
    process.exit(1);
}
if (failures > 0 && serverLog) {
    const log = screenshot.replace(/\.png$/, '-server.log');
    try {
        fs.mkdirSync(path.dirname(log), { recursive: true });
        fs.writeFileSync(log, serverLog);
        info(`server log: ${log}`);
    } catch {
        // keep going: the tail below is printed anyway
    }
    console.log('--- last lines of the server log ---');
    console.log(serverLog.split('\n').slice(-30).join('\n'));
}
if (serverExited && serverExited.code !== 0 && serverExited.code !== null && serverExited.signal === null) {
    info(`parley exited with ${show(serverExited)}`);
}
console.log(failures === 0 ? `PASS browser test (${passes} checks)` : `FAIL browser test (${failures} of ${passes + failures} checks failed)`);
process.exit(failures === 0 ? 0 : 1);
