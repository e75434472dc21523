/* A screen whose session ended (signed out, idle timeout, user disabled, display token
   revoked: dashboard/auth.py answers its callbacks 401) reloads, which lands on the login
   page or on the "token revoked" page instead of a screen that silently stops updating.
   At most one such reload a minute, so a server that answers 401 to everything cannot
   make a screen reload in a loop. */
(function () {
    'use strict';

    var KEY = 'orderboard-signed-out-reload';
    var nativeFetch = window.fetch.bind(window);
    var reloading = false;
    var never = function () { return new Promise(function () {}); };

    window.fetch = function (input, init) {
        return nativeFetch(input, init).then(function (res) {
            var url = typeof input === 'string' ? input : (input && input.url) || '';
            if (res.status === 401 && url.indexOf('_dash-update-component') >= 0) {
                // the page is going away: the screen handles none of its answers any more
                if (reloading) { return never(); }
                var last = Number(window.sessionStorage.getItem(KEY) || 0);
                if (Date.now() - last > 60000) {
                    window.sessionStorage.setItem(KEY, String(Date.now()));
                    reloading = true;
                    window.location.reload();
                    return never();
                }
            }
            return res;
        });
    };
}());
