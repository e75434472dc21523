"""Signed acknowledge links of alert messages: ``/alerts/<id>/ack?sig=...``.

``sig`` is the hex HMAC-SHA256 of ``"ack:<id>"`` under the deployment's link secret
(``datasource.alert_store.link_secret``), so only a link OrderBoard sent can acknowledge
the alert it names, and a link cannot be turned into one for another alert.
"""

from __future__ import annotations

import hashlib
import hmac


def ack_signature(secret: str, instance_id: int) -> str:
    return hmac.new(secret.encode("utf-8"), f"ack:{int(instance_id)}".encode(), hashlib.sha256).hexdigest()


def valid_signature(secret: str, instance_id: int, sig: str | None) -> bool:
    return bool(sig) and hmac.compare_digest(ack_signature(secret, instance_id), str(sig))


def ack_path(secret: str, instance_id: int) -> str:
    return f"/alerts/{int(instance_id)}/ack?sig={ack_signature(secret, instance_id)}"


def ack_url(base_url: str, secret: str, instance_id: int) -> str:
    return base_url.rstrip("/") + ack_path(secret, instance_id)
