"""Pieces every page has: the not-found page, the scope line, the language switch and the
way back to the overview."""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, dcc, html
from dash import ctx as callback_ctx

from dashboard.url_state import ViewState, href, with_lang
from dashboard.words import LANG_NAMES, LANGS, word

SHELL_URL = "url"  # the shell's dcc.Location (dashboard.app)
LANG_LINK = "lang-link"  # pattern-matching type: {"type": LANG_LINK, "lang": "zh" | "en"}


def not_found(path: str, message: str, lang: str, back: str = "/") -> html.Div:
    """The 404 page: what was asked for was not found, and the way back (``back`` keeps
    the language of the URL)."""
    return html.Div(className="ob-page ob-notfound", lang=html_lang(lang), **{"data-path": path}, children=[
        html.H1("404"),
        html.P(message),
        dcc.Link(word("common", "back_home", lang), href=back),
    ])


def scope_text(state: ViewState, lang: str) -> str:
    """The window and filters in words, e.g. "last 7 days · line=A"."""
    if state.start is not None and state.end is not None:
        parts = [f"{state.start:%Y-%m-%d} – {state.end:%Y-%m-%d}"]
    else:
        parts = [word("common", "last_days", lang, n=state.days)]
    parts += [f"{k}={v}" for k, v in state.filter_key().items()]
    return " · ".join(parts)


def html_lang(lang: str) -> str:
    """The HTML ``lang`` attribute of a page in ``lang`` (fonts and screen readers follow it)."""
    return "en" if lang == "en" else "zh-CN"


def lang_switch(path: str, search: str, lang: str) -> html.Nav:
    """中文 | English: links to this page in each language, the current one marked. Plain
    links (a full load): every text of the page is rebuilt in the other language. The
    hrefs follow the URL as the page changes its query (``register_lang_switch``)."""
    links: list = []
    for code in LANGS:
        if links:
            links.append(html.Span("|", className="ob-lang-sep"))
        current = code == lang
        links.append(html.A(LANG_NAMES[code], id={"type": LANG_LINK, "lang": code}, lang=html_lang(code),
                            href=with_lang(path, search, code), hrefLang=code,
                            className="ob-lang-link" + (" ob-lang-link--current" if current else ""),
                            **({"aria-current": "true"} if current else {})))
    return html.Nav(links, className="ob-lang-switch", **{"aria-label": word("common", "lang_switch", lang)})


def back_link(state: ViewState, lang: str, **props) -> dcc.Link:
    """"← Overview" with the page's window, filters and language."""
    return dcc.Link(word("common", "back_overview", lang), href=href("/", state.scope()),
                    className="ob-back", **props)


def register_lang_switch(app: Dash) -> None:
    """Keep every language switch's links on the current URL (pages change their query
    without being rebuilt: filters, sort, page)."""

    @app.callback(Output({"type": LANG_LINK, "lang": ALL}, "href"),
                  Input(SHELL_URL, "search"), State(SHELL_URL, "pathname"))
    def _switch_hrefs(search, pathname):
        return [with_lang(pathname, search, o["id"]["lang"]) for o in callback_ctx.outputs_list]
