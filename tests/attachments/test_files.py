"""Files on initiatives, help requests and answers, through the API and the pages: every type
kept is accepted and served as it should be, anything else is refused with nothing stored,
photos lose their EXIF block, hidden content hides its files, and a file is deleted by whom it
may be, its bytes with it."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from maillage.accounts.models import Scope
from maillage.attachments.models import Attachment
from maillage.database import session, transaction
from maillage.events import Event
from tests.support.files import ACCEPTED, ELF, EXE, HTML, PDF, SVG, image
from tests.support.initiatives import LANNION, VALID
from workers.sweeper import sweep_files

PERROS = "22168"
CONFIDENTIAL = {"town": LANNION, "title": "Rançongiciel sur nos postes",
                "body": "Tout est chiffré depuis ce matin.", "themes": ["cybersecurite"],
                "confidential": True}


def stored(app) -> list[str]:
    """The keys in the instance folder's storage."""
    folder = Path(app.config["INSTANCE_PATH"]) / "attachments"
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def count(model: type) -> int:
    session.remove()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def author(create_user, token_for) -> dict[str, Any]:
    user = create_user(town=LANNION, verified=True)
    return {"user": user, "headers": {"Authorization": f"Bearer {token_for(user, Scope.WRITE)}"}}


@pytest.fixture
def initiative(client, author) -> int:
    return client.post("/api/v1/initiatives", json=VALID, headers=author["headers"]).json["id"]


def get(client, url: str, **options: Any) -> Any:
    """GET `url`, its body read and the file it streamed closed (a server closes it once
    sent; the test client leaves it to its caller)."""
    with client.get(url, **options) as response:
        response.get_data()
    return response


def upload(client, path: str, headers: dict[str, str], *files: tuple[bytes, str]) -> Any:
    return client.post(path, headers=headers,
                       data={"files": [(io.BytesIO(data), name) for data, name in files]})


def test_each_kept_type_is_accepted_listed_and_served(app, client, author, initiative) -> None:
    path = f"/api/v1/initiatives/{initiative}/files"
    answer = upload(client, path, author["headers"],
                    *((data, name) for name, (data, _kind) in ACCEPTED.items()))
    assert answer.status_code == 201, answer.json
    files = answer.json["items"]
    assert [(f["filename"], f["content_type"]) for f in files] == [
        (name.replace(".jpg", ".jpg"), kind) for name, (_data, kind) in ACCEPTED.items()]
    assert client.get(f"/api/v1/initiatives/{initiative}").json["files"] == files
    assert len(stored(app)) == len(ACCEPTED) + 3  # three images, each with its thumbnail
    for f in files:
        data, kind = ACCEPTED[f["filename"]]
        with client.get(f["url"]) as served:
            assert served.status_code == 200
            assert served.mimetype == kind
            assert served.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in served.headers["Content-Security-Policy"]
            disposition = served.headers["Content-Disposition"]
            if kind.startswith("image/"):
                assert disposition.startswith("inline")
                assert Image.open(io.BytesIO(served.data)).size == (64, 48)
                assert f["thumbnail_url"] is not None
            else:
                assert disposition.startswith("attachment")
                assert served.data == data
                assert f["thumbnail_url"] is None
    # A file's page is found by its id; the name in its path is not read.
    first = files[0]
    assert get(client, f"/attachments/{first['id']}/autre-nom.exe").status_code == 200
    assert get(client, f"/attachments/{files[-1]['id'] + 1}/x.pdf").status_code == 404


@pytest.mark.parametrize(("data", "name", "says"), [
    (ELF, "rapport.pdf", "x-executable"),
    (EXE, "deliberation.pdf", "x-msdownload"),
    (SVG, "logo.svg", "n'est pas accepté"),
    (SVG, "logo.png", "n'est pas accepté"),
    (HTML, "tableau.csv", "n'est pas accepté"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "plan.png", "illisible"),
    (b"", "vide.pdf", "vide"),
    (b"\x00\x01\x02binary", "notes.txt", "n'est pas accepté"),
])
def test_anything_else_is_refused_and_nothing_is_stored(app, client, author, initiative,
                                                        data: bytes, name: str,
                                                        says: str) -> None:
    before_events = count(Event)
    answer = upload(client, f"/api/v1/initiatives/{initiative}/files", author["headers"],
                    (PDF, "bon.pdf"), (data, name))
    assert answer.status_code == 422
    [message] = answer.json["errors"]["files"]["files"]
    assert name in message
    assert says in message
    assert (count(Attachment), count(Event), stored(app)) == (0, before_events, [])


def test_sizes_are_bounded_per_file_and_per_item(app, client, author, initiative) -> None:
    app.config.update(ATTACHMENT_MAX_BYTES=len(PDF) + 10,
                      ATTACHMENT_MAX_ITEM_BYTES=3 * len(PDF), ATTACHMENT_MAX_COUNT=4)
    path = f"/api/v1/initiatives/{initiative}/files"
    too_big = upload(client, path, author["headers"], (PDF + b"\0" * 11, "gros.pdf"))
    assert too_big.status_code == 422
    [message] = too_big.json["errors"]["files"]["files"]
    assert "gros.pdf dépasse la taille permise par fichier" in message
    assert upload(client, path, author["headers"], (PDF, "a.pdf"), (PDF, "b.pdf")
                  ).status_code == 201
    kept = stored(app)
    over = upload(client, path, author["headers"], (PDF, "c.pdf"), (PDF, "d.pdf"))
    assert over.status_code == 422
    assert "en tout" in over.json["errors"]["files"]["files"][0]
    assert (count(Attachment), stored(app)) == (2, kept)
    # A body larger than the largest an item's files make is refused before it is read.
    app.config.update(MAX_CONTENT_LENGTH=1000)
    huge = client.post(path, headers=author["headers"],
                       data={"files": (io.BytesIO(b"%PDF-" + b"\0" * 5000), "x.pdf")})
    assert huge.status_code == 413
    # Other writes keep the small limit.
    assert client.post("/api/v1/initiatives", headers=author["headers"],
                       json={**VALID, "body": "x" * 2000}).status_code == 413


def test_photos_are_reencoded_upright_without_their_exif(app, client, author,
                                                         initiative) -> None:
    photo = image("JPEG", (120, 80), gps=True, rotated=True)
    assert b"Exif" in photo
    assert b"Appareil de la mairie" in photo
    [kept] = upload(client, f"/api/v1/initiatives/{initiative}/files", author["headers"],
                    (photo, "IMG_2041.JPEG")).json["items"]
    assert kept["filename"] == "IMG_2041.jpg"
    served = get(client, kept["url"]).data
    assert b"Exif" not in served
    assert b"Appareil de la mairie" not in served
    reread = Image.open(io.BytesIO(served))
    assert reread.format == "JPEG"
    assert not reread.getexif()
    assert reread.size == (80, 120)  # turned upright, as its orientation said
    thumbnail = Image.open(io.BytesIO(get(client, kept["thumbnail_url"]).data))
    assert thumbnail.format == "WEBP"
    assert max(thumbnail.size) <= 480


def test_hidden_content_hides_its_files(app, client, author, initiative, create_user,
                                        token_for) -> None:
    [pdf, photo] = upload(client, f"/api/v1/initiatives/{initiative}/files", author["headers"],
                          (PDF, "rapport.pdf"), (image("PNG"), "plan.png")).json["items"]
    moderator = {"Authorization":
                 f"Bearer {token_for(create_user(moderator=True), Scope.WRITE)}"}
    assert client.post(f"/api/v1/moderation/initiative/{initiative}/hide", json={},
                       headers=moderator).status_code == 200
    for url in (pdf["url"], photo["url"], photo["thumbnail_url"]):
        assert get(client, url).status_code == 404
        assert get(client, url, headers=author["headers"]).status_code == 404
        assert get(client, url, headers=moderator).status_code == 200
    assert client.post(f"/api/v1/moderation/initiative/{initiative}/restore", json={},
                       headers=moderator).status_code == 200
    assert get(client, pdf["url"]).status_code == 200


def test_a_confidential_requests_files_are_shown_to_its_circle_only(client, author,
                                                                    create_user,
                                                                    token_for) -> None:
    asked = client.post("/api/v1/help-requests", json=CONFIDENTIAL,
                        headers=author["headers"]).json["id"]
    [log] = upload(client, f"/api/v1/help-requests/{asked}/files", author["headers"],
                   (b"08:12 chiffrement de \\\\srv-mairie\\partage\n", "journal.txt")
                   ).json["items"]
    assert log["content_type"] == "text/plain"
    colleague = create_user(town=LANNION, verified=True)
    stranger = create_user(town=PERROS, verified=True)
    cyber = create_user(town=PERROS, verified=True, expertise=("cybersecurite",))
    for user, status in ((colleague, 200), (cyber, 200), (stranger, 404)):
        headers = {"Authorization": f"Bearer {token_for(user, Scope.READ)}"}
        assert get(client, log["url"], headers=headers).status_code == status
    assert get(client, log["url"]).status_code == 404


def test_files_on_an_answer_by_its_author_only(client, author, create_user, token_for) -> None:
    asked = client.post("/api/v1/help-requests", json={**CONFIDENTIAL, "confidential": False},
                        headers=author["headers"]).json["id"]
    referent = {"Authorization": f"Bearer {token_for(create_user(town=PERROS, verified=True))}"}
    answered = client.post(f"/api/v1/help-requests/{asked}/answers",
                           json={"body": "Voici notre plan de reprise."}, headers=referent)
    path = f"/api/v1/help-requests/{asked}/answers/{answered.json['id']}/files"
    assert upload(client, path, author["headers"], (PDF, "pra.pdf")).status_code == 403
    [plan] = upload(client, path, referent, (PDF, "pra.pdf")).json["items"]
    detail = client.get(f"/api/v1/help-requests/{asked}").json
    assert detail["answers"][0]["files"] == [plan]


def test_a_file_is_deleted_by_its_uploader_or_its_items_editors(app, client, author,
                                                                initiative, create_user,
                                                                token_for) -> None:
    [first, second] = upload(client, f"/api/v1/initiatives/{initiative}/files",
                             author["headers"], (PDF, "a.pdf"),
                             (image("WEBP"), "b.webp")).json["items"]
    outsider = {"Authorization": f"Bearer {token_for(create_user(town=PERROS, verified=True))}"}
    colleague = {"Authorization": f"Bearer {token_for(create_user(town=LANNION, verified=True))}"}
    kept = stored(app)
    assert client.delete(f"/api/v1/files/{first['id']}", headers=outsider).status_code == 403
    assert (count(Attachment), stored(app)) == (2, kept)
    assert client.delete(f"/api/v1/files/{first['id']}",
                         headers=author["headers"]).status_code == 204
    assert client.delete(f"/api/v1/files/{second['id']}", headers=colleague).status_code == 204
    assert (count(Attachment), stored(app)) == (0, [])
    assert get(client, first["url"]).status_code == 404
    assert client.delete(f"/api/v1/files/{first['id']}",
                         headers=author["headers"]).status_code == 404


def test_the_pages_attach_show_and_delete_files(app, client, author, sign_in, csrf) -> None:
    sign_in(author["user"])
    form = {"csrf_token": csrf(), "town": LANNION, "title": VALID["title"],
            "summary": VALID["summary"], "body": VALID["body"], "themes": VALID["themes"],
            "status": "done"}
    refused = client.post("/initiatives/new", data={
        **form, "files": [(io.BytesIO(SVG), "logo.svg")]})
    assert refused.status_code == 422
    assert "logo.svg" in refused.get_data(as_text=True)
    assert (count(Attachment), stored(app)) == (0, [])
    posted = client.post("/initiatives/new", data={
        **form, "files": [(io.BytesIO(PDF), "cahier des charges.pdf"),
                          (io.BytesIO(image("JPEG", gps=True)), "photo.jpg"),
                          (io.BytesIO(b""), "")]})
    assert posted.status_code == 303, posted.get_data(as_text=True)
    page = client.get(posted.headers["Location"]).get_data(as_text=True)
    [pdf, photo] = session.scalars(sa.select(Attachment).order_by(Attachment.id)).all()
    assert f'href="/attachments/{pdf.id}/cahier%20des%20charges.pdf" download' in page
    assert f'src="/attachments/{photo.id}/thumbnail"' in page
    assert "PDF" in page
    assert "JPG" in page
    deleted = client.post(f"/attachments/{pdf.id}/delete",
                          data={"csrf_token": csrf(), "next": posted.headers["Location"]})
    assert (deleted.status_code, deleted.headers["Location"]) == (303, posted.headers["Location"])
    assert count(Attachment) == 1
    assert re.search(r"/attachments/\d+/cahier", client.get(
        posted.headers["Location"]).get_data(as_text=True)) is None


def test_orphan_bytes_are_swept_once_old(app, client, author, initiative) -> None:
    [kept] = upload(client, f"/api/v1/initiatives/{initiative}/files", author["headers"],
                    (PDF, "a.pdf")).json["items"]
    folder = Path(app.config["INSTANCE_PATH"]) / "attachments"
    old_orphan, young_orphan = folder / ("0" * 32), folder / ("1" * 32)
    old_orphan.write_bytes(b"left by a rolled back upload")
    young_orphan.write_bytes(b"an upload not committed yet")
    two_hours_ago = old_orphan.stat().st_mtime - 7200
    os.utime(old_orphan, (two_hours_ago, two_hours_ago))
    with transaction():
        name = session.get(Attachment, kept["id"]).stored_name
    os.utime(folder / name, (two_hours_ago, two_hours_ago))
    assert sweep_files() == 1
    assert stored(app) == sorted([name, young_orphan.name])
    assert get(client, kept["url"]).status_code == 200


def test_ones_files_are_exported_and_go_with_the_account_if_asked(
        app, client, create_user, token_for, sign_in) -> None:
    keeper, leaver = (create_user(email, password="the right password", town=LANNION,
                                  verified=True) for email in ("k@lannion.fr", "l@lannion.fr"))
    ids = {}
    for person in (keeper, leaver):
        headers = {"Authorization": f"Bearer {token_for(person, Scope.WRITE)}"}
        initiative = client.post("/api/v1/initiatives", json=VALID, headers=headers).json["id"]
        ids[person.id] = (headers, upload(client, f"/api/v1/initiatives/{initiative}/files",
                                          headers, (PDF, "délibération.pdf"),
                                          (image("JPEG", gps=True), "photo.jpg")).json["items"])
    headers, files = ids[leaver.id]
    exported = client.get("/api/v1/me/export", headers=headers).json["tables"]["attachments"]
    assert [row["id"] for row in exported["uploader_id"]] == [f["id"] for f in files]
    archive = get(client, "/api/v1/me/export/files", headers=headers)
    assert archive.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.get_data())) as unpacked:
        assert unpacked.namelist() == [f"{f['id']}-{f['filename']}" for f in files]
        assert unpacked.read(unpacked.namelist()[0]) == PDF
        assert unpacked.read(unpacked.namelist()[1]) == get(client, files[1]["url"]).get_data()
    sign_in(leaver)
    assert "télécharger vos fichiers" in client.get("/account").get_data(as_text=True)
    assert get(client, "/account/export/files").get_data() == archive.get_data()

    before = stored(app)
    keeper_headers, kept = ids[keeper.id]
    assert client.delete("/api/v1/me", json={"password": "the right password"},
                         headers=keeper_headers).status_code == 204
    assert all(get(client, f["url"]).status_code == 200 for f in kept), "they stay"
    assert session.scalars(sa.select(Attachment.uploader_id).where(
        Attachment.id == kept[0]["id"])).one() is None
    assert client.delete("/api/v1/me", json={"password": "the right password", "files": True},
                         headers=headers).status_code == 204
    assert [get(client, f["url"]).status_code for f in files] == [404, 404]
    assert count(Attachment) == 2
    assert len(stored(app)) == len(before) - 3, "the PDF, the photo and its thumbnail"
