"""The WSGI entry point for several web workers: ``gunicorn -w 4 'dashboard.wsgi:server'``.

``server`` is built on the first request, from the environment (ORDERBOARD_DATABASE_URL,
ORDERBOARD_CACHE_URL, ORDERBOARD_CONFIG, ...), so importing this module touches nothing.
The store is opened as ``orderboard serve`` opens it (``open_store`` without creating): a
store that does not exist is refused (``NoStore``, the request fails, nothing is created),
an existing one gets its missing tables and indexes and the configured stages.
Scheduled jobs do not run in web workers: run one ``orderboard worker`` beside them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any


class LazyServer:
    """A WSGI callable that builds the Flask server of ``create_app()`` when first called."""

    def __init__(self, factory: Callable[[], Any] | None = None) -> None:
        self._factory = factory
        self._server: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        if self._server is None:
            with self._lock:
                if self._server is None:
                    self._server = (self._factory or served_from_environment)()
        return self._server

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self.load()(environ, start_response)


def served_from_environment() -> Any:
    """The Flask server of ``create_app`` over the store of the environment's settings."""
    from dashboard.app import create_app
    from datasource.settings import load_settings
    from datasource.store import make_engine, open_store

    settings = load_settings()
    if not settings.secret_key:
        logging.getLogger(__name__).warning(
            "no ORDERBOARD_SECRET_KEY: no logins, requests from other computers get 403")
    # Brought up to the schema without a bound (an index build may take a while), then
    # served by an engine whose every wait is bounded by wait_s (README, "Timeouts").
    open_store(settings.database_url, settings.pipeline, create=False).dispose()
    web_engine = make_engine(settings.database_url, wait_s=settings.wait_s)
    return create_app(settings, engine=web_engine).server


server = LazyServer()
