"""Each alert channel's payload and signature, checked by a local receiver against the
published algorithms (recomputed here from the documentation, not from our code), and
email delivered to a local SMTP server."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import json
from datetime import datetime, timezone
from urllib.parse import quote_plus

import pytest
import requests

from orderboard.alerts.channels import SIGNATURE_HEADER, send
from orderboard.alerts.config import RATE_LIMITS, Channel, Contact
from orderboard.alerts.messages import Item, Message
from tests.alert_receiver import start_receiver

NOW = datetime(2026, 11, 23, 8, 0, 5, tzinfo=timezone.utc)
CONTACTS = {
    "张三": Contact("张三", wecom="zhangsan", mobile="13800000001", feishu="ou_zs", slack="U01ZS",
                  email="zs@example.com"),
    "Sales": Contact("Sales", wecom="sales-lead", mobile="13800000002", email="sales@example.com"),
}


def _message(n: int = 2, channel: str = "c") -> Message:
    items = tuple(Item(id=i + 1, rule="sla", status="firing", severity="critical",
                       summary=f"in produced for {50 + i}.0 h, SLA 48.0 h",
                       labels={"order": f"PO-{i}", "stage": "produced", "owner": "张三", "department": "Sales"},
                       fired_at=NOW, resolved_at=None, ack_url=f"http://board/alerts/{i + 1}/ack?sig=x",
                       people=("张三", "Sales"), rule_kind="stage_sla") for i in range(n))
    return Message(channel=channel, kind="firing", title="OrderBoard 预警 sla: 2 firing", items=items,
                   people=("张三", "Sales"), alerts_url="http://board/alerts")


@pytest.fixture
def receiver():
    r = start_receiver()
    yield r
    r.server.shutdown()


def _channel(receiver, kind: str, secret: str | None = None, path: str | None = None) -> Channel:
    return Channel(kind, kind, f"{receiver.base}/{path or kind}", secret, limits=RATE_LIMITS[kind])


def test_wecom_markdown_with_userid_mentions(receiver):
    result = send(requests.Session(), _channel(receiver, "wecom", path="wecom?key=abc"), _message(),
                  CONTACTS, NOW)
    assert result.ok
    (got,) = receiver.of("wecom")
    body = got.json()
    assert got.query == {"key": ["abc"]}
    assert body["msgtype"] == "markdown" and set(body) == {"msgtype", "markdown"}
    content = body["markdown"]["content"]
    assert "PO-0" in content and "PO-1" in content and "[确认 Ack](http://board/alerts/1/ack?sig=x)" in content
    assert "<@zhangsan>" in content and "<@sales-lead>" in content
    assert len(content.encode("utf-8")) <= 4096


def test_wecom_content_is_cut_to_4096_bytes_with_the_rest_counted(receiver):
    assert send(requests.Session(), _channel(receiver, "wecom"), _message(400), CONTACTS, NOW).ok
    content = receiver.of("wecom")[0].json()["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    shown = content.count("PO-")
    assert 0 < shown < 400
    assert f"还有 {400 - shown} 条 · {400 - shown} more" in content


def test_dingtalk_signs_the_url_and_mentions_mobiles(receiver):
    secret = "SEC000demo"
    result = send(requests.Session(), _channel(receiver, "dingtalk", secret, "dingtalk?access_token=t"),
                  _message(), CONTACTS, NOW)
    assert result.ok
    (got,) = receiver.of("dingtalk")
    timestamp = got.query["timestamp"][0]
    assert timestamp == str(int(NOW.timestamp() * 1000))
    # Published: sign = urlEncode(base64(HmacSHA256(key=secret, data=timestamp + "\n" + secret))).
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert got.query["sign"] == [expected]
    assert f"sign={quote_plus(expected)}" in got.raw_query  # sent URL-encoded
    body = got.json()
    assert body["msgtype"] == "markdown" and body["markdown"]["title"]
    assert body["at"] == {"atMobiles": ["13800000001", "13800000002"], "isAtAll": False}
    assert "@13800000001" in body["markdown"]["text"] and "@13800000002" in body["markdown"]["text"]


def test_feishu_signs_in_the_body(receiver):
    secret = "feishu-secret"
    assert send(requests.Session(), _channel(receiver, "feishu", secret), _message(), CONTACTS, NOW).ok
    body = receiver.of("feishu")[0].json()
    timestamp = body["timestamp"]
    assert timestamp == str(int(NOW.timestamp()))
    # Published: base64(HmacSHA256(key = timestamp + "\n" + secret, data = empty)).
    expected = base64.b64encode(hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
    assert body["sign"] == expected
    assert body["msg_type"] == "interactive"
    content = body["card"]["elements"][0]["content"]
    assert "<at id=ou_zs></at>" in content and "PO-1" in content
    assert body["card"]["header"]["template"] == "red"


def test_slack_incoming_webhook_text(receiver):
    assert send(requests.Session(), _channel(receiver, "slack"), _message(), CONTACTS, NOW).ok
    body = receiver.of("slack")[0].json()
    assert set(body) == {"text"}
    assert "<@U01ZS>" in body["text"] and "<http://board/alerts/1/ack?sig=x|确认 Ack>" in body["text"]


def test_webhook_json_schema_and_hmac_header(receiver):
    secret = "s3cret"
    channel = Channel("ops", "webhook", f"{receiver.base}/hook", secret, limits=RATE_LIMITS["webhook"])
    assert send(requests.Session(), channel, _message(), CONTACTS, NOW).ok
    (got,) = receiver.of("hook")
    expected = "sha256=" + hmac.new(secret.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers[SIGNATURE_HEADER] == expected
    body = json.loads(got.body)
    assert body["version"] == 1 and body["kind"] == "firing" and body["sent_at"] == NOW.isoformat()
    assert [a["labels"]["order"] for a in body["alerts"]] == ["PO-0", "PO-1"]
    first = body["alerts"][0]
    assert first == {"id": 1, "rule": "sla", "rule_kind": "stage_sla", "status": "firing", "severity": "critical",
                     "summary": "in produced for 50.0 h, SLA 48.0 h",
                     "labels": {"order": "PO-0", "stage": "produced", "owner": "张三", "department": "Sales"},
                     "fired_at": NOW.isoformat(), "resolved_at": None,
                     "ack_url": "http://board/alerts/1/ack?sig=x", "responsible": ["张三", "Sales"]}
    assert [r["name"] for r in body["recipients"]] == ["张三", "Sales"]


def test_a_robot_error_code_is_a_failure_and_too_fast_is_retryable(receiver):
    receiver.fail_next.append((200, {"errcode": 45009, "errmsg": "api freq out of limit"}))
    result = send(requests.Session(), _channel(receiver, "wecom"), _message(), CONTACTS, NOW)
    assert (result.ok, result.error_code, result.retryable) == (False, "45009", True)
    receiver.fail_next.append((200, {"errcode": 310000, "errmsg": "sign not match"}))
    result = send(requests.Session(), _channel(receiver, "dingtalk", "x"), _message(), CONTACTS, NOW)
    assert (result.ok, result.error_code, result.retryable) == (False, "310000", False)


def test_an_unreachable_url_is_a_retryable_network_failure():
    channel = Channel("w", "webhook", "http://127.0.0.1:9/hook", timeout_s=2)
    result = send(requests.Session(), channel, _message(), CONTACTS, NOW)
    assert (result.ok, result.error_code, result.retryable) == (False, "network", True)


def test_email_goes_to_the_channel_and_the_responsible_people(smtp_server):
    inbox, port = smtp_server
    channel = Channel("mail", "email", f"smtp://127.0.0.1:{port}?from=board@example.com", to=("ops@example.com",))
    assert send(requests.Session(), channel, _message(), CONTACTS, NOW).ok
    ((sender, recipients, raw),) = inbox.messages
    assert sender == "board@example.com"
    assert recipients == ["ops@example.com", "zs@example.com", "sales@example.com"]
    mail = email.message_from_bytes(raw)
    text = mail.get_payload(decode=True).decode("utf-8")
    assert "PO-0" in text and "http://board/alerts/1/ack?sig=x" in text
    assert "sla" in str(email.header.make_header(email.header.decode_header(mail["Subject"])))
