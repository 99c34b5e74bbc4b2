// The voice webhook driven by virtual-alexa (npm): it builds real Alexa requests from the
// interaction model that `parley export alexa` writes and sends them over HTTP to a running
// `parley serve`. virtual-alexa does not sign, so its requests go through a small signing proxy
// written here: it signs the exact body with the key of a test certificate for
// echo-api.amazon.com (a root, an intermediate and that certificate are made with the openssl
// command, and parley trusts that root), so verification stays on.
//
// Covers: launch (disclosure, then the greeting), a whole purchase-advice conversation in
// English and in German up to an offer with its price, help, stop, the end of the session,
// well-formed SSML in every answer, and one request whose body is changed after signing (400).
//
// usage: node test.mjs PARLEY SOURCE_DIR
// Prints PASS/FAIL per check and ends with "N passed, N failed"; exits 0 only if all passed.
// Runs on Node 18 and later (only node: built-ins besides virtual-alexa).

import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const SKILL = "amzn1.ask.skill.parley-test";
const CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem";
const TIME_LIMIT_MS = 180000;

let passed = 0;
const failures = [];

function check(cond, what) {
  console.log((cond ? "PASS " : "FAIL ") + what);
  if (cond) passed++;
  else failures.push(what);
  return !!cond;
}

function short(s, n = 140) {
  s = String(s ?? "");
  return JSON.stringify(s.length > n ? s.slice(0, n) + "…" : s);
}

// ---------------------------------------------------------------------------------------
// The test PKI: a root CA, an intermediate, and a signing certificate for echo-api.amazon.com
// (the platform's real chain cannot be fetched here). The cache holds the chain under the
// last part of CERT_URL, as parley's certificate cache wants it.

function openssl(...args) {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function makePki(d) {
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3",
          "-subj", "/CN=Parley Test Root", "-keyout", `${d}/root.key`, "-out", `${d}/root.pem`);
  fs.writeFileSync(`${d}/ext.cnf`,
    "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n" +
    "[leaf]\nsubjectAltName=DNS:echo-api.amazon.com\nkeyUsage=critical,digitalSignature\n");
  for (const [name, cn, sect, signer] of [["inter", "Parley Test Intermediate", "ca", "root"],
                                          ["leaf", "echo-api.amazon.com", "leaf", "inter"]]) {
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${cn}`,
            "-keyout", `${d}/${name}.key`, "-out", `${d}/${name}.csr`);
    openssl("x509", "-req", "-in", `${d}/${name}.csr`, "-CA", `${d}/${signer}.pem`,
            "-CAkey", `${d}/${signer}.key`, "-CAcreateserial", "-days", "2",
            "-extfile", `${d}/ext.cnf`, "-extensions", sect, "-out", `${d}/${name}.pem`);
  }
  fs.mkdirSync(`${d}/cache`);
  fs.writeFileSync(`${d}/cache/${path.basename(new URL(CERT_URL).pathname)}`,
                   fs.readFileSync(`${d}/leaf.pem`, "utf8") + fs.readFileSync(`${d}/inter.pem`, "utf8"));
}

// ---------------------------------------------------------------------------------------
// Small HTTP helpers (node:http only, no fetch: it is still experimental in Node 18).

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function httpRequest(options, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent: false, timeout: 10000, ...options }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers,
                                    body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end(body);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// parley serve, with voice verification configured against the test root.

class Server {
  constructor(parley, src, d) {
    this.parley = parley;
    this.src = src;
    this.d = d;
    this.logFile = `${d}/server.log`;
    this.exited = null;
  }

  async start() {
    this.port = await freePort();
    fs.writeFileSync(`${this.d}/secret`, "voice-test-secret-0123456789abcdef-xyz");
    const log = fs.openSync(this.logFile, "w");
    this.p = spawn(this.parley, [
      "serve", "--listen", `127.0.0.1:${this.port}`, "--store", `sqlite:${this.d}/state.db`,
      "--jwt-secret-file", `${this.d}/secret`, "--voice-skill-id", SKILL,
      "--voice-cert-cache", `${this.d}/cache`, "--voice-ca", `${this.d}/root.pem`,
      "--rate-limit", "100", "dialogs/camera-shop.en.yaml", "dialogs/camera-shop.de.yaml",
    ], { cwd: this.src, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    this.exitPromise = new Promise((resolve) => {
      this.p.on("exit", (code, signal) => { this.exited = { code, signal }; resolve(this.exited); });
      this.p.on("error", (e) => { this.exited = { code: null, signal: null, error: e }; resolve(this.exited); });
    });
    for (let i = 0; i < 200 && !this.exited; i++) {
      try {
        const r = await httpRequest({ host: "127.0.0.1", port: this.port, path: "/healthz", timeout: 1000 });
        if (r.status === 200) return true;
      } catch { /* not up yet */ }
      await sleep(50);
    }
    return false;
  }

  async stop() {
    if (this.exited) return this.exited;
    this.p.kill("SIGTERM");
    const timeout = sleep(10000).then(() => null);
    const got = await Promise.race([this.exitPromise, timeout]);
    if (!got) {
      this.p.kill("SIGKILL");
      await this.exitPromise;
      return { code: null, signal: "SIGKILL (did not stop within 10 s of SIGTERM)" };
    }
    return got;
  }

  killNow() {
    if (this.p && !this.exited) this.p.kill("SIGKILL");
  }

  logTail(n = 3000) {
    try {
      const s = fs.readFileSync(this.logFile, "utf8");
      return s.slice(-n);
    } catch {
      return "";
    }
  }
}

// ---------------------------------------------------------------------------------------
// The signing proxy: takes virtual-alexa's request, signs its exact body as the platform
// does (RSA-SHA256 by the certificate at SignatureCertChainUrl, base64 in Signature-256) and
// forwards it to parley's webhook; parley's answer goes back unchanged. `tamperNext`, when
// set, changes the body after it was signed (once), to show that verification is on.

class SigningProxy {
  constructor(targetPort, keyPem) {
    this.targetPort = targetPort;
    this.key = crypto.createPrivateKey(keyPem);
    this.tamperNext = null;
    this.exchanges = [];
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  listen() {
    return new Promise((resolve, reject) => {
      this.server.on("error", reject);
      this.server.listen(0, "127.0.0.1", () => {
        this.port = this.server.address().port;
        resolve(`http://127.0.0.1:${this.port}/alexa`);
      });
    });
  }

  handle(req, res) {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      const signature = crypto.createSign("RSA-SHA256").update(body).sign(this.key, "base64");
      let sent = body;
      if (this.tamperNext) {
        sent = this.tamperNext(body);
        this.tamperNext = null;
      }
      const exchange = { request: body.toString("utf8"), sentTampered: !sent.equals(body) };
      this.exchanges.push(exchange);
      try {
        const r = await httpRequest({
          host: "127.0.0.1", port: this.targetPort, path: "/v1/voice/alexa", method: "POST",
          headers: { "Content-Type": "application/json", "Content-Length": sent.length,
                     "Signature-256": signature, "SignatureCertChainUrl": CERT_URL },
        }, sent);
        exchange.status = r.status;
        exchange.response = r.body.toString("utf8");
        res.writeHead(r.status, { "Content-Type": r.headers["content-type"] || "application/json",
                                  "Content-Length": r.body.length });
        res.end(r.body);
      } catch (e) {
        exchange.status = 502;
        exchange.response = String(e);
        res.writeHead(502, { "Content-Type": "text/plain" });
        res.end(`proxy: ${e}`);
      }
    });
  }

  last() {
    return this.exchanges[this.exchanges.length - 1] || {};
  }

  close() {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      if (this.server.closeAllConnections) this.server.closeAllConnections();
    });
  }
}

// ---------------------------------------------------------------------------------------
// SSML: a tiny well-formedness check (no XML package): one <speak> root, balanced tags,
// quoted attributes, only the five predefined entities or character references.

function ssmlProblem(ssml) {
  if (typeof ssml !== "string") return "no SSML string";
  if (ssml.length > 8000) return `${ssml.length} characters, more than 8000`;
  const token = /<\/?([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<!--[\s\S]*?-->|([^<]+)|(<)/gy;
  const stack = [];
  let roots = 0;
  let m;
  let pos = 0;
  while (pos < ssml.length && (m = token.exec(ssml))) {
    pos = token.lastIndex;
    const [whole, name, , selfClosing, text, bareLt] = m;
    if (bareLt) return `a bare '<' at ${m.index}`;
    if (text !== undefined) {
      if (stack.length === 0 && text.trim()) return `text outside <speak>: ${short(text, 40)}`;
      const amp = text.replace(/&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);/g, "");
      if (amp.includes("&")) return `a bare '&' or unknown entity in ${short(text, 60)}`;
      continue;
    }
    if (!name) continue; // a comment
    if (whole.startsWith("</")) {
      const open = stack.pop();
      if (open !== name) return open ? `</${name}> while <${open}> is open` : `</${name}> closes nothing`;
      continue;
    }
    if (stack.length === 0) {
      roots++;
      if (name !== "speak") return `the root is <${name}>, not <speak>`;
      if (roots > 1) return "more than one root element";
    }
    if (!selfClosing) stack.push(name);
  }
  if (pos !== ssml.length) return `unparsable at ${pos}`;
  if (stack.length) return `<${stack.join("><")}> not closed`;
  if (roots !== 1) return "no <speak> element";
  return null;
}

function spoken(ssml) {
  return String(ssml ?? "").replace(/<\/?say-as\b[^>]*>/g, "").replace(/<[^>]*>/g, " ")
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&").replace(/\s+/g, " ").trim();
}

// Checks every answer of a conversation turn as the README documents it, and returns the
// spoken text.
function answer(label, r, { ends = false } = {}) {
  const resp = (r && r.response) || {};
  const speech = resp.outputSpeech || {};
  const problem = ssmlProblem(speech.ssml);
  check(speech.type === "SSML" && !problem,
        `${label}: outputSpeech is SSML and well-formed (${problem || "ok"})`);
  if (resp.reprompt) {
    const rp = ssmlProblem(resp.reprompt.outputSpeech && resp.reprompt.outputSpeech.ssml);
    check(!rp, `${label}: the reprompt's SSML is well-formed (${rp || "ok"})`);
  }
  const text = spoken(speech.ssml);
  check(!/https?:|www\.|[\w.+-]+@[\w-]+\.[\w.]+/i.test(text), `${label}: no URL or e-mail address read aloud`);
  check(!/\p{Extended_Pictographic}/u.test(text), `${label}: no emoji in the speech`);
  check(resp.shouldEndSession === ends, `${label}: shouldEndSession is ${ends} (${resp.shouldEndSession})`);
  return text;
}

// The parts of an answer between the pauses (<break/>): one per message.
function messages(r) {
  const ssml = (r && r.response && r.response.outputSpeech && r.response.outputSpeech.ssml) || "";
  return ssml.split(/<break\b[^>]*\/>/).map(spoken).filter(Boolean);
}

function sentences(text) {
  return text.split(/(?<=[.!?])\s+/).filter(Boolean);
}

// The launch: the disclosure and what the bot can do (at most two short sentences), a pause,
// then the greeting.
function checkLaunch(lang, r, disclosure) {
  const parts = messages(r);
  check(parts.length >= 2 && disclosure.test(sentences(parts[0])[0] || ""),
        `${lang} launch: the disclosure first, then a pause and the greeting (${parts.length} messages)`);
  check(parts.length >= 1 && sentences(parts[0]).length <= 2,
        `${lang} launch: disclosure and capabilities in at most two sentences (${short(parts[0], 200)})`);
}

// The offer: one sentence with its exact price and last day (a say-as date), the same terms on
// the card.
function checkOffer(lang, r, price) {
  const ssml = r.response.outputSpeech.ssml;
  const part = ssml.split(/<break\b[^>]*\/>/).find((p) => p.includes(price)) || "";
  const date = /<say-as interpret-as="date"[^>]*>(\d{4})(\d{2})(\d{2})<\/say-as>/.exec(part);
  const sentence = spoken(part).split(/(?<=[.!?])\s+/).find((x) => x.includes(price)) || "";
  check(date && sentence.includes(date[1] + date[2] + date[3]),
        `${lang}: the offer is one sentence with its price and last day (${short(sentence, 200)})`);
  const card = (r.response.card && (r.response.card.content || r.response.card.text)) || "";
  check(card.includes(price) && date && card.includes(date[1]) && card.includes(String(Number(date[3]))),
        `${lang}: the card has the same price and last day (${short(card, 160)})`);
}

// The request virtual-alexa built for the last turn, as the proxy saw it.
function lastRequest(proxy) {
  try {
    return JSON.parse(proxy.last().request).request;
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------------------------------
// The conversations.

async function english(alexa, proxy) {
  let r = await alexa.launch();
  let t = answer("en launch", r);
  check(lastRequest(proxy).type === "LaunchRequest", "en launch: virtual-alexa sent a LaunchRequest");
  check(/automated/.test(t), `en launch: the disclosure (${short(t, 300)})`);
  checkLaunch("en", r, /^I am the .*automated/);

  r = await alexa.utter("i mean I want a camera");
  t = answer("en 'i mean I want a camera'", r);
  const q = lastRequest(proxy);
  check(q.intent && q.intent.name === "ParleyFreeTextIntent" && q.intent.slots.text.value === "I want a camera",
        `en: the carrier phrase resolved to ParleyFreeTextIntent with text 'I want a camera' (${short(JSON.stringify(q.intent), 100)})`);
  check(/budget/i.test(t), `en: a purchase request is asked for its budget (${short(t)})`);
  check(!!(r.response && r.response.reprompt), "en: while the question waits, there is a reprompt");

  // verification stays on: the same kind of request, its body changed after signing
  proxy.tamperNext = (b) => Buffer.from(b.toString("utf8").replace("nine hundred", "nine thousand"));
  let refused = null;
  try {
    await alexa.utter("it is about nine hundred euros");
  } catch (e) {
    refused = String(e && e.message ? e.message : e);
  }
  const ex = proxy.last();
  let body = {};
  try { body = JSON.parse(ex.response); } catch { /* checked below */ }
  check(ex.sentTampered && ex.status === 400 && refused && /400/.test(refused),
        `en: a body changed after signing is refused with 400 (${ex.status}; virtual-alexa: ${short(refused, 80)})`);
  check(body.type === "error" && body.code === "verification_failed",
        `en: …as {"type":"error","code":"verification_failed"} (${short(ex.response, 120)})`);

  r = await alexa.utter("it is about nine hundred euros");
  t = answer("en 'it is about nine hundred euros'", r);
  check(/photograph/i.test(t), `en: the budget taken (the refused request changed nothing), asks what to photograph (${short(t)})`);

  r = await alexa.utter("travel");
  t = answer("en 'travel'", r);
  const qt = lastRequest(proxy);
  check(qt.intent && qt.intent.name === "ParleyFreeTextIntent" && qt.intent.slots.subject.value === "travel",
        "en: 'travel' resolved to the subject slot of ParleyFreeTextIntent");
  check(/849/.test(t), `en: the offer is spoken with its price (${short(t, 300)})`);
  checkOffer("en", r, "849");
  check(!!r.response.reprompt, "en: the consent question after the offer has a reprompt");

  r = await alexa.utter("yes");
  t = answer("en yes", r);
  check(lastRequest(proxy).intent.name === "AMAZON.YesIntent", "en: 'yes' sent as AMAZON.YesIntent");
  check(/remember/i.test(t), `en yes: the answer to the consent question (${short(t)})`);

  r = await alexa.utter("help");
  t = answer("en help", r);
  check(lastRequest(proxy).intent.name === "AMAZON.HelpIntent", "en: 'help' sent as AMAZON.HelpIntent");
  check(/\bI can\b/.test(t), `en help: what the bot can do (${short(t)})`);

  r = await alexa.utter("stop");
  t = answer("en stop", r, { ends: true });
  check(lastRequest(proxy).intent.name === "AMAZON.StopIntent", "en: 'stop' sent as AMAZON.StopIntent");
  check(/Goodbye/.test(t), `en stop: says goodbye (${short(t)})`);

  r = await alexa.endSession();
  check(lastRequest(proxy).type === "SessionEndedRequest" && proxy.last().status === 200,
        "en: SessionEndedRequest taken (200)");
  check(r.response && typeof r.response === "object" && Object.keys(r.response).length === 0,
        `en session end: an empty response (${short(proxy.last().response, 120)})`);
}

async function german(alexa, proxy) {
  let r = await alexa.launch();
  let t = answer("de launch", r);
  check(lastRequest(proxy).locale === "de-DE", "de: virtual-alexa sends locale de-DE");
  check(/automatisch/.test(t), `de launch: the disclosure (${short(t, 300)})`);
  checkLaunch("de", r, /^Ich bin .*automatisch/);

  r = await alexa.utter("ich meine ich möchte eine Kamera kaufen");
  t = answer("de 'ich meine ich möchte eine Kamera kaufen'", r);
  const q = lastRequest(proxy);
  check(q.intent && q.intent.name === "ParleyFreeTextIntent" && /Kamera/.test(q.intent.slots.text.value || ""),
        `de: the carrier phrase resolved to ParleyFreeTextIntent (${short(JSON.stringify(q.intent), 100)})`);
  check(/Budget|ausgeben/i.test(t), `de: a purchase request is asked for its budget (${short(t)})`);

  // virtual-alexa knows only the English phrases of the built-in intents ("yes", "help",
  // "stop"): in German they are sent by name, as Alexa does for "ja", "Hilfe" and "stopp"
  r = await alexa.utter("es ist ungefähr neunhundert Euro");
  t = answer("de 'es ist ungefähr neunhundert Euro'", r);
  check(/fotografieren/i.test(t), `de: the budget taken, asks what to photograph (${short(t)})`);

  r = await alexa.utter("Reisen");
  t = answer("de 'Reisen'", r);
  const qt = lastRequest(proxy);
  check(qt.intent && qt.intent.name === "ParleyFreeTextIntent" && qt.intent.slots.subject.value === "Reisen",
        "de: 'Reisen' resolved to the subject slot of ParleyFreeTextIntent");
  check(/849/.test(t), `de: the offer is spoken with its price (${short(t, 300)})`);
  checkOffer("de", r, "849");

  r = await alexa.intend("AMAZON.YesIntent");
  t = answer("de ja", r);
  check(/merke|gemerkt|speicher/i.test(t), `de ja: the answer to the consent question (${short(t)})`);

  r = await alexa.intend("AMAZON.HelpIntent");
  t = answer("de help", r);
  check(/\bkann\b/i.test(t), `de help: what the bot can do (${short(t)})`);

  r = await alexa.intend("AMAZON.StopIntent");
  t = answer("de stop", r, { ends: true });
  check(t.length > 0, `de stop: says goodbye (${short(t)})`);

  r = await alexa.endSession();
  check(lastRequest(proxy).type === "SessionEndedRequest" && proxy.last().status === 200,
        "de: SessionEndedRequest taken (200)");
  check(r.response && typeof r.response === "object" && Object.keys(r.response).length === 0,
        `de session end: an empty response (${short(proxy.last().response, 120)})`);
}

// ---------------------------------------------------------------------------------------

async function main() {
  const [parleyArg, srcArg] = process.argv.slice(2);
  if (!parleyArg || !srcArg) {
    console.error("usage: node test.mjs PARLEY SOURCE_DIR");
    return 2;
  }
  const parley = fs.realpathSync(parleyArg);
  const src = fs.realpathSync(srcArg);

  // aws-sdk (a dependency of virtual-alexa) warns about its end of support when loaded
  process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
  const require = createRequire(import.meta.url);
  const { VirtualAlexa } = require("virtual-alexa");

  const d = fs.mkdtempSync(path.join(os.tmpdir(), "parley-virtual-alexa-"));
  const server = new Server(parley, src, d);
  let proxy = null;
  const onSignal = () => { server.killNow(); process.exit(1); };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", () => server.killNow());
  const watchdog = setTimeout(() => {
    check(false, `the test finished within ${TIME_LIMIT_MS / 1000} s`);
    console.log(server.logTail());
    server.killNow();
    console.log(`${passed} passed, ${failures.length} failed`);
    process.exit(1);
  }, TIME_LIMIT_MS);

  try {
    makePki(d);
    const models = {};
    for (const [lang, locale] of [["en", "en-US"], ["de", "de-DE"]]) {
      models[lang] = `${d}/model.${lang}.json`;
      execFileSync(parley, ["export", "alexa", `dialogs/camera-shop.${lang}.yaml`, "--out", models[lang]],
                   { cwd: src, stdio: ["ignore", "ignore", "pipe"] });
      const m = JSON.parse(fs.readFileSync(models[lang], "utf8"));
      const names = m.interactionModel.languageModel.intents.map((i) => i.name);
      check(names.includes("ParleyFreeTextIntent") && names.includes("AMAZON.HelpIntent"),
            `exported the ${locale} interaction model (${names.length} intents)`);
    }
    if (!check(await server.start(), `parley serve is up on 127.0.0.1:${server.port} with voice verification`)) {
      throw new Error(`parley serve did not start${server.exited ? ` (exit ${server.exited.code})` : ""}`);
    }
    proxy = new SigningProxy(server.port, fs.readFileSync(`${d}/leaf.key`, "utf8"));
    const url = await proxy.listen();
    console.log(`signing proxy on ${url} → http://127.0.0.1:${server.port}/v1/voice/alexa`);

    const make = (lang, locale) => VirtualAlexa.Builder()
      .interactionModelFile(models[lang])
      .applicationID(SKILL)
      .locale(locale)
      .skillURL(url)
      .create();
    for (const [name, fn, alexa] of [["English", english, make("en", "en-US")],
                                     ["German", german, make("de", "de-DE")]]) {
      try {
        await fn(alexa, proxy);
      } catch (e) {
        check(false, `the ${name} conversation ran to its end: ${e && e.stack ? e.stack : e}`);
        const ex = proxy.last();
        if (ex.request) console.log(`last exchange: ${ex.status} ${short(ex.response, 300)}`);
      }
    }
    const bad = proxy.exchanges.filter((x) => x.status !== 200 && !x.sentTampered);
    check(bad.length === 0, `every correctly signed request was taken (${bad.map((x) => x.status).join(", ") || "all 200"})`);
  } catch (e) {
    check(false, `the test ran: ${e && e.stack ? e.stack : e}`);
  } finally {
    if (proxy) await proxy.close();
    if (server.p) {
      const st = await server.stop();
      check(st.code === 0, `the server stops cleanly on SIGTERM (exit ${st.code}, signal ${st.signal})`);
    }
    if (failures.length) {
      console.log("--- the end of the server's log ---");
      console.log(server.logTail());
    }
    clearTimeout(watchdog);
    fs.rmSync(d, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failures.length} failed`);
  return failures.length ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.log(`FAIL the test ran: ${e && e.stack ? e.stack : e}`);
  console.log(`${passed} passed, ${failures.length + 1} failed`);
  process.exit(1);
});
