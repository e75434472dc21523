"""Channels, each to its published format:

- WeCom (企业微信) group robot: ``{"msgtype": "markdown", "markdown": {"content": ...}}``,
  mentions ``<@userid>`` in the content, at most 4096 bytes; answers ``{"errcode": 0}``.
- DingTalk (钉钉) custom robot: ``&timestamp=<ms>&sign=<s>`` added to the URL, with s =
  urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))); body
  ``{"msgtype": "markdown", "markdown": {"title", "text"}, "at": {"atMobiles": [...]}}``
  with each ``@mobile`` also in the text; answers ``{"errcode": 0}``.
- Feishu/Lark (飞书) custom bot: ``"timestamp"`` (seconds) and ``"sign"`` =
  base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")) in the body, an interactive
  card with a markdown element, mentions ``<at id=open_id></at>``; answers ``{"code": 0}``.
- Slack incoming webhook: ``{"text": ...}`` in mrkdwn, mentions ``<@member id>``; answers ``ok``.
- Generic webhook: the JSON of ``webhook_payload`` (README, "Alerts"), with header
  ``X-OrderBoard-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` when a secret is set.
- Email over SMTP: ``smtp://[user[:password]@]host[:port][?from=addr]`` (STARTTLS when
  offered) or ``smtps://``; recipients are the channel's ``to`` and the contacts' emails.

``send`` makes one attempt (bounded by the channel's timeout) and says whether a failure
is worth retrying (network, 5xx, 429, the robots' "too fast" codes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from urllib.parse import quote_plus

import requests

from orderboard.alerts.config import Channel, Contact
from orderboard.alerts.messages import MARKDOWN, PLAIN, SLACK, Message, render
from orderboard.mail import send_mail, sender_of

SIGNATURE_HEADER = "X-OrderBoard-Signature"
SIZE_LIMITS = {"wecom": 4096, "dingtalk": 20000, "feishu": 20000, "slack": 3500, "email": 200_000}
# Application error codes that mean "too many messages, try later".
THROTTLED = {"wecom": {45009}, "dingtalk": {130101, 410100}, "feishu": {9499, 11232, 11233}}


@dataclass(frozen=True)
class SendResult:
    ok: bool
    http_status: int | None = None
    error_code: str | None = None
    error: str | None = None
    retryable: bool = False
    retry_after_s: float | None = None


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature, URL-encoded: base64(HMAC_SHA256(secret, f"{timestamp}\\n{secret}"))."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's signature: base64(HMAC_SHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def recipients(message: Message, contacts: Mapping[str, Contact]) -> list[Contact]:
    return [contacts[p] for p in message.people if p in contacts]


def mention_tail(kind: str, message: Message, contacts: Mapping[str, Contact]) -> tuple[str, list[str]]:
    """(the mention text appended to the message, the ids mentioned) for a group robot;
    people without an id for this channel are named in plain text."""
    known = recipients(message, contacts)
    ids = {"wecom": [c.wecom for c in known if c.wecom], "dingtalk": [c.mobile for c in known if c.mobile],
           "feishu": [c.feishu for c in known if c.feishu], "slack": [c.slack for c in known if c.slack]}.get(kind, [])
    written = {"wecom": lambda i: f"<@{i}>", "dingtalk": lambda i: f"@{i}",
               "feishu": lambda i: f"<at id={i}></at>", "slack": lambda i: f"<@{i}>"}.get(kind)
    if written is None or not ids:
        return "", []
    return " ".join(written(i) for i in ids), ids


def build_request(channel: Channel, message: Message, contacts: Mapping[str, Contact], now: datetime,
                  max_lines: int = 20) -> tuple[str, dict[str, str], bytes]:
    """(url, headers, body) of the HTTP POST that delivers ``message`` to ``channel``."""
    kind = channel.kind
    tail, ids = mention_tail(kind, message, contacts)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    url = channel.url
    if kind == "wecom":
        payload: dict = {"msgtype": "markdown", "markdown": {
            "content": render(message, MARKDOWN, SIZE_LIMITS[kind], max_lines, tail)}}
    elif kind == "dingtalk":
        payload = {"msgtype": "markdown",
                   "markdown": {"title": message.title[:60],
                                "text": render(message, MARKDOWN, SIZE_LIMITS[kind], max_lines, tail)},
                   "at": {"atMobiles": ids, "isAtAll": False}}
        if channel.secret:
            timestamp = int(now.timestamp() * 1000)
            sign = dingtalk_sign(channel.secret, timestamp)
            url += ("&" if "?" in url else "?") + f"timestamp={timestamp}&sign={sign}"
    elif kind == "feishu":
        template = {"firing": "red", "escalation": "red", "resolved": "green"}.get(message.kind, "orange")
        payload = {"msg_type": "interactive", "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": message.title[:100]}, "template": template},
            "elements": [{"tag": "markdown",
                          "content": render(message, MARKDOWN, SIZE_LIMITS[kind], max_lines, tail)}]}}
        if channel.secret:
            timestamp = int(now.timestamp())
            payload = {"timestamp": str(timestamp), "sign": feishu_sign(channel.secret, timestamp), **payload}
    elif kind == "slack":
        payload = {"text": render(message, SLACK, SIZE_LIMITS[kind], max_lines, tail,
                                  measure=len)}
    elif kind == "webhook":
        payload = webhook_payload(message, contacts, now)
    else:
        raise ValueError(f"{kind} is not sent over HTTP")
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    if kind == "webhook" and channel.secret:
        headers[SIGNATURE_HEADER] = webhook_signature(channel.secret, body)
    return url, headers, body


def webhook_payload(message: Message, contacts: Mapping[str, Contact], now: datetime) -> dict:
    """The generic webhook's JSON (version 1; README, "Alerts")."""
    def when(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(timezone.utc).isoformat()

    return {
        "version": 1,
        "kind": message.kind,
        "channel": message.channel,
        "title": message.title,
        "note": message.note,
        "sent_at": when(now),
        "alerts_url": message.alerts_url,
        "alerts": [{
            "id": i.id, "rule": i.rule, "rule_kind": i.rule_kind, "status": i.status,
            "severity": i.severity, "summary": i.summary, "labels": i.labels,
            "fired_at": when(i.fired_at), "resolved_at": when(i.resolved_at),
            "ack_url": i.ack_url or None, "responsible": list(i.people),
        } for i in message.items],
        "recipients": [{"name": c.name, "wecom": c.wecom or None, "mobile": c.mobile or None,
                        "feishu": c.feishu or None, "slack": c.slack or None, "email": c.email or None}
                       for c in recipients(message, contacts)],
    }


def send(session: requests.Session, channel: Channel, message: Message, contacts: Mapping[str, Contact],
         now: datetime, max_lines: int = 20) -> SendResult:
    """One attempt to deliver ``message``."""
    if channel.kind == "email":
        return send_email(channel, message, contacts, max_lines)
    url, headers, body = build_request(channel, message, contacts, now, max_lines)
    try:
        response = session.post(url, data=body, headers=headers, timeout=channel.timeout_s)
    except requests.RequestException as exc:
        return SendResult(False, None, "network", f"{type(exc).__name__}: {str(exc)[:300]}", True)
    return read_answer(channel.kind, response)


def read_answer(kind: str, response: requests.Response) -> SendResult:
    status = response.status_code
    retry_after = _retry_after(response)
    if status == 429 or status >= 500:
        return SendResult(False, status, str(status), response.text[:300], True, retry_after)
    if status >= 300:
        return SendResult(False, status, str(status), response.text[:300], False)
    if kind in ("wecom", "dingtalk", "feishu"):
        try:
            answer = response.json()
        except ValueError:
            return SendResult(False, status, "not-json", response.text[:300], True)
        code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
        if code in (0, None):
            return SendResult(True, status)
        message = str(answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or "")
        return SendResult(False, status, str(code), message[:300], code in THROTTLED.get(kind, set()))
    if kind == "slack" and response.text.strip() not in ("ok", ""):
        return SendResult(False, status, "slack", response.text[:300], False)
    return SendResult(True, status)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def email_message(channel: Channel, message: Message, contacts: Mapping[str, Contact],
                  max_lines: int) -> tuple[EmailMessage, list[str]]:
    sender = sender_of(channel.url)
    to = list(dict.fromkeys([*channel.to, *(c.email for c in recipients(message, contacts) if c.email)]))
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail.set_content(render(message, PLAIN, SIZE_LIMITS["email"], max(max_lines, 500)) + "\n\n-- OrderBoard")
    return mail, to


def send_email(channel: Channel, message: Message, contacts: Mapping[str, Contact], max_lines: int) -> SendResult:
    mail, to = email_message(channel, message, contacts, max_lines)
    if not to:
        return SendResult(False, None, "no-recipients", "no recipient: set the channel's to or contacts' email")
    try:
        send_mail(channel.url, mail, channel.timeout_s, to)
    except smtplib.SMTPResponseException as exc:
        transient = 400 <= exc.smtp_code < 500
        return SendResult(False, None, str(exc.smtp_code), str(exc.smtp_error)[:300], transient)
    except (smtplib.SMTPException, OSError) as exc:
        return SendResult(False, None, "smtp", f"{type(exc).__name__}: {str(exc)[:300]}", True)
    return SendResult(True)
