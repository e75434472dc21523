"""The WSGI entry point for several web workers: ``gunicorn -w 4 'dashboard.wsgi:server'``.

``server`` is built on the first request, from the environment (ORDERBOARD_DATABASE_URL,
ORDERBOARD_CACHE_URL, ORDERBOARD_CONFIG, ...), so importing this module touches nothing.
Scheduled jobs do not run in web workers: run one ``orderboard worker`` beside them.
"""

from __future__ import annotations

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
                    factory = self._factory
                    if factory is None:
                        from dashboard.app import create_app

                        factory = lambda: create_app().server  # noqa: E731
                    self._server = factory()
        return self._server

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self.load()(environ, start_response)


server = LazyServer()
