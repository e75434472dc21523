"""Sending one email through the server of an ``smtp://`` or ``smtps://`` URL: the weekly
report and the email alert channel both send through here.

``smtp://user:password@host:587?from=board@example.com``: STARTTLS when the server offers
it, login when the URL has a user; ``smtps://`` connects over TLS (port 465 by default).
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit


def sender_of(smtp_url: str) -> str:
    """The From address: the URL's ``?from=``, else orderboard@<host>."""
    url = urlsplit(smtp_url)
    return parse_qs(url.query).get("from", [f"orderboard@{url.hostname or 'localhost'}"])[0]


def send_mail(smtp_url: str, message: EmailMessage, timeout: float,
              to: list[str] | None = None) -> None:
    """Send ``message`` (to ``to``, else its own headers' recipients); smtplib's errors
    propagate for the caller to report."""
    url = urlsplit(smtp_url)
    client_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    port = url.port or (465 if url.scheme == "smtps" else 25)
    with client_class(url.hostname or "localhost", port, timeout=timeout) as client:
        if url.scheme == "smtp":
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls()
                client.ehlo()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message, to_addrs=to)
