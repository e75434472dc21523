"""The harness itself: a page renders, and a console error is caught."""

from dash import Dash, html


def tiny_app() -> Dash:
    app = Dash(__name__)
    app.layout = html.Div([html.H1("hello", id="greeting")])
    return app


def test_a_served_dash_page_renders_in_chromium(live_server, open_page):
    page = open_page(live_server(tiny_app()), wait_for="#greeting")
    assert page.inner_text("#greeting") == "hello"


def test_console_errors_are_reported(browser):
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.set_content("<script>console.error('boom')</script>")
    context.close()
    assert errors == ["boom"]
