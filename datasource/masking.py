"""URLs as they may be shown: with their secrets masked.

A store URL (``postgresql+psycopg://user:secret@host/db``), a cache URL
(``redis://:secret@host:6379/0``) or a mail URL (``smtp://user:secret@host``) carries
a password. Whatever the product prints or logs shows ``masked_url(url)`` instead:
the password in the authority part becomes ``***`` (as SQLAlchemy's
``URL.render_as_string(hide_password=True)`` does, but for every scheme, not only the
ones SQLAlchemy parses), and so does the value of a ``password`` query parameter (libpq
and redis-py accept one there too).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
# Query parameters that carry a password (libpq's ``password``, redis-py's ``password``).
SECRET_PARAMETERS = frozenset({"password", "passwd", "pwd"})
# user:password@ in whatever follows "//", for text no parser accepts.
_AUTHORITY_PASSWORD = re.compile(r"(//[^/?#@:]*:)[^/?#@]*@")


def masked_url(url: str | None) -> str:
    """``url`` with its password (authority and query) replaced by ``***``; other parts
    unchanged. A URL without a password comes back as it is."""
    if not url:
        return url or ""
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:  # an unparsable URL (a bad port, brackets) still loses its password
        return _AUTHORITY_PASSWORD.sub(rf"\1{MASK}@", text)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{MASK}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_PARAMETERS for k, _ in pairs):
            query = urlencode([(k, MASK if k.lower() in SECRET_PARAMETERS else v) for k, v in pairs],
                              safe="*")
    if (netloc, query) == (parts.netloc, parts.query):
        return text
    return urlunsplit(parts._replace(netloc=netloc, query=query))
