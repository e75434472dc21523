"""Signing in, and the gate every request passes (DESIGN.md section 5a).

Logins are on when the ``secret_key`` setting is set. Then:

- ``/login`` (a plain form, Argon2id passwords, lockout with backoff per account and per
  address: ``datasource.accounts``) signs a user in with Flask-Login; the session cookie
  is HttpOnly, SameSite=Lax, Secure when the public address is https, and ends after
  ``idle_minutes`` without a request, when the password changes or the user is disabled.
- A wall TV opens ``/wall?...&token=SECRET`` once: the display token signs that browser
  in, read-only, for walls only, with the token's wall setting and scope; a revoked token
  shows a "token revoked" page (and an open wall reloads onto it).
- Anything else needs a signed-in user: pages redirect to ``/login``; callbacks and the
  other Dash endpoints answer 401 (the browser then reloads, which lands on the login or
  the revoked page). Static files and ``/login`` are open.

Without a secret key the server runs without logins for this computer only: a request
from any other address is refused with one line saying what to set.

Either way every state-changing request needs a CSRF token (Flask-WTF's CSRFProtect:
forms carry it, Dash's renderer sends the ``_csrf_token`` cookie back as ``X-CSRFToken``),
and every answer carries security headers (a content security policy Dash works under,
no framing, no sniffing, no referrer beyond this site). The gate sets the request's
``dashboard.access.Principal``; what each principal may see and do is decided there.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from html import escape
from urllib.parse import urlencode

from dash import Dash
from flask import Flask, Response, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from sqlalchemy.exc import SQLAlchemyError

from dashboard import access
from dashboard.access import ANONYMOUS, LOCAL, Principal
from dashboard.webfont import FONT_URL
from dashboard.words import LANG_NAMES, resolve_lang, word
from datasource import accounts
from datasource.audit import record_audit
from datasource.settings import Settings
from datasource.store import kept_secret

CSRF_COOKIE = "_csrf_token"  # the cookie dash-renderer sends back as X-CSRFToken
OPEN_PATHS = ("/login", "/logout", "/_favicon.ico", FONT_URL)
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/")
DASH_ENDPOINTS = ("/_dash-layout", "/_dash-dependencies", "/_dash-update-component", "/_reload-hash")
WALL_PATHS = ("/wall",)


class LoggedInUser(UserMixin):
    """Flask-Login's view of an account. The id carries the session epoch, so a new
    password or disabling the user ends every session signed in before."""

    def __init__(self, account: accounts.Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return f"{self.account.id}:{self.account.session_epoch}"


def login_required(settings: Settings) -> bool:
    return bool(settings.secret_key)


def install(app: Dash, settings: Settings, engine, wall_callbacks: Callable[[], set[str]]) -> None:
    """Put the gate, the login pages, CSRF protection and security headers on ``app``'s
    server. ``wall_callbacks`` gives the outputs of the callbacks a display token may call."""
    server = app.server
    logins = login_required(settings)
    server.secret_key = settings.secret_key
    server.session_interface = StoreKeyedSessions(engine)
    secure = settings.public_url.lower().startswith("https://")
    server.config.update(
        SESSION_COOKIE_NAME="orderboard_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.idle_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as its session (idle timeout)
        WTF_CSRF_SSL_STRICT=secure,
    )
    if settings.allowed_hosts:
        server.config["TRUSTED_HOSTS"] = [h.strip() for h in settings.allowed_hosts.split(",") if h.strip()]
    manager = LoginManager()
    manager.session_protection = "basic"
    manager.init_app(server)

    @manager.user_loader
    def _load(user_id: str) -> LoggedInUser | None:
        uid, _, epoch = user_id.partition(":")
        try:
            account = accounts.user_by_id(engine, int(uid))
        except ValueError:
            return None
        if account is None or account.disabled or str(account.session_epoch) != epoch:
            return None
        return LoggedInUser(account)

    gate = Gate(settings, engine, logins, wall_callbacks)
    server.before_request(gate.before)
    server.teardown_request(gate.after)
    csrf = CSRFProtect()
    csrf.init_app(server)  # after the gate: an anonymous callback is a 401, not a CSRF error
    headers = SecurityHeaders(app, secure)
    server.after_request(headers.add)

    @server.errorhandler(CSRFError)
    def _csrf_refused(exc: CSRFError):
        return Response(f"refused: {exc.description}", status=400, mimetype="text/plain")

    server.add_url_rule("/login", "login", gate.login_page, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", gate.logout_page, methods=["GET", "POST"])


class StoreKeyedSessions(SecureCookieSessionInterface):
    """Signed cookie sessions. Without the ``secret_key`` setting (no logins: sessions
    only carry the CSRF token) the key is one kept in the store, read at the first request
    that needs it, so every web worker of the store agrees; building the app reads nothing,
    and while the store cannot be read there is no session (a POST is then refused)."""

    def __init__(self, engine) -> None:
        self.engine = engine

    def get_signing_serializer(self, app: Flask):
        if not app.secret_key:
            try:
                app.secret_key = kept_secret(self.engine, "session_key")
            except Exception:  # noqa: BLE001 - the store is down: no session this time
                return None
        return super().get_signing_serializer(app)


class Gate:
    """Decides the principal of each request, or answers it (login redirect, 401, 403)."""

    def __init__(self, settings: Settings, engine, logins: bool, wall_callbacks: Callable[[], set[str]]) -> None:
        self.settings = settings
        self.engine = engine
        self.logins = logins
        self.wall_callbacks = wall_callbacks

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def lang(self) -> str:
        return resolve_lang(request.args.get("lang"), self.settings.lang)

    # -- before and after every request -----------------------------------------
    def before(self):
        path = request.path
        if not self.logins:
            if not is_loopback(request.remote_addr):
                return Response(word("access", "remote_refused", "en"), status=403, mimetype="text/plain")
            request.environ["orderboard.access"] = access.set_current(LOCAL)
            return None
        request.environ["orderboard.access"] = access.set_current(ANONYMOUS)
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return None
        try:
            if request.args.get("token") is not None and is_wall_path(path) and request.method == "GET":
                return self._token_sign_in(request.args["token"])
            principal = self._session_principal()
        except SQLAlchemyError:
            # Who is asking cannot be checked while the store cannot be read: refused,
            # without a traceback; a wall counts it as a failed refresh and says so.
            return Response("store unreachable: sign-in cannot be checked", status=503, mimetype="text/plain")
        if principal is None:
            if is_dash_endpoint(path) or request.method != "GET":
                return Response("sign in first", status=401, mimetype="text/plain")
            return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
        access.set_current(principal)
        if principal.kind == "token":
            return self._token_limits(principal, path)
        return None

    def after(self, _exc: BaseException | None) -> None:
        token = request.environ.pop("orderboard.access", None)
        if token is not None:
            access.reset(token)

    # -- who is asking -----------------------------------------------------------
    def _session_principal(self) -> Principal | None:
        if "token" in session:
            return self._token_principal(session["token"])
        if not current_user.is_authenticated:
            return None
        seen = session.get("seen")
        now = self.now().timestamp()
        if seen is not None and now - float(seen) > self.settings.idle_minutes * 60:
            name = current_user.account.name
            logout_user()
            session.clear()
            record_audit(self.engine, name, "logout", "/login", "idle timeout")
            return None
        session["seen"] = now
        session.permanent = True
        account = current_user.account
        return Principal(account.name, account.role, account.scope, "user", user_id=account.id)

    def _token_principal(self, token_id: object) -> Principal | None:
        try:
            token = accounts.token_by_id(self.engine, int(token_id))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            token = None
        if token is None:
            session.clear()
            return None
        return Principal(f"token:{token.id}", "viewer", token.scope, "token", token_id=token.id,
                         wall_query=token.wall_query, revoked=token.revoked_at is not None)

    def _token_sign_in(self, secret: str):
        token = accounts.token_by_secret(self.engine, secret)
        lang = self.lang()
        if token is None:
            record_audit(self.engine, "anonymous", "token_use", request.path, "unknown token")
            return message_page(word("access", "token_unknown", lang), word("access", "token_ask", lang), lang, 403)
        if token.revoked_at is not None:
            record_audit(self.engine, f"token:{token.id}", "token_use", request.path, "revoked")
            return message_page(word("access", "token_revoked", lang), word("access", "token_ask", lang), lang, 403)
        if session.get("token") != token.id:
            logout_user()
            session.clear()
            session["token"] = token.id
            record_audit(self.engine, f"token:{token.id}", "token_use", request.path, token.label or None)
        session.permanent = True
        accounts.touch_token(self.engine, token.id, self.now())
        access.set_current(Principal(f"token:{token.id}", "viewer", token.scope, "token",
                                     token_id=token.id, wall_query=token.wall_query))
        return None

    def _token_limits(self, principal: Principal, path: str):
        """A display token opens walls (and their callbacks) and nothing else."""
        lang = self.lang()
        if principal.revoked:
            if is_dash_endpoint(path) or request.method != "GET":
                return Response("token revoked", status=401, mimetype="text/plain")
            return message_page(word("access", "token_revoked", lang), word("access", "token_ask", lang), lang, 403)
        if path == "/_dash-update-component":
            body = request.get_json(silent=True) or {}
            if body.get("output") not in self.wall_callbacks():
                return Response("a display token opens walls only", status=403, mimetype="text/plain")
            return None
        if is_dash_endpoint(path) or is_wall_path(path):
            return None
        return message_page(word("access", "token_walls_only", lang), "", lang, 403)

    # -- the login and logout pages ----------------------------------------------
    def login_page(self):
        lang = self.lang()
        target = safe_next(request.values.get("next"))
        if not self.logins:
            return redirect(target)
        error = ""
        if request.method == "POST":
            name = (request.form.get("name") or "").strip()[:64]
            result = accounts.login(self.engine, name, request.form.get("password") or "",
                                    request.remote_addr or "?", self.now())
            if result.account is not None:
                logout_user()
                session.clear()
                login_user(LoggedInUser(result.account))
                session["seen"] = self.now().timestamp()
                session.permanent = True
                record_audit(self.engine, name, "login", "/login", request.remote_addr)
                return redirect(target)
            if result.locked_now:
                record_audit(self.engine, name or "?", "lockout", "/login",
                             f"{request.remote_addr}, until {result.locked_until:%Y-%m-%d %H:%M:%S} UTC")
            record_audit(self.engine, name or "?", "login_failed", "/login",
                         f"{request.remote_addr}{', locked' if result.locked_until else ''}")
            if result.locked_until is not None:
                error = word("access", "locked", lang, until=f"{result.locked_until:%H:%M:%S} UTC")
            else:
                error = word("access", "failed", lang)
        elif accounts.count_users(self.engine) == 0:
            error = word("access", "no_users", lang)
        return login_form(lang, target, error), (401 if error and request.method == "POST" else 200)

    def logout_page(self):
        lang = self.lang()
        if request.method == "POST":
            if current_user.is_authenticated:
                record_audit(self.engine, current_user.account.name, "logout", "/logout")
            logout_user()
            session.clear()
            return redirect("/login")
        return page(word("access", "sign_out", lang), (
            f'<form method="post" action="/logout"><input type="hidden" name="csrf_token" '
            f'value="{escape(generate_csrf())}"><button type="submit">{escape(word("access", "sign_out", lang))}'
            "</button></form>"), lang)


class SecurityHeaders:
    """The headers every answer carries. The content security policy allows scripts from
    this server, Dash's own inline scripts by their hashes (``Dash.csp_hashes``, read once
    every callback is registered) and ``eval`` (Plotly compiles some chart code); styles
    inline (Dash sets styles on elements); nothing from elsewhere, no framing."""

    def __init__(self, app: Dash, secure: bool) -> None:
        self.app = app
        self.secure = secure
        self._policy: str | None = None

    def policy(self) -> str:
        if self._policy is None:
            hashes = " ".join(self.app.csp_hashes())  # each already quoted: 'sha256-...'
            self._policy = "; ".join((
                "default-src 'self'",
                f"script-src 'self' 'unsafe-eval' {hashes}".strip(),
                "style-src 'self' 'unsafe-inline'",
                "img-src 'self' data: blob:",
                "font-src 'self' data:",
                "connect-src 'self'",
                "worker-src 'self' blob:",
                "object-src 'none'",
                "base-uri 'self'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ))
        return self._policy

    def add(self, response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", self.policy())
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if self.secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype == "text/html":
            # dash-renderer sends this cookie back as X-CSRFToken on every callback
            response.set_cookie(CSRF_COOKIE, generate_csrf(), samesite="Lax", secure=self.secure,
                                httponly=False)
        return response


# -- small helpers ----------------------------------------------------------------

def is_loopback(address: str | None) -> bool:
    """Whether an address (or the name ``localhost``) is this computer."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address((address or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def is_wall_path(path: str) -> bool:
    return path in WALL_PATHS or path.startswith("/wall/")


def is_dash_endpoint(path: str) -> bool:
    return path in DASH_ENDPOINTS


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def page(title: str, body: str, lang: str, status: int = 200):
    html = (f"<!doctype html><html lang='{escape(lang)}'><head><meta charset='utf-8'>"
            f"<title>OrderBoard · {escape(title)}</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<link rel='stylesheet' href='/assets/base.css'></head>"
            f"<body class='ob-plain'><main class='ob-plain-main'><h1>{escape(title)}</h1>{body}</main></body></html>")
    return Response(html, status=status, mimetype="text/html")


def message_page(title: str, text: str, lang: str, status: int):
    return page(title, f"<p>{escape(text)}</p>" if text else "", lang, status)


def login_form(lang: str, target: str, error: str) -> Response:
    w = lambda key: escape(word("access", key, lang))  # noqa: E731
    body = (
        (f"<p class='ob-plain-error' role='alert'>{escape(error)}</p>" if error else "")
        + "<form method='post' action='/login' class='ob-login'>"
        f"<input type='hidden' name='csrf_token' value='{escape(generate_csrf())}'>"
        f"<input type='hidden' name='next' value='{escape(target)}'>"
        f"<label>{w('name')}<input name='name' autocomplete='username' required autofocus></label>"
        f"<label>{w('password')}<input name='password' type='password' autocomplete='current-password' "
        "required></label>"
        f"<button type='submit'>{w('submit')}</button></form>"
        + "<p class='ob-plain-lang'>" + " · ".join(
            f"<a href='/login?{escape(urlencode({'lang': code, 'next': target}))}'>{escape(name)}</a>"
            for code, name in LANG_NAMES.items() if code != lang) + "</p>"
    )
    return page(word("access", "title", lang), body, lang)


def callback_outputs(app: Dash, before: set[str]) -> set[str]:
    """The outputs of the callbacks registered on ``app`` since ``before`` was taken."""
    return set(app.callback_map) - before

