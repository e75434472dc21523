/* The wall's refresh loop, banner and self-reload (dashboard/callbacks/wall.py).

   1. Every refresh request of a wall screen ends within the page's data-timeout-ms (just
      under one refresh period): the browser aborts a request the server has not answered
      by then, and a 200 answer that is not JSON (a proxy's or portal's page) counts as an
      error (502). dash-renderer then treats it as a failed callback, and the refresh timer,
      which never stops, asks again on its next tick: a dropped connection, a 5xx, a hung
      server or minutes of downtime each cost the screen its refreshes while they last,
      never the loop itself. The answer's body is read within the same bound.
   2. The banner is decided here, every second, from the last status the server sent
      (wall-status: ok / stale since / no data) and how long the server has been silent:
      no answer for two refresh periods means the numbers on screen may be old, whatever
      the server last said. The words come in the screen's language with the page
      (config store "words"); no driver message, host or port ever reaches the screen.
   3. The self-reload (after `reload` hours) first asks the server for the page and reloads
      only when it answered: a reload never lands on the browser's error page. */
(function () {
    'use strict';

    var WALL_ROOT = 'wall-root';
    var REFRESH = 'wall-refresh';
    var nativeFetch = window.fetch.bind(window);

    /* The bound (ms) of a wall refresh request, or 0 for any other request. */
    function refreshBound(input, init) {
        var url = typeof input === 'string' ? input : (input && input.url) || '';
        if (url.indexOf('_dash-update-component') < 0 || !init || typeof init.body !== 'string') {
            return 0;
        }
        var root = document.getElementById(WALL_ROOT);
        if (!root) { return 0; }
        var payload;
        try { payload = JSON.parse(init.body); } catch (e) { return 0; }
        var inputs = (payload && payload.inputs) || [];
        var isRefresh = inputs.some(function (i) { return i && i.id === REFRESH; });
        return isRefresh ? (Number(root.getAttribute('data-timeout-ms')) || 10000) : 0;
    }

    function boundedFetch(input, init, bound) {
        var controller = new AbortController();
        var timer = setTimeout(function () { controller.abort(); }, bound);
        var done = function () { clearTimeout(timer); };
        return nativeFetch(input, Object.assign({}, init, {signal: controller.signal}))
            .then(function (res) {
                return res.text().then(function (body) {
                    done();
                    var type = res.headers.get('content-type') || '';
                    if (res.status === 200 && type.indexOf('json') < 0) {
                        return new Response('', {status: 502, statusText: 'not an answer'});
                    }
                    return new Response(res.status === 204 ? null : body,
                                        {status: res.status, statusText: res.statusText,
                                         headers: res.headers});
                });
            })
            .catch(function (err) { done(); throw err; });
    }

    window.fetch = function (input, init) {
        var bound = refreshBound(input, init);
        return bound ? boundedFetch(input, init, bound) : nativeFetch(input, init);
    };

    /* -- the banner --------------------------------------------------------------- */
    var seen = {pageAt: Date.now(), answeredAt: null, status: null, data: null};

    function fill(template, values) {
        return String(template || '').replace(/\{(\w+)\}/g, function (m, k) {
            return values[k] === undefined ? m : values[k];
        });
    }

    function age(seconds, words) {
        var s = Math.max(0, Math.round(seconds));
        if (s < 120) { return fill(words.s, {n: s}); }
        if (s < 2 * 3600) { return fill(words.min, {n: Math.floor(s / 60)}); }
        return fill(words.h, {n: Math.floor(s / 3600)});
    }

    function clockTime(ms, cfg) {
        try {
            return new Intl.DateTimeFormat('en-GB', {timeZone: (cfg && cfg.tz) || undefined,
                hour: '2-digit', minute: '2-digit', hour12: false}).format(new Date(ms));
        } catch (e) {
            return new Date(ms).toTimeString().slice(0, 5);
        }
    }

    function banner(tick, status, cfg) {
        var now = Date.now();
        var trig = ((window.dash_clientside.callback_context || {}).triggered || []);
        var answered = trig.some(function (t) { return t.prop_id === 'wall-status.data'; });
        if (answered && status) {
            seen.answeredAt = now;
            seen.status = status;
            if (status.age_s !== undefined && status.age_s !== null) {
                seen.data = {at: status.at, age_s: status.age_s, receivedAt: now};
            }
        }
        cfg = cfg || {};
        var words = cfg.words || {};
        var periodMs = (cfg.refresh_s || 15) * 1000;
        var lastAnswer = seen.answeredAt || seen.pageAt;
        // Two periods without any answer (a tick of grace for the clock's own timer).
        var silent = now - lastAnswer > 2 * periodMs + 1000;
        var state = seen.status ? seen.status.state : null;
        var hide = ['', true, 'ob-wall-views'];

        if (!seen.data) {
            var why = null;
            if (silent) { why = fill(words.server, {since: clockTime(lastAnswer, cfg)}); }
            else if (state === 'nodata') { why = fill(words.store, {since: seen.status.since}); }
            if (!why) { return hide; }
            return [words.nodata + ' · ' + why, false, 'ob-wall-views ob-wall-views--waiting'];
        }
        var dataAge = seen.data.age_s + (now - seen.data.receivedAt) / 1000;
        var data = {at: seen.data.at, age: age(dataAge, words)};
        var text = null;
        if (silent) {
            text = fill(words.server, {since: clockTime(lastAnswer, cfg)}) + ' · ' + fill(words.data, data);
        } else if (state === 'stale' || state === 'nodata') {
            text = fill(words.store, {since: seen.status.since}) + ' · ' + fill(words.data, data);
        } else if (dataAge > (cfg.stale_after_s || 3 * 15 + 15)) {
            text = fill(words.old, data);
        }
        if (!text) { return hide; }
        return [text, false, 'ob-wall-views ob-wall-views--stale'];
    }

    /* -- the self-reload ---------------------------------------------------------- */
    var PROBE_TIMEOUT_MS = 10000;
    var PROBE_RETRY_MS = 10000;
    var reloading = false;

    function reloadWhenServed() {
        var controller = new AbortController();
        var timer = setTimeout(function () { controller.abort(); }, PROBE_TIMEOUT_MS);
        var retry = function () { clearTimeout(timer); setTimeout(reloadWhenServed, PROBE_RETRY_MS); };
        nativeFetch(window.location.href, {cache: 'no-store', signal: controller.signal})
            .then(function (res) {
                var type = res.headers.get('content-type') || '';
                if (res.ok && type.indexOf('html') >= 0) {
                    clearTimeout(timer);
                    window.location.reload();
                } else {
                    retry();
                }
            }, retry);
    }

    function reload(n) {
        if (n && !reloading) {
            reloading = true;
            reloadWhenServed();
        }
        return window.dash_clientside.no_update;
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.orderboard_wall = {banner: banner, reload: reload};
}());
