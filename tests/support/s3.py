"""An S3-compatible server of the test's own on a free port: moto's standalone server, a
separate process that boto3 reaches over HTTP with signed requests, as it would a bucket of
Scaleway or OVHcloud."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from tests.support.net import free_port

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "maillage-tests", "AWS_SECRET_ACCESS_KEY": "not-a-secret",
               "AWS_REGION": "eu-west-3"}


@contextmanager
def s3_server() -> Iterator[str]:
    """Run the server until the block ends; yield its endpoint URL."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H",
                               "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-3",
                          aws_access_key_id="x", aws_secret_access_key="x")
    try:
        for _ in range(200):
            try:
                client.list_buckets()
                break
            except (BotoCoreError, ClientError):
                time.sleep(0.05)
        else:
            raise RuntimeError("moto_server did not start")
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)
