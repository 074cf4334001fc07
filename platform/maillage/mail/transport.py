"""How mail leaves: over SMTP (SMTP_URL), or as .eml files in MAIL_DIR in the embedded mode.

A transport opens a connection that sends many messages, so a digest run pays the SMTP
handshake once.
"""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path

from flask import Flask, current_app

from maillage.mail.files import FileTransport
from maillage.mail.smtp import SmtpTransport


def transport(app: Flask | None = None) -> SmtpTransport | FileTransport:
    """Return the app's transport, made once from SMTP_URL or MAIL_DIR."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if "maillage.mail" not in app.extensions:
        config = app.config
        app.extensions["maillage.mail"] = (
            SmtpTransport(config["SMTP_URL"], parseaddr(config["MAIL_SENDER"])[1])
            if config["SMTP_URL"] else FileTransport(Path(config["MAIL_DIR"])))
    return app.extensions["maillage.mail"]
