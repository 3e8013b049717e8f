"""Flexible checksums in aws-chunked trailers, written from AWS's "Checking object
integrity" guide: a body whose trailing x-amz-checksum-crc32 (or sha256) matches is
stored; one whose trailer does not match is refused with BadDigest and not stored."""

from __future__ import annotations

import base64
import hashlib
import struct
import uuid
import zlib

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import nimbus_helpers as h
from test_s3_basics import s3_client


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(struct.pack(">I", zlib.crc32(data))).decode()


def chunked_put(endpoint, bucket, key, data: bytes, trailer_name: str, trailer_value: str):
    """PUT with STREAMING-UNSIGNED-PAYLOAD-TRAILER, as current SDKs send uploads."""
    body = f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n" + f"{trailer_name}:{trailer_value}\r\n\r\n".encode()
    headers = {
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": trailer_name,
        "content-length": str(len(body)),
    }
    req = AWSRequest(method="PUT", url=f"{endpoint}/{bucket}/{key}", data=body, headers=headers)
    SigV4Auth(Credentials("test", "test"), "s3", h.REGION).add_auth(req)
    return requests.put(req.url, data=body, headers=dict(req.headers.items()), timeout=30)


@pytest.fixture
def bucket(endpoint):
    name = f"ck-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def test_matching_trailing_crc32_is_stored(endpoint, bucket):
    r = chunked_put(endpoint, bucket, "ok", b"hello world", "x-amz-checksum-crc32", crc32_b64(b"hello world"))
    assert r.status_code == 200, r.text
    assert s3_client(endpoint).get_object(Bucket=bucket, Key="ok")["Body"].read() == b"hello world"


def test_mismatched_trailing_checksum_is_bad_digest(endpoint, bucket):
    r = chunked_put(endpoint, bucket, "bad", b"hello world", "x-amz-checksum-crc32", crc32_b64(b"tampered"))
    assert r.status_code == 400
    assert "<Code>BadDigest</Code>" in r.text
    assert "The CRC32 you specified did not match the calculated checksum." in r.text
    s3 = s3_client(endpoint)
    h.expect_client_error(lambda: s3.head_object(Bucket=bucket, Key="bad"), status=404)


def test_trailing_sha256(endpoint, bucket):
    good = base64.b64encode(hashlib.sha256(b"data").digest()).decode()
    assert chunked_put(endpoint, bucket, "s", b"data", "x-amz-checksum-sha256", good).status_code == 200
    r = chunked_put(endpoint, bucket, "s2", b"data", "x-amz-checksum-sha256", base64.b64encode(b"x" * 32).decode())
    assert r.status_code == 400 and "<Code>BadDigest</Code>" in r.text


def test_boto3_default_checksums_round_trip(endpoint, bucket):
    """boto3 computes a CRC32 for every upload by default; nimbus must accept it."""
    s3 = s3_client(endpoint)
    s3.put_object(Bucket=bucket, Key="sdk", Body=b"x" * 100_000)
    assert len(s3.get_object(Bucket=bucket, Key="sdk")["Body"].read()) == 100_000
