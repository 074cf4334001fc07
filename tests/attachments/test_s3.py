"""The S3 back end, against a real S3-compatible server on loopback: files uploaded through
the API land in the bucket under the prefix, are served back from it through Maillage, and
leave it when deleted; orphans are swept from it as from a folder."""

from __future__ import annotations

import io
from datetime import timedelta

import boto3
import pytest

from maillage.accounts.models import Scope
from maillage.attachments import operations
from maillage.attachments.models import Attachment
from maillage.database import session, transaction
from maillage.settings import SettingsError
from maillage.storage import of_url, storage
from tests.support.files import PDF, image
from tests.support.initiatives import LANNION, VALID
from tests.support.s3 import CREDENTIALS, s3_server
from workers.sweeper import sweep_files

BUCKET = "maillage-fichiers"


@pytest.fixture
def bucket(monkeypatch):
    """The server's endpoint, with a bucket made; boto3 reads its credentials from the
    environment, as on a real deployment."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with s3_server() as endpoint:
        client = boto3.client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={
            "LocationConstraint": CREDENTIALS["AWS_REGION"]})
        yield endpoint, client


def keys_of(file: dict) -> list[str]:
    with transaction():
        return ["instance-a/" + session.get(Attachment, file["id"]).stored_name]


def objects(client) -> list[str]:
    return sorted(item["Key"] for item in
                  client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_files_live_in_the_bucket(make_app, bucket, create_user, token_for,
                                  monkeypatch) -> None:
    endpoint, client = bucket
    app = make_app(STORAGE_URL=f"s3://{BUCKET}/instance-a?endpoint_url={endpoint}")
    with app.app_context():
        web = app.test_client()
        user = create_user(town=LANNION, verified=True)
        headers = {"Authorization": f"Bearer {token_for(user, Scope.WRITE)}"}
        initiative = web.post("/api/v1/initiatives", json=VALID, headers=headers).json["id"]
        answer = web.post(f"/api/v1/initiatives/{initiative}/files", headers=headers, data={
            "files": [(io.BytesIO(PDF), "rapport.pdf"), (io.BytesIO(image("PNG")), "plan.png")]})
        assert answer.status_code == 201, answer.json
        [pdf, png] = answer.json["items"]
        keys = objects(client)
        assert len(keys) == 3  # the PDF, the PNG and its thumbnail
        assert all(key.startswith("instance-a/") for key in keys)
        assert client.get_object(Bucket=BUCKET, Key=keys[0])["ContentType"] in {
            "application/pdf", "image/png", "image/webp"}
        with web.get(pdf["url"]) as served:
            assert (served.status_code, served.get_data()) == (200, PDF)
            assert served.headers["Content-Disposition"].startswith("attachment")
        with web.get(png["thumbnail_url"]) as served:
            assert (served.status_code, served.mimetype) == (200, "image/webp")

        assert web.delete(f"/api/v1/files/{png['id']}", headers=headers).status_code == 204
        assert len(objects(client)) == 1
        # An object no row names is an orphan, swept once old enough: here at once.
        client.put_object(Bucket=BUCKET, Key="instance-a/" + "0" * 32, Body=b"orphan")
        client.put_object(Bucket=BUCKET, Key="instance-b/" + "0" * 32, Body=b"not ours")
        monkeypatch.setattr(operations, "ORPHAN_AGE", timedelta(minutes=-1))
        assert sweep_files() == 1
        assert objects(client) == sorted([*keys_of(pdf), "instance-b/" + "0" * 32])
        assert storage().open("f" * 32) is None


def test_a_wrong_storage_url_is_refused_with_its_fix() -> None:
    with pytest.raises(SettingsError, match="s3://bucket/prefix"):
        of_url("ftp://example.org/files", "/tmp")
    with pytest.raises(SettingsError, match="endpoint_url and region_name"):
        of_url("s3://bucket/prefix?endpoint=http://x", "/tmp")
