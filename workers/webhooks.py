"""The webhook job: one try of one delivery of the outbox (`webhook_deliveries`).

As with a single mail (workers/mail.py), the job takes the row for its try and commits, then
POSTs outside any transaction, and a short transaction records what the receiver answered:
delivered (a 2xx), or the next try, queued with its delay (the sweep would queue it anyway).
The URL's host is resolved and checked again before each try, and the request goes to the
address checked, so that a name that resolved to a public address at registration cannot
lead to a private one now (DNS rebinding).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter

from maillage.database import transaction
from maillage.jobs import Job
from maillage.webhooks import addresses
from maillage.webhooks import operations as outbox
from maillage.webhooks.signing import signature
from workers.context import job_app

# Seconds to connect, and to wait for the answer: a slow receiver holds a worker no longer.
TIMEOUT = (3, 5)


class _PinnedAdapter(HTTPAdapter):
    """Connect to the checked address while TLS names and checks the URL's host."""

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        kwargs["server_hostname"] = self.host
        kwargs["assert_hostname"] = self.host
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]


def _post(url: str, secret: str, delivery_id: int, kind: str, body: bytes
          ) -> tuple[int | None, str | None]:
    """POST `body` once; return the status (None when there was no answer) and an error."""
    try:
        target = addresses.check(url, allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    except addresses.Refused as refusal:
        return None, str(refusal)
    parts = urlsplit(url)
    pinned = urlunsplit((target.scheme, target.netloc, parts.path or "/", parts.query, ""))
    timestamp = int(time.time())
    default_port = 443 if target.scheme == "https" else 80
    headers = {"Content-Type": "application/json", "User-Agent": "Maillage-Webhooks/1",
               "Host": target.host if target.port == default_port
               else f"{target.host}:{target.port}",
               "X-Maillage-Event": kind, "X-Maillage-Delivery": str(delivery_id),
               "X-Maillage-Timestamp": str(timestamp),
               "X-Maillage-Signature": signature(secret, timestamp, body)}
    with requests.Session() as http:
        http.trust_env = False  # no proxy from the environment: the address checked is used
        http.mount(f"{target.scheme}://", _PinnedAdapter(target.host))
        try:
            response = http.post(pinned, data=body, headers=headers, timeout=TIMEOUT,
                                 allow_redirects=False)
        except requests.RequestException as error:
            return None, f"{type(error).__name__}: {error}"
        response.close()
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def deliver_webhook(delivery_id: int, attempt: int) -> int | None:
    """Try the delivery `delivery_id` for its try `attempt`; return the status answered."""
    with job_app().app_context():
        with transaction():
            delivery = outbox.claim(delivery_id, attempt)
            if delivery is None:
                return None
            hook = delivery.webhook
            if hook.disabled_at is not None:
                outbox.give_up(delivery_id, "the webhook is disabled")
                return None
            url, secret, kind, body = hook.url, hook.secret, delivery.kind, delivery.body
            attempts = delivery.attempts
        status, error = _post(url, secret, delivery_id, kind, body.encode())
        with transaction():
            delay = outbox.record_try(delivery_id, status, error)
        if delay is not None:
            current_app.extensions["maillage.queues"].enqueue(
                "webhooks", Job.DELIVER_WEBHOOK, delivery_id, attempts,
                job_id=f"webhook-{delivery_id}-{attempts}", delay=delay)
        return status
