/* The parley web widget: one script tag puts a chat with a parley bot on any page. It speaks
 * the WebSocket protocol v1 of channels/README.md, keeps an anonymous client id and the visible
 * transcript in localStorage, and puts server text on the page with textContent only.
 *
 *   <script src="/widget.js" data-server="ws://127.0.0.1:8080/v1/ws" data-locale="de"></script>
 *
 * data-server     WebSocket URL (default: this page's origin + /v1/ws)
 * data-locale     de | en: picks the bot and the widget's own words
 * data-channel    web (default) | app
 * data-token-url  a URL answering {"token": "…"}: the visitor is signed in with that identity
 * data-container  CSS selector: render into that element instead of a floating panel
 * data-open       "true": the floating panel starts open
 */
(function () {
    'use strict';

    var script = document.currentScript;
    if (!script) {
        return;
    }

    var PROTOCOL = 'parley.v1';
    var ID_RE = /^[A-Za-z0-9_-]{16,64}$/;
    var MAX_TRANSCRIPT = 100; /* messages kept per client id */
    var MAX_TEXT_BYTES = 4096; /* the server's limit for one message text */
    var BACKOFF_MIN_MS = 500;
    var BACKOFF_MAX_MS = 15000;

    /* The widget's own words. The bot's words come from the server. */
    var STRINGS = {
        de: {
            title: 'Chat',
            open: 'Chat öffnen',
            close: 'Chat schließen',
            you: 'Sie:',
            bot: 'Assistent:',
            input: 'Ihre Nachricht',
            placeholder: 'Nachricht schreiben …',
            send: 'Senden',
            humanWeb: 'Mit einem Menschen sprechen',
            humanApp: 'Kontakt',
            humanText: 'Ich möchte mit einem Menschen sprechen',
            quick: 'Antwortvorschläge',
            accept: 'Annehmen',
            decline: 'Ablehnen',
            validUntil: 'Gültig bis {date}',
            status: {
                open: 'Offen',
                accepted: 'Angenommen',
                declined: 'Abgelehnt',
                expired: 'Abgelaufen',
                withdrawn: 'Zurückgezogen',
            },
            yourOffers: 'Ihre Angebote',
            handoff: 'Ein Mensch übernimmt',
            resumed: 'Unterhaltung fortgesetzt',
            canDo: 'Ich kann: {list}.',
            more: 'Mehr dazu',
            elsewhere: 'Nicht auf diesem Kanal:',
            cannot: 'Das kann ich nicht:',
            human: 'Zu einem Menschen:',
            signedIn: 'angemeldet',
            connecting: 'verbinde …',
            online: 'verbunden',
            offline: 'offline, neuer Versuch in {s} s',
            notSent: 'nicht zugestellt',
            errors: {
                rate_limited: 'Sie schreiben gerade sehr schnell. Bitte kurz warten und dann noch einmal senden.',
                too_long: 'Die Nachricht ist zu lang. Bitte kürzer fassen.',
                unavailable: 'Gerade gibt es eine Störung; es wurde nichts geändert. Bitte gleich noch einmal versuchen.',
                bad_token: 'Die Anmeldung wurde nicht angenommen.',
                other: 'Das hat nicht geklappt: {message}',
            },
        },
        en: {
            title: 'Chat',
            open: 'Open chat',
            close: 'Close chat',
            you: 'You:',
            bot: 'Assistant:',
            input: 'Your message',
            placeholder: 'Write a message …',
            send: 'Send',
            humanWeb: 'Talk to a person',
            humanApp: 'Contact',
            humanText: 'I want to talk to a person',
            quick: 'Suggested answers',
            accept: 'Accept',
            decline: 'Decline',
            validUntil: 'Valid until {date}',
            status: {
                open: 'Open',
                accepted: 'Accepted',
                declined: 'Declined',
                expired: 'Expired',
                withdrawn: 'Withdrawn',
            },
            yourOffers: 'Your offers',
            handoff: 'A person takes over',
            resumed: 'Conversation resumed',
            canDo: 'I can {list}.',
            more: 'More',
            elsewhere: 'Not on this channel:',
            cannot: 'What I cannot do:',
            human: 'To reach a person:',
            signedIn: 'signed in',
            connecting: 'connecting …',
            online: 'connected',
            offline: 'offline, trying again in {s} s',
            notSent: 'not delivered',
            errors: {
                rate_limited: 'You are writing very fast. Please wait a moment and send again.',
                too_long: 'That message is too long. Please make it shorter.',
                unavailable: 'Something went wrong on our side; nothing was changed. Please try again in a moment.',
                bad_token: 'The sign-in was not accepted.',
                other: 'That did not work: {message}',
            },
        },
    };

    function fill(template, values) {
        return template.replace(/\{(\w+)\}/g, function (m, k) {
            return k in values ? String(values[k]) : m;
        });
    }

    function primaryLanguage(tag) {
        return String(tag || '').toLowerCase().split(/[-_]/)[0];
    }

    /* localStorage that degrades to memory when the browser refuses it (private modes) */
    var memory = {};
    var store = {
        get: function (k) {
            try {
                return window.localStorage.getItem(k);
            } catch (e) {
                return k in memory ? memory[k] : null;
            }
        },
        set: function (k, v) {
            try {
                window.localStorage.setItem(k, v);
            } catch (e) {
                memory[k] = v;
            }
        },
    };

    /* 16 random bytes as base64url without padding: 22 characters */
    function newClientId() {
        var bytes = new Uint8Array(16);
        window.crypto.getRandomValues(bytes);
        var s = '';
        for (var i = 0; i < bytes.length; i++) {
            s += String.fromCharCode(bytes[i]);
        }
        return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    }

    function clientId() {
        var id = store.get('parley.client_id');
        if (!id || !ID_RE.test(id)) {
            id = newClientId();
            store.set('parley.client_id', id);
        }
        return id;
    }

    /* el('p', {class: 'x', 'aria-label': '…'}, child, 'text', …): builds DOM without parsing
     * markup, so text from the server can never become HTML. */
    function el(tag, attrs) {
        var node = document.createElement(tag);
        for (var k in attrs || {}) {
            if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) {
                continue;
            }
            if (k === 'class') {
                node.className = attrs[k];
            } else if (k === 'text') {
                node.textContent = attrs[k];
            } else {
                node.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
            }
        }
        for (var i = 2; i < arguments.length; i++) {
            var c = arguments[i];
            if (c === null || c === undefined) {
                continue;
            }
            node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
        }
        return node;
    }

    function chatIcon() {
        var ns = 'http://www.w3.org/2000/svg';
        var svg = document.createElementNS(ns, 'svg');
        svg.setAttribute('viewBox', '0 0 24 24');
        svg.setAttribute('aria-hidden', 'true');
        svg.setAttribute('focusable', 'false');
        var path = document.createElementNS(ns, 'path');
        path.setAttribute('d', 'M4 4h16a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H9l-4 4v-4H4a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1z');
        svg.appendChild(path);
        return svg;
    }

    function loadStylesheet(href) {
        var links = document.querySelectorAll('link[data-parley-css]');
        for (var i = 0; i < links.length; i++) {
            if (links[i].href === href) {
                return;
            }
        }
        document.head.appendChild(el('link', {rel: 'stylesheet', href: href, 'data-parley-css': true}));
    }

    var instances = 0;

    function Widget(opts) {
        this.opts = opts;
        this.n = ++instances;
        this.lang = STRINGS[opts.locale] ? opts.locale : opts.uiLocale;
        this.t = STRINGS[this.lang];
        this.clientId = clientId();
        this.key = 'parley.transcript.' + opts.channel + '.' + this.clientId;
        this.transcript = this.loadTranscript();
        this.ws = null;
        this.ready = false; /* hello answered */
        this.attempt = 0; /* reconnects since the last successful hello */
        this.timer = null;
        this.queue = []; /* frames waiting for a connection */
        this.pending = {}; /* id → what we sent, until the answer */
        this.seq = 0;
        this.offers = {}; /* offer id → latest known snapshot with status */
        this.cards = {}; /* offer id → card elements showing it */
        this.stateOffers = [];
        this.entryEls = new WeakMap(); /* transcript entry → its list item */
        this.build();
        this.connect();
        var self = this;
        window.addEventListener('online', function () {
            if (!self.ws) {
                self.connect();
            }
        });
    }

    Widget.prototype.id = function (name) {
        return 'parley-' + this.n + '-' + name;
    };

    /* ---- transcript ---- */

    Widget.prototype.loadTranscript = function () {
        try {
            var list = JSON.parse(store.get(this.key) || '[]');
            return Array.isArray(list) ? list.filter(function (e) {
                return e && typeof e === 'object' && typeof e.text === 'string';
            }) : [];
        } catch (e) {
            return [];
        }
    };

    Widget.prototype.saveTranscript = function () {
        if (this.transcript.length > MAX_TRANSCRIPT) {
            this.transcript = this.transcript.slice(-MAX_TRANSCRIPT);
        }
        store.set(this.key, JSON.stringify(this.transcript));
    };

    /* ---- DOM ---- */

    Widget.prototype.build = function () {
        var t = this.t;
        var self = this;
        var container = this.opts.container ? document.querySelector(this.opts.container) : null;
        if (this.opts.container && !container) {
            console.warn('parley widget: no element matches data-container="' + this.opts.container + '"; floating instead');
        }
        this.floating = !container;

        this.root = el('div', {
            class: 'parley-root ' + (this.floating ? 'parley-floating' : 'parley-embedded'),
            lang: this.lang,
            'data-channel': this.opts.channel,
        });

        this.titleEl = el('h2', {class: 'parley-title', id: this.id('title'), text: t.title});
        this.connEl = el('span', {class: 'parley-conn', 'data-state': 'connecting', text: t.connecting});
        this.signedInEl = el('span', {class: 'parley-signed-in', hidden: true, text: t.signedIn});
        var header = el('div', {class: 'parley-header'},
            el('div', {class: 'parley-heading'}, this.titleEl,
                el('p', {class: 'parley-sub'}, this.connEl, this.signedInEl)));
        if (this.opts.channel === 'app') {
            /* the app's menu entry for a person, as the manifest tells app users */
            header.appendChild(el('button', {type: 'button', class: 'parley-btn parley-contact', text: t.humanApp}));
            header.lastChild.addEventListener('click', function () { self.sendText(t.humanText); });
        }
        if (this.floating) {
            this.closeBtn = el('button', {type: 'button', class: 'parley-close', 'aria-label': t.close}, '×');
            this.closeBtn.addEventListener('click', function () { self.setOpen(false, true); });
            header.appendChild(this.closeBtn);
        }

        this.banner = el('div', {class: 'parley-banner', role: 'note', hidden: true});
        this.offersPanel = el('section', {class: 'parley-offers', hidden: true, 'aria-labelledby': this.id('offers')},
            el('h3', {class: 'parley-offers-title', id: this.id('offers'), text: t.yourOffers}));

        this.log = el('ol', {
            class: 'parley-log',
            role: 'log',
            'aria-live': 'polite',
            'aria-relevant': 'additions',
            'aria-labelledby': this.id('title'),
        });

        this.notice = el('p', {class: 'parley-notice', role: 'status', 'aria-live': 'polite'});

        this.input = el('input', {
            id: this.id('input'),
            class: 'parley-input',
            type: 'text',
            autocomplete: 'off',
            enterkeyhint: 'send',
            placeholder: t.placeholder,
        });
        this.form = el('form', {class: 'parley-form'},
            el('label', {class: 'parley-sr', for: this.id('input'), text: t.input}),
            this.input,
            el('button', {type: 'submit', class: 'parley-btn parley-btn-primary parley-send', text: t.send}));
        this.form.addEventListener('submit', function (ev) {
            ev.preventDefault();
            var text = self.input.value.trim();
            if (!text) {
                return;
            }
            if (new TextEncoder().encode(text).length > MAX_TEXT_BYTES) {
                self.showNotice(t.errors.too_long);
                return;
            }
            self.input.value = '';
            self.sendText(text);
        });

        /* banner, offers and messages scroll together, so a small screen keeps room for
         * the conversation */
        this.body = el('div', {class: 'parley-body'}, this.banner, this.offersPanel, this.log);
        this.panel = el('div', {
            class: 'parley-panel',
            id: this.id('panel'),
            role: 'region',
            'aria-labelledby': this.id('title'),
        }, header, this.body, this.notice, this.form);

        if (this.opts.channel !== 'app') {
            var human = el('button', {type: 'button', class: 'parley-human', text: t.humanWeb});
            human.addEventListener('click', function () { self.sendText(t.humanText); });
            this.panel.appendChild(el('div', {class: 'parley-footer'}, human));
        }

        /* earlier messages go in before the list is on the page, so screen readers do not
         * read the whole transcript again */
        this.renderTranscript();

        this.root.appendChild(this.panel);
        if (this.floating) {
            this.launcher = el('button', {
                type: 'button',
                class: 'parley-launcher',
                'aria-controls': this.id('panel'),
                'aria-expanded': 'false',
                title: t.open,
            }, chatIcon(), el('span', {class: 'parley-launcher-text', text: t.title}));
            this.launcher.addEventListener('click', function () { self.setOpen(self.panel.hidden, true); });
            /* the button comes before what it opens, in reading and Tab order */
            this.root.insertBefore(this.launcher, this.panel);
            this.panel.addEventListener('keydown', function (ev) {
                if (ev.key === 'Escape') {
                    self.setOpen(false, true);
                }
            });
            var remembered = null;
            try {
                remembered = window.sessionStorage.getItem('parley.open');
            } catch (e) { /* not remembered */ }
            this.setOpen(remembered !== null ? remembered === '1' : this.opts.open, false);
            document.body.appendChild(this.root);
        } else {
            container.appendChild(this.root);
        }
        this.scrollDown();
    };

    Widget.prototype.setOpen = function (open, byUser) {
        this.panel.hidden = !open;
        this.launcher.setAttribute('aria-expanded', open ? 'true' : 'false');
        this.launcher.title = open ? this.t.close : this.t.open;
        this.root.classList.toggle('parley-is-open', open);
        if (byUser) {
            try {
                window.sessionStorage.setItem('parley.open', open ? '1' : '0');
            } catch (e) { /* not remembered */ }
            if (open) {
                this.input.focus();
                this.scrollDown();
            } else {
                this.launcher.focus();
            }
        }
    };

    Widget.prototype.scrollDown = function () {
        this.body.scrollTop = this.body.scrollHeight;
    };

    /* a short line above the input, read out politely; kind "info" for news that is not a
     * problem (an offer answered on another channel) */
    Widget.prototype.showNotice = function (text, kind) {
        var self = this;
        this.notice.textContent = text;
        this.notice.classList.add('parley-notice-shown');
        this.notice.classList.toggle('parley-notice-info', kind === 'info');
        clearTimeout(this.noticeTimer);
        this.noticeTimer = setTimeout(function () {
            self.notice.textContent = '';
            self.notice.classList.remove('parley-notice-shown');
        }, 10000);
    };

    Widget.prototype.setConn = function (state, delayMs) {
        this.connEl.setAttribute('data-state', state);
        this.connEl.textContent = state === 'offline'
            ? fill(this.t.offline, {s: Math.max(1, Math.round(delayMs / 1000))})
            : this.t[state];
    };

    Widget.prototype.renderTranscript = function () {
        /* quick replies still answer the last question only if the customer has not
         * written since */
        var quick = -1;
        for (var i = 0; i < this.transcript.length; i++) {
            var e = this.transcript[i];
            if (e.who === 'user') {
                quick = -1;
            } else if (Array.isArray(e.quick_replies) && e.quick_replies.length > 0) {
                quick = i;
            }
            if (e.offer && e.offer.id) {
                this.offers[e.offer.id] = e.offer;
            }
        }
        for (i = 0; i < this.transcript.length; i++) {
            this.log.appendChild(this.renderEntry(this.transcript[i], i === quick));
        }
        if (this.transcript.length > 0) {
            this.log.appendChild(el('li', {class: 'parley-divider', text: this.t.resumed}));
        }
    };

    /* One transcript entry as a list item; quick replies only while they still answer the
     * latest question. */
    Widget.prototype.renderEntry = function (entry, withQuickReplies) {
        var t = this.t;
        var self = this;
        var who = entry.who === 'user' ? 'user' : 'bot';
        var li = el('li', {
            class: 'parley-msg parley-msg-' + who + ' parley-type-' + (entry.type || 'text'),
            'data-tone': entry.tone || null,
            lang: who === 'bot' && this.language ? this.language : null,
        });
        li.appendChild(el('span', {class: 'parley-sr', text: who === 'user' ? t.you : t.bot}));
        if (entry.type === 'handoff') {
            li.appendChild(el('p', {class: 'parley-handoff-label', text: t.handoff}));
        }
        if (entry.text) {
            li.appendChild(el('p', {class: 'parley-text', text: entry.text}));
        }
        if (entry.type === 'offer' && entry.offer && entry.offer.id) {
            li.appendChild(this.renderCard(entry.offer));
        }
        if (who === 'user') {
            this.entryEls.set(entry, li);
            this.markDelivery(entry);
        }
        if (withQuickReplies && Array.isArray(entry.quick_replies) && entry.quick_replies.length > 0) {
            var group = el('div', {class: 'parley-quick', role: 'group', 'aria-label': t.quick});
            entry.quick_replies.forEach(function (q) {
                if (typeof q !== 'string') {
                    return;
                }
                var b = el('button', {type: 'button', class: 'parley-btn parley-chip', text: q});
                b.addEventListener('click', function () {
                    self.sendText(q);
                    self.input.focus();
                });
                group.appendChild(b);
            });
            li.appendChild(group);
        }
        return li;
    };

    Widget.prototype.markDelivery = function (entry) {
        var li = this.entryEls.get(entry);
        if (!li) {
            return;
        }
        li.classList.toggle('parley-failed', !!entry.failed);
        var mark = li.querySelector('.parley-failed-mark');
        if (entry.failed && !mark) {
            li.appendChild(el('p', {class: 'parley-failed-mark', text: this.t.notSent}));
        } else if (!entry.failed && mark) {
            mark.remove();
        }
    };

    Widget.prototype.append = function (entry) {
        this.log.appendChild(this.renderEntry(entry, true));
        this.scrollDown();
    };

    /* ---- offer cards ---- */

    Widget.prototype.formatPrice = function (price, currency) {
        try {
            var whole = Number.isInteger(price);
            return new Intl.NumberFormat(this.botLang(), {
                style: 'currency',
                currency: currency,
                minimumFractionDigits: whole ? 0 : 2,
                maximumFractionDigits: whole ? 0 : 2,
            }).format(price);
        } catch (e) {
            return price + ' ' + (currency || '');
        }
    };

    Widget.prototype.formatDate = function (ms) {
        try {
            /* UTC, as the bot writes the date in its own text next to the card */
            return new Intl.DateTimeFormat(this.botLang(), {dateStyle: 'medium', timeZone: 'UTC'}).format(new Date(ms));
        } catch (e) {
            return new Date(ms).toISOString().slice(0, 10);
        }
    };

    Widget.prototype.botLang = function () {
        return this.language || this.lang;
    };

    Widget.prototype.effectiveStatus = function (offer) {
        var status = offer.status || 'open';
        if (status === 'open' && typeof offer.valid_until === 'number' && offer.valid_until < Date.now()) {
            return 'expired';
        }
        return status;
    };

    Widget.prototype.renderCard = function (offer) {
        var t = this.t;
        var self = this;
        var known = this.offers[offer.id] || offer;
        var titleId = this.id('offer-' + (++this.seq));
        var card = el('article', {class: 'parley-offer', 'aria-labelledby': titleId, 'data-offer': offer.id});
        card.appendChild(el('h3', {class: 'parley-offer-title', id: titleId, text: known.title || offer.id}));
        if (typeof known.price === 'number') {
            card.appendChild(el('p', {class: 'parley-offer-price', text: this.formatPrice(known.price, known.currency)}));
        }
        if (typeof known.valid_until === 'number' && known.valid_until > 0) {
            card.appendChild(el('p', {class: 'parley-offer-valid', text: fill(t.validUntil, {date: this.formatDate(known.valid_until)})}));
        }
        if (typeof known.terms === 'string' && known.terms) {
            card.appendChild(el('p', {class: 'parley-offer-terms', text: known.terms}));
        }
        card.appendChild(el('p', {class: 'parley-offer-status', tabindex: '-1'}));
        var accept = el('button', {type: 'button', class: 'parley-btn parley-btn-primary', 'aria-describedby': titleId, text: t.accept});
        var decline = el('button', {type: 'button', class: 'parley-btn', 'aria-describedby': titleId, text: t.decline});
        accept.addEventListener('click', function () { self.answerOffer(offer.id, 'accept_offer', card); });
        decline.addEventListener('click', function () { self.answerOffer(offer.id, 'decline_offer', card); });
        card.appendChild(el('div', {class: 'parley-offer-actions'}, accept, decline));
        (this.cards[offer.id] = this.cards[offer.id] || []).push(card);
        this.updateCard(card, known);
        return card;
    };

    Widget.prototype.updateCard = function (card, offer) {
        var status = this.effectiveStatus(offer);
        var statusEl = card.querySelector('.parley-offer-status');
        var actions = card.querySelector('.parley-offer-actions');
        var hadFocus = card.contains(document.activeElement) && actions.contains(document.activeElement);
        card.setAttribute('data-status', status);
        statusEl.textContent = status === 'open' ? '' : (this.t.status[status] || status);
        statusEl.hidden = status === 'open';
        actions.hidden = status !== 'open';
        card.removeAttribute('aria-busy');
        actions.querySelectorAll('button').forEach(function (b) { b.removeAttribute('aria-disabled'); });
        if (hadFocus && status !== 'open') {
            statusEl.focus({preventScroll: true});
        }
    };

    /* Records what every channel now knows about an offer and shows it on every card. */
    Widget.prototype.setOffer = function (offer) {
        var self = this;
        var old = this.offers[offer.id] || {};
        var merged = {};
        [old, offer].forEach(function (o) {
            for (var k in o) {
                merged[k] = o[k];
            }
        });
        this.offers[offer.id] = merged;
        (this.cards[offer.id] || []).forEach(function (card) { self.updateCard(card, merged); });
        var changed = false;
        this.transcript.forEach(function (e) {
            if (e.offer && e.offer.id === offer.id && e.offer.status !== merged.status) {
                e.offer.status = merged.status;
                changed = true;
            }
        });
        if (changed) {
            this.saveTranscript();
        }
    };

    Widget.prototype.answerOffer = function (offerId, action, card) {
        if (card.getAttribute('aria-busy') === 'true') {
            return;
        }
        card.setAttribute('aria-busy', 'true');
        card.querySelectorAll('.parley-offer-actions button').forEach(function (b) { b.setAttribute('aria-disabled', 'true'); });
        var id = this.nextId('a');
        this.pending[id] = {kind: 'action', action: action, offer: offerId};
        this.send({type: 'action', id: id, action: action, offer: offerId});
    };

    /* Offers of the customer's state that this transcript does not show: made on another
     * channel or before this browser knew the customer. */
    Widget.prototype.renderStateOffers = function () {
        var self = this;
        var inTranscript = {};
        this.transcript.forEach(function (e) {
            if (e.offer && e.offer.id) {
                inTranscript[e.offer.id] = true;
            }
        });
        var panel = this.offersPanel;
        var wanted = this.stateOffers.filter(function (o) { return !inTranscript[o.id]; });
        var shownIds = Array.prototype.map.call(panel.querySelectorAll('.parley-offer'), function (c) {
            return c.getAttribute('data-offer');
        });
        if (wanted.map(function (o) { return o.id; }).join('\n') === shownIds.join('\n')) {
            return; /* the same cards; setOffer keeps their status current */
        }
        Array.prototype.slice.call(panel.querySelectorAll('.parley-offer')).forEach(function (card) {
            var id = card.getAttribute('data-offer');
            self.cards[id] = (self.cards[id] || []).filter(function (c) { return c !== card; });
            card.remove();
        });
        wanted.forEach(function (o) { panel.appendChild(self.renderCard(o)); });
        panel.hidden = wanted.length === 0;
    };

    /* ---- capabilities banner ---- */

    Widget.prototype.showCapabilities = function (msg) {
        var t = this.t;
        var m = msg.manifest && typeof msg.manifest === 'object' ? msg.manifest : {};
        if (typeof m.language === 'string') {
            this.language = m.language;
        }
        if (m.bot && typeof m.bot.name === 'string') {
            this.titleEl.textContent = m.bot.name;
        }
        this.setSignedIn(msg.signed_in);
        var b = this.banner;
        while (b.firstChild) {
            b.removeChild(b.firstChild);
        }
        if (typeof m.disclosure === 'string') {
            b.appendChild(el('p', {class: 'parley-disclosure', text: m.disclosure}));
        }
        var lang = this.botLang();
        var list = function (items) {
            items = items.filter(function (s) { return typeof s === 'string' && s; });
            try {
                return new Intl.ListFormat(lang, {type: 'conjunction'}).format(items);
            } catch (e) {
                return items.join(', ');
            }
        };
        var can = Array.isArray(m.can) ? m.can.map(function (c) { return c && c.description; }) : [];
        if (can.length > 0) {
            b.appendChild(el('p', {class: 'parley-can', text: fill(t.canDo, {list: list(can)})}));
        }
        var more = el('ul', {class: 'parley-more-list'});
        (Array.isArray(m.elsewhere) ? m.elsewhere : []).forEach(function (c) {
            if (c && typeof c.description === 'string') {
                more.appendChild(el('li', null, t.elsewhere + ' ' + c.description +
                    (typeof c.where === 'string' ? ' (' + c.where + ')' : '')));
            }
        });
        (Array.isArray(m.cannot) ? m.cannot : []).forEach(function (c) {
            if (c && typeof c.description === 'string') {
                more.appendChild(el('li', null, t.cannot + ' ' + c.description +
                    (typeof c.alternative === 'string' ? '. ' + c.alternative : '')));
            }
        });
        if (m.human && typeof m.human.contact === 'string') {
            more.appendChild(el('li', null, t.human + ' ' + m.human.contact +
                (typeof m.human.hours === 'string' ? ' (' + m.human.hours + ')' : '')));
        }
        if (more.childNodes.length > 0) {
            b.appendChild(el('details', {class: 'parley-more'}, el('summary', {text: t.more}), more));
        }
        b.hidden = !b.firstChild;
    };

    Widget.prototype.setSignedIn = function (signedIn) {
        if (typeof signedIn === 'boolean') {
            this.signedInEl.hidden = !signedIn;
        }
    };

    /* ---- protocol ---- */

    Widget.prototype.nextId = function (prefix) {
        return prefix + (++this.seq);
    };

    Widget.prototype.removeQuickReplies = function () {
        this.log.querySelectorAll('.parley-quick').forEach(function (q) { q.remove(); });
    };

    Widget.prototype.sendText = function (text) {
        this.removeQuickReplies();
        var id = this.nextId('m');
        var entry = {who: 'user', type: 'text', text: text, at: Date.now()};
        this.transcript.push(entry);
        this.saveTranscript();
        this.append(entry);
        this.pending[id] = {kind: 'message', entry: entry};
        this.send({type: 'message', id: id, text: text});
    };

    Widget.prototype.send = function (frame) {
        if (this.ready && this.ws && this.ws.readyState === WebSocket.OPEN) {
            this.ws.send(JSON.stringify(frame));
        } else {
            this.queue.push(frame);
        }
    };

    Widget.prototype.fetchToken = function () {
        return fetch(this.opts.tokenUrl, {cache: 'no-store', credentials: 'same-origin'})
            .then(function (res) {
                if (res.status >= 400 && res.status < 500) {
                    /* no identity to be had here (a demo page on a server without --demo):
                     * talk anonymously rather than not at all */
                    return {token: null};
                }
                if (!res.ok) {
                    throw new Error('token: HTTP ' + res.status);
                }
                return res.json();
            })
            .then(function (body) {
                if (!body || (typeof body.token !== 'string' && body.token !== null)) {
                    throw new Error('token: no token in the answer');
                }
                return body.token;
            });
    };

    Widget.prototype.connect = function () {
        var self = this;
        clearTimeout(this.timer);
        this.timer = null;
        if (this.connecting) {
            return;
        }
        this.connecting = true;
        this.setConn('connecting');
        var token = this.opts.tokenUrl ? this.fetchToken() : Promise.resolve(null);
        token.then(function (tok) {
            self.open(tok);
        }, function () {
            self.connecting = false;
            self.scheduleReconnect();
        });
    };

    Widget.prototype.open = function (token) {
        var self = this;
        var ws;
        try {
            ws = new WebSocket(this.opts.server, PROTOCOL);
        } catch (e) {
            this.connecting = false;
            this.scheduleReconnect();
            return;
        }
        this.ws = ws;
        ws.onopen = function () {
            var hello = {type: 'hello', v: 1, channel: self.opts.channel, client_id: self.clientId};
            if (self.opts.locale) {
                hello.locale = self.opts.locale;
            }
            if (token) {
                hello.token = token;
            }
            ws.send(JSON.stringify(hello));
        };
        ws.onmessage = function (ev) {
            if (ws !== self.ws) {
                return;
            }
            var msg;
            try {
                msg = JSON.parse(ev.data);
            } catch (e) {
                return;
            }
            if (msg && typeof msg === 'object') {
                self.receive(msg);
            }
        };
        ws.onclose = function () {
            if (ws !== self.ws) {
                return;
            }
            self.ws = null;
            self.ready = false;
            self.connecting = false;
            /* answers to what was sent on this connection will not come; the state after
             * the next hello shows what became of it */
            var queued = {};
            self.queue.forEach(function (f) { queued[f.id] = true; });
            Object.keys(self.pending).forEach(function (id) {
                if (!queued[id]) {
                    delete self.pending[id];
                }
            });
            self.scheduleReconnect();
        };
    };

    /* 0.5 s doubling to 15 s; each wait is drawn from the upper half of the step so that
     * many widgets do not come back at the same moment after a restart */
    Widget.prototype.scheduleReconnect = function () {
        var self = this;
        var step = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, this.attempt));
        var delay = step / 2 + Math.random() * (step / 2);
        this.attempt++;
        this.setConn('offline', delay);
        clearTimeout(this.timer);
        this.timer = setTimeout(function () { self.connect(); }, delay);
    };

    Widget.prototype.receive = function (msg) {
        switch (msg.type) {
        case 'capabilities':
            this.showCapabilities(msg);
            this.connected();
            break;
        case 'state':
            this.applyState(msg);
            this.connected();
            break;
        case 'reply':
            this.applyReply(msg);
            break;
        case 'error':
            this.applyError(msg);
            break;
        default:
            break; /* pong, and types of later versions */
        }
    };

    Widget.prototype.connected = function () {
        if (this.ready) {
            return;
        }
        this.ready = true;
        this.connecting = false;
        this.attempt = 0;
        this.setConn('online');
        var queue = this.queue;
        this.queue = [];
        for (var i = 0; i < queue.length; i++) {
            this.send(queue[i]);
        }
    };

    Widget.prototype.applyState = function (msg) {
        var self = this;
        this.setSignedIn(msg.signed_in);
        if (!Array.isArray(msg.offers)) {
            return;
        }
        this.stateOffers = msg.offers.filter(function (o) { return o && typeof o.id === 'string'; });
        var news = [];
        this.stateOffers.forEach(function (o) {
            var before = self.offers[o.id];
            var answering = Object.keys(self.pending).some(function (k) { return self.pending[k].offer === o.id; });
            if (before && before.status && o.status && before.status !== o.status && !answering) {
                news.push((o.title || before.title || o.id) + ': ' + (self.t.status[o.status] || o.status));
            }
            self.setOffer(o);
        });
        if (news.length > 0) {
            this.showNotice(news.join(' · '), 'info');
        }
        this.renderStateOffers();
    };

    Widget.prototype.applyReply = function (msg) {
        var self = this;
        var sent = msg.in_reply_to && this.pending[msg.in_reply_to];
        if (sent) {
            delete this.pending[msg.in_reply_to];
        }
        if (Array.isArray(msg.messages) && msg.messages.length > 0) {
            this.removeQuickReplies(); /* only the newest reply's suggestions still fit */
        }
        (Array.isArray(msg.messages) ? msg.messages : []).forEach(function (m) {
            if (!m || typeof m !== 'object') {
                return;
            }
            var entry = {
                who: 'bot',
                type: m.type,
                text: typeof m.text === 'string' ? m.text : '',
                tone: typeof m.tone === 'string' ? m.tone : undefined,
                at: Date.now(),
            };
            if (Array.isArray(m.quick_replies)) {
                entry.quick_replies = m.quick_replies.filter(function (q) { return typeof q === 'string'; });
            }
            if (m.type === 'offer' && m.offer && typeof m.offer.id === 'string') {
                var known = self.offers[m.offer.id];
                entry.offer = {
                    id: m.offer.id,
                    title: m.offer.title,
                    price: m.offer.price,
                    currency: m.offer.currency,
                    valid_until: m.offer.valid_until,
                    status: known && known.status ? known.status : 'open',
                };
                self.setOffer(entry.offer);
            }
            self.transcript.push(entry);
            self.append(entry);
        });
        this.saveTranscript();
        if (sent && sent.kind === 'action') {
            /* The reply is the answer to a button on a card; a `state` push corrects this if
             * the server saw it differently. */
            var offer = this.offers[sent.offer];
            if (offer && this.effectiveStatus(offer) === 'open') {
                this.setOffer({id: sent.offer, status: sent.action === 'accept_offer' ? 'accepted' : 'declined'});
            }
        }
        this.renderStateOffers();
    };

    Widget.prototype.applyError = function (msg) {
        var t = this.t;
        var sent = msg.in_reply_to && this.pending[msg.in_reply_to];
        if (sent) {
            delete this.pending[msg.in_reply_to];
            if (sent.kind === 'message') {
                sent.entry.failed = true;
                this.markDelivery(sent.entry);
                this.saveTranscript();
            } else if (sent.kind === 'action') {
                var self = this;
                (this.cards[sent.offer] || []).forEach(function (card) {
                    self.updateCard(card, self.offers[sent.offer] || {});
                });
            }
        }
        var text = t.errors[msg.code] ||
            fill(t.errors.other, {message: typeof msg.message === 'string' ? msg.message : String(msg.code)});
        this.showNotice(text);
    };

    /* ---- start ---- */

    function defaultServer() {
        var u = new URL('/v1/ws', window.location.href);
        u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
        return u.href;
    }

    function options() {
        var d = script.dataset;
        var locale = primaryLanguage(d.locale);
        var server = d.server ? new URL(d.server, window.location.href) : null;
        if (server && (server.protocol === 'http:' || server.protocol === 'https:')) {
            server.protocol = server.protocol === 'https:' ? 'wss:' : 'ws:';
        }
        return {
            server: server ? server.href : defaultServer(),
            locale: locale || null,
            channel: d.channel === 'app' ? 'app' : 'web',
            tokenUrl: d.tokenUrl || null,
            container: d.container || null,
            open: d.open === 'true',
        };
    }

    var opts = options();
    /* the widget's own words follow the page when the bot's language is not given */
    var pageLang = primaryLanguage(document.documentElement.lang || navigator.language);
    opts.uiLocale = STRINGS[pageLang] ? pageLang : 'en';
    loadStylesheet(new URL('widget.css', script.src).href);

    function start() {
        new Widget(opts);
    }
    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
})();
