"""Files in an S3-compatible bucket (AWS, Scaleway, OVHcloud, Garage, MinIO...), by boto3."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cached_property
from typing import Any, BinaryIO, cast

import boto3
from botocore.exceptions import ClientError


class Bucket:
    """Keys are objects under `prefix` in `bucket`. The client is made at the first use, in
    the process that uses it (boto3's clients are not shared across a fork)."""

    def __init__(self, bucket: str, prefix: str = "", **client: str) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self.options = client

    @cached_property
    def client(self) -> Any:
        return boto3.client("s3", **self.options)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data,
                               ContentType=content_type)

    def open(self, key: str) -> BinaryIO | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise
        return cast(BinaryIO, answer["Body"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def keys(self, before: datetime) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", []):
                if item["LastModified"] < before:
                    yield item["Key"].removeprefix(self.prefix)
