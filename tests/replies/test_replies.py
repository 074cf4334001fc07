"""Mail that carries what it is about, and replies by mail: through `maillage mail receive` (a
real process fed on standard input) and a real LMTP server on loopback (aiosmtpd, sent to
with smtplib.LMTP), a reply becomes an answer or a comment by its author, its quoted notice
and signature cut, its attachments kept; forged, expired and wrong-sender replies change
nothing; a reply to a closed request is told once.

The notices go through a real SMTP server (the `smtp` fixture); their Reply-To is the one the
replies are sent to.
"""

from __future__ import annotations

import logging
import os
import smtplib
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP, Policy, default
from email.utils import make_msgid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from itsdangerous import TimestampSigner

from maillage.accounts.models import Role, User
from maillage.attachments.models import Attachment
from maillage.database import session, transaction
from maillage.emails.models import Frequency, Mode, Subscription
from maillage.emails.operations import set_preferences
from maillage.emails.runs import send_digests
from maillage.help.models import HelpAnswer, HelpRequest
from maillage.initiatives.models import Comment
from maillage.replies.lmtp import lmtp_server
from maillage.replies.models import InboundMail
from maillage.replies.operations import receive as received
from maillage.themes.queries import get_theme
from tests.support.api import bearer
from tests.support.files import PDF, image
from tests.support.mail import links, local
from tests.support.net import free_port

LANNION, PERROS, MORLAIX = "22113", "22168", "29151"
CYBER = "cybersecurite"
DOMAIN = "reply.maillage.test"
BIN = Path(sys.executable).parent
SCRIPT = "<script>alert('xss')</script>"

pytestmark = pytest.mark.smtp


@pytest.fixture
def replies(app: Flask) -> Flask:
    """The app with replies by mail on."""
    app.config["MAIL_REPLY_DOMAIN"] = DOMAIN
    return app


@pytest.fixture
def people(create_user, token_for, wait, smtp):
    """An asker in Lannion, a referent of Perros-Guirec; the mail of their verification gone."""
    asker = create_user("asker@lannion.fr", town=LANNION, verified=True)
    referent = create_user("referent@perros.fr", town=PERROS, verified=True,
                           role=Role.REFERENT, expertise=(CYBER,))
    wait()
    smtp.messages.clear()
    return {"asker": asker, "referent": referent,
            "tokens": {"asker": token_for(asker), "referent": token_for(referent)}}


def ask(client, people, body: str = "Nos **messageries** reçoivent du hameçonnage.") -> int:
    asked = client.post("/api/v1/help-requests", headers=bearer(people["tokens"]["asker"]),
                        json={"town": LANNION, "title": "Sécuriser les boîtes mail",
                              "body": body, "themes": [CYBER]})
    assert asked.status_code == 201, asked.json
    return asked.json["id"]


def notice_to(smtp, address: str) -> EmailMessage:
    [message] = smtp.to(address)
    return message


def reply(notice: EmailMessage, sender: str, text: str, *, attachments=(),
          message_id: str | None = None, policy: Policy = default) -> bytes:
    """A reply to `notice` as a mail client writes it: to its Reply-To, quoting it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = str(notice["Reply-To"])
    message["Subject"] = f"Re: {notice['Subject']}"
    message["Message-ID"] = message_id or make_msgid(domain="perros.fr")
    message["In-Reply-To"] = str(notice["Message-ID"])
    quoted = "\n".join(f"> {line}" for line in
                       notice.get_body(("plain",)).get_content().splitlines())
    message.set_content(f"{text}\n\n-- \nMarie Dupont\nMairie de Perros-Guirec\n\n"
                        f"Le jeu. 3 déc. 2026 à 10:12, Maillage <ne-pas-repondre@"
                        f"maillage.localhost> a écrit :\n{quoted}\n")
    for name, kind, data in attachments:
        maintype, subtype = kind.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes(policy=policy)


def environment(app: Flask, smtp) -> dict[str, str]:
    """The environment of a `maillage` process on the test's database and folder."""
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY":
           app.config["SECRET_KEY"], "MAILLAGE_INSTANCE": str(app.config["INSTANCE_PATH"]),
           "MAIL_REPLY_DOMAIN": DOMAIN, "SMTP_URL": smtp.url}
    env.pop("REDIS_URL", None)
    return env


def receive(app: Flask, raw: bytes, smtp) -> subprocess.CompletedProcess[bytes]:
    """`maillage mail receive`, a process of its own on the test's database, fed `raw`."""
    return subprocess.run([str(BIN / "maillage"), "mail", "receive"], input=raw,
                          env=environment(app, smtp), capture_output=True, timeout=120)


def count(model) -> int:
    with transaction():
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_notice_holds_the_text_sanitised_and_a_reply_address(replies, client, people,
                                                                smtp, wait) -> None:
    request_id = ask(client, people, body=f"Nos **messageries** sont attaquées. {SCRIPT}")
    wait()
    routed = notice_to(smtp, "referent@perros.fr")
    text = routed.get_body(("plain",)).get_content()
    html = routed.get_body(("html",)).get_content()
    assert "Nos **messageries** sont attaquées." in text
    assert "répondez à ce message" in text
    assert "répondez à ce message" in html
    assert "<strong>messageries</strong> sont attaquées." in html
    assert "<script" not in html
    assert str(routed["Reply-To"]).startswith("reply+")
    assert str(routed["Reply-To"]).endswith(f"@{DOMAIN}")

    answered = client.post(f"/api/v1/help-requests/{request_id}/answers",
                           headers=bearer(people["tokens"]["referent"]),
                           json={"body": f"Activez *DMARC* {SCRIPT} puis [SPF](javascript:x)."})
    assert answered.status_code == 201
    wait()
    notice = notice_to(smtp, "asker@lannion.fr")
    text = notice.get_body(("plain",)).get_content()
    html = notice.get_body(("html",)).get_content()
    assert "Activez *DMARC*" in text
    assert "Activez <em>DMARC</em>" in html
    assert "<script" not in html
    assert 'href="javascript:' not in html
    # Each member's own address: bound to the reader.
    assert notice["Reply-To"] != routed["Reply-To"]


def test_without_a_reply_domain_no_reply_to(app, client, people, smtp, wait) -> None:
    with transaction():  # an English reader: the notice in English, the text as written
        session.get(User, people["referent"].id).locale = "en"
    ask(client, people)
    wait()
    notice = notice_to(smtp, "referent@perros.fr")
    assert notice["Reply-To"] is None
    text = notice.get_body(("plain",)).get_content()
    assert "reply to this mail" not in text
    assert "Lannion asks for help" in text
    assert "Nos **messageries**" in text


def test_the_digest_shows_each_items_summary(replies, client, create_user, people, smtp,
                                             wait, token_for) -> None:
    author = create_user("author@lannion.fr", town=LANNION, verified=True)
    published = client.post("/api/v1/initiatives", headers=bearer(token_for(author)), json={
        "town": LANNION, "title": "Tiers-lieu numérique", "summary": "s", "body": "b",
        "themes": ["inclusion-numerique"]})
    assert published.status_code == 201
    with transaction():
        set_preferences(session.get(User, author.id), frequency=Frequency.DAILY)
    commented = client.post(f"/api/v1/initiatives/{published.json['id']}/comments",
                            headers=bearer(people["tokens"]["referent"]),
                            json={"body": f"Nous avons **ouvert** le nôtre en mars. {SCRIPT}"})
    assert commented.status_code == 201
    wait()
    smtp.messages.clear()
    send_digests(Frequency.DAILY, now=datetime.now(UTC) + timedelta(days=1))
    [digest] = smtp.to("author@lannion.fr")
    text = digest.get_body(("plain",)).get_content()
    html = digest.get_body(("html",)).get_content()
    assert "Nous avons ouvert le nôtre en mars." in text
    assert "Nous avons ouvert le nôtre en mars." in html
    assert "<script" not in html


def test_a_subscribers_digest_shows_the_requests_summary(replies, client, people, smtp,
                                                        wait) -> None:
    with transaction():
        session.add(Subscription(email="habitante@example.org", frequency=Frequency.DAILY,
                                 confirmed_at=datetime.now(UTC) - timedelta(days=30),
                                 themes=[get_theme(CYBER)], towns=[]))
    ask(client, people, body=f"Un **rançongiciel** a chiffré nos postes. {SCRIPT}")
    wait()
    send_digests(Frequency.DAILY, now=datetime.now(UTC) + timedelta(days=1))
    [digest] = smtp.to("habitante@example.org")
    html = digest.get_body(("html",)).get_content()
    assert "Un rançongiciel a chiffré nos postes." in digest.get_body(("plain",)).get_content()
    assert "Un rançongiciel a chiffré nos postes." in html
    assert "<script" not in html


def test_a_reply_through_the_command_becomes_an_answer_with_its_attachment(
        replies, client, people, smtp, wait) -> None:
    request_id = ask(client, people)
    wait()
    routed = notice_to(smtp, "referent@perros.fr")
    raw = reply(routed, "Referent <Referent@Perros.fr>",
                "Bonjour,\n\nActivez **DMARC** : voici notre procédure.\n\nCordialement,",
                attachments=[("procédure ../../etc/passwd.pdf", "application/pdf", PDF),
                              ("page.pdf", "application/pdf", b"<html><script>x</script>"),
                              ("outil.exe", "application/octet-stream", b"MZ\x90\x00")])
    smtp.messages.clear()
    done = receive(replies, raw, smtp)
    assert done.returncode == 0, done.stderr.decode()
    session.remove()
    [answer] = session.scalars(sa.select(HelpAnswer).where(
        HelpAnswer.help_request_id == request_id)).all()
    assert answer.author_id == people["referent"].id
    assert answer.body == "Bonjour,\n\nActivez **DMARC** : voici notre procédure."
    assert "a écrit" not in answer.body
    assert "Marie Dupont" not in answer.body
    assert "<strong>DMARC</strong>" in answer.body_html
    # The PDF kept, its name cleaned; the fake PDF and the program left out.
    [kept] = session.scalars(sa.select(Attachment)).all()
    assert (kept.answer_id, kept.content_type, kept.size) == (answer.id, "application/pdf",
                                                              len(PDF))
    assert "/" not in kept.filename
    assert kept.filename.endswith(".pdf")
    stored = list((Path(replies.config["INSTANCE_PATH"]) / "attachments").iterdir())
    assert [path.name for path in stored] == [kept.stored_name]
    # The asker hears of the answer as of any other.
    assert "Activez **DMARC**" in notice_to(smtp, "asker@lannion.fr").get_body(
        ("plain",)).get_content()

    page = client.get(f"/help-requests/{request_id}").get_data(as_text=True)
    link = f"/attachments/{kept.id}/"
    assert link in page
    assert "voici notre procédure" in page
    with client.get(f"/attachments/{kept.id}/{kept.filename}") as served:
        assert (served.status_code, served.data, served.mimetype) == (200, PDF,
                                                                      "application/pdf")
        assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/attachments/{kept.id + 1}/x.pdf").status_code == 404

    # Delivered again (a lost acknowledgement): posted once.
    again = receive(replies, raw, smtp)
    assert again.returncode == 0
    assert count(HelpAnswer) == 1


def test_a_reply_through_lmtp_becomes_a_comment_or_an_answer(replies, client, people, smtp,
                                                              wait, create_user,
                                                              token_for) -> None:
    author = create_user("author@lannion.fr", town=LANNION, verified=True)
    published = client.post("/api/v1/initiatives", headers=bearer(token_for(author)), json={
        "town": LANNION, "title": "Tiers-lieu numérique", "summary": "s", "body": "b",
        "themes": ["inclusion-numerique"]})
    initiative_id = published.json["id"]
    with transaction():
        set_preferences(session.get(User, author.id), modes={"following": Mode.IMMEDIATE})
    wait()
    smtp.messages.clear()
    assert client.post(f"/api/v1/initiatives/{initiative_id}/comments",
                       headers=bearer(people["tokens"]["referent"]),
                       json={"body": "Combien de postes ?"}).status_code == 201
    request_id = ask(client, people)
    wait()
    told = notice_to(smtp, "author@lannion.fr")
    assert "Combien de postes ?" in told.get_body(("plain",)).get_content()
    routed = notice_to(smtp, "referent@perros.fr")

    port = free_port()
    server = lmtp_server(replies, "127.0.0.1", port)
    server.start()
    try:
        with smtplib.LMTP("127.0.0.1", port) as lmtp:
            # Lines end in CRLF on the wire, as an MTA sends them.
            lmtp.sendmail("author@lannion.fr", [str(told["Reply-To"])],
                          reply(told, "author@lannion.fr", "Quatre postes, en libre accès.",
                                attachments=[("plan.png", "image/png", image("PNG"))],
                                policy=SMTP))
            lmtp.sendmail("referent@perros.fr", [str(routed["Reply-To"])],
                          reply(routed, "referent@perros.fr", "Activez DMARC.", policy=SMTP))
    finally:
        server.stop()
    session.remove()
    [_first, comment] = session.scalars(sa.select(Comment).order_by(Comment.id)).all()
    assert (comment.author_id, comment.body) == (author.id, "Quatre postes, en libre accès.")
    [attachment] = session.scalars(sa.select(Attachment)).all()
    assert (attachment.comment_id, attachment.content_type) == (comment.id, "image/png")
    [answer] = session.scalars(sa.select(HelpAnswer)).all()
    assert (answer.help_request_id, answer.author_id, answer.body) == (
        request_id, people["referent"].id, "Activez DMARC.")
    page = client.get(f"/initiatives/{initiative_id}").get_data(as_text=True)
    assert f"/attachments/{attachment.id}/plan.png" in page


def expired_address(app: Flask, user_id: int, request_id: int) -> str:
    """A reply address signed with the app's own key, 31 days ago."""
    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 31 * 24 * 3600

    token = Then(app.config["SECRET_KEY"], salt="maillage.reply").sign(
        f"{user_id}.h.{request_id}").decode()
    return f"reply+{token}@{DOMAIN}"


def test_forged_expired_and_wrong_sender_replies_change_nothing(replies, client, people,
                                                                smtp, wait, caplog) -> None:
    request_id = ask(client, people)
    wait()
    routed = notice_to(smtp, "referent@perros.fr")
    address = str(routed["Reply-To"])
    token = address.removeprefix("reply+").partition("@")[0]
    value, _stamp, signature = token.rsplit(".", 2)
    other = f"{people['asker'].id}.h.{request_id}"
    forged = [
        # Another member named with the referent's signature, a signature changed, none.
        address.replace(value, other),
        address.replace(f".{signature}", f".{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"),
        f"reply+{other}@{DOMAIN}",
        expired_address(replies, people["referent"].id, request_id),
    ]
    smtp.messages.clear()
    caplog.set_level(logging.WARNING, logger="maillage.replies")
    for to in forged:
        message = EmailMessage()
        message["From"], message["To"] = "referent@perros.fr", to
        message["Message-ID"] = make_msgid()
        message.set_content("Je réponds à sa place.")
        assert receive(replies, message.as_bytes(), smtp).returncode == 0
    # The genuine address, from someone else.
    assert receive(replies, reply(routed, "asker@lannion.fr", "Moi aussi !"),
                   smtp).returncode == 0
    assert receive(replies, reply(routed, "intrus@example.org", "Cliquez ici"),
                   smtp).returncode == 0
    assert count(HelpAnswer) == 0
    assert count(InboundMail) == 0
    assert count(Attachment) == 0
    assert smtp.messages == []  # nothing mailed back: no bounce to a forged sender


def test_the_refusals_are_logged(replies, client, people, smtp, wait, caplog) -> None:
    request_id = ask(client, people)
    wait()
    routed = notice_to(smtp, "referent@perros.fr")
    caplog.set_level(logging.INFO, logger="maillage.replies")
    expired = EmailMessage()
    expired["From"] = "referent@perros.fr"
    expired["To"] = expired_address(replies, people["referent"].id, request_id)
    expired.set_content("Trop tard.")
    with transaction():
        received(reply(routed, "intrus@example.org", "Cliquez ici"))
        received(expired.as_bytes())
    said = [record.getMessage() for record in caplog.records]
    assert any("sender is not the member" in line for line in said)
    assert any("forged, tampered with or expired" in line for line in said)


def test_a_reply_to_a_closed_request_is_told_once(replies, client, people, smtp,
                                                  wait) -> None:
    request_id = ask(client, people)
    wait()
    routed = notice_to(smtp, "referent@perros.fr")
    closed = client.post(f"/api/v1/help-requests/{request_id}/close",
                         headers=bearer(people["tokens"]["asker"]))
    assert closed.status_code == 200
    wait()
    smtp.messages.clear()
    with transaction():  # an English reader is told in English
        session.get(User, people["referent"].id).locale = "en"
    raw = reply(routed, "referent@perros.fr", "Activez DMARC.")
    assert receive(replies, raw, smtp).returncode == 0
    assert receive(replies, raw, smtp).returncode == 0  # the MTA delivering it again
    session.remove()
    assert count(HelpAnswer) == 0
    assert session.get(HelpRequest, request_id).status.value == "closed"
    [told] = smtp.to("referent@perros.fr")
    assert told["Content-Language"] == "en"
    assert "is closed: your answer by mail was not posted" in told.get_body(
        ("plain",)).get_content()
    assert f"/help-requests/{request_id}" in " ".join(
        local(link) for link in links(told.get_body(("plain",)).get_content()))


def test_a_database_that_does_not_answer_asks_the_mta_to_retry(replies, client, people,
                                                                smtp, wait) -> None:
    ask(client, people)
    wait()
    routed = notice_to(smtp, "referent@perros.fr")
    env = {**os.environ, "DATABASE_URL": "postgresql://127.0.0.1:1/none",
           "SECRET_KEY": replies.config["SECRET_KEY"], "MAIL_REPLY_DOMAIN": DOMAIN,
           "MAILLAGE_INSTANCE": str(replies.config["INSTANCE_PATH"])}
    env.pop("REDIS_URL", None)
    failed = subprocess.run([str(BIN / "maillage"), "mail", "receive"],
                            input=reply(routed, "referent@perros.fr", "Activez DMARC."),
                            env=env, capture_output=True, timeout=120)
    assert failed.returncode == 75, failed.stderr.decode()


def test_an_html_reply_loses_its_quote_and_an_absence_notice_is_not_posted(
        replies, client, people, smtp, wait) -> None:
    request_id = ask(client, people)
    wait()
    routed = notice_to(smtp, "referent@perros.fr")
    html = EmailMessage()
    html["From"], html["To"] = "referent@perros.fr", str(routed["Reply-To"])
    html["Message-ID"] = make_msgid()
    html.set_content("<div dir=\"ltr\">Voyez <b>notre guide</b>.<br>Bonne journée</div>"
                     "<div class=\"gmail_quote\"><div>Le jeu. 3 déc. 2026 à 10:12, Maillage a"
                     " écrit :<br></div><blockquote>Lannion demande de l'aide</blockquote></div>",
                     subtype="html")
    away = EmailMessage()
    away["From"], away["To"] = "referent@perros.fr", str(routed["Reply-To"])
    away["Auto-Submitted"] = "auto-replied"
    away.set_content("Je suis absente jusqu'au 5 janvier.")
    with transaction():
        assert received(html.as_bytes()).value == "answered"
        assert received(away.as_bytes()).value == "refused"
    [answer] = session.scalars(sa.select(HelpAnswer).where(
        HelpAnswer.help_request_id == request_id)).all()
    assert answer.body == "Voyez notre guide."


def test_the_procfiles_lmtp_process_posts_a_reply_and_stops_on_sigterm(replies, client,
                                                                       people, smtp,
                                                                       wait) -> None:
    request_id = ask(client, people)
    wait()
    routed = notice_to(smtp, "referent@perros.fr")
    port = free_port()
    process = subprocess.Popen([str(BIN / "maillage"), "mail", "lmtp", "--port", str(port)],
                               env=environment(replies, smtp), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        # Once it says it listens (aiosmtpd's own lines may come first).
        said = [process.stdout.readline()]
        while b"Receiving replies by LMTP" not in said[-1]:
            assert said[-1], said  # not ended
            assert len(said) < 50, said
            said.append(process.stdout.readline())
        with smtplib.LMTP("127.0.0.1", port) as lmtp:
            refused = lmtp.sendmail("intrus@example.org", [f"reply+forged@{DOMAIN}"],
                                    reply(routed, "intrus@example.org", "x", policy=SMTP))
            lmtp.sendmail("referent@perros.fr", [str(routed["Reply-To"])],
                          reply(routed, "referent@perros.fr", "Activez DMARC.", policy=SMTP))
        assert refused == {}  # taken, as far as the MTA knows: no bounce to a forged sender
    finally:
        process.terminate()
        assert process.wait(30) == 0
        process.stdout.close()
    session.remove()
    [answer] = session.scalars(sa.select(HelpAnswer)).all()
    assert (answer.help_request_id, answer.body) == (request_id, "Activez DMARC.")
