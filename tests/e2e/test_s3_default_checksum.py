"""S3's default checksum, from AWS's "Checking object integrity" guide and the API
reference: since December 2024 S3 computes a full-object CRC-64/NVME checksum for
every object uploaded without one, stores it and reports it like a client's
(PutObject's response, GetObject/HeadObject with ChecksumMode ENABLED,
GetObjectAttributes, CopyObject). Multipart uploads created without an algorithm get
a FULL_OBJECT CRC64NVME too. A GET/HEAD of one part of a composite-checksum object
reports that part's checksum (COMPOSITE); a full-object checksum describes no part but
one that is the whole object.

boto3 computes a CRC32 for uploads by default; the clients here upload the way older
SDKs, curl and browsers do, without one (`request_checksum_calculation=when_required`).
"""

from __future__ import annotations

import base64
import hashlib
import os

import boto3
import pytest
import requests
from botocore.config import Config

from test_s3_fast_path import both, send

MiB = 1024 * 1024

# CRC-64/NVME: polynomial 0xAD93D23594C93659, reflected (0x9A6C9329AC4BC9B5),
# initial value and final xor all ones.
_POLY = 0x9A6C9329AC4BC9B5


def _table():
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        out.append(c)
    return out


_TABLE = _table()


def crc64nvme_int(data: bytes) -> int:
    crc, t = 0xFFFFFFFFFFFFFFFF, _TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def crc64nvme(data: bytes) -> str:
    """S3's form: base64 of the big-endian 8 bytes."""
    return base64.b64encode(crc64nvme_int(data).to_bytes(8, "big")).decode()


def b64(d: bytes) -> str:
    return base64.b64encode(d).decode()


@pytest.fixture
def plain(endpoint):
    """A client that sends no checksum of its own (as SDKs before 2025 did)."""
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                      request_checksum_calculation="when_required", signature_version="s3v4"),
    )


def test_crc64nvme_reference():
    # The catalogue's check value for CRC-64/NVME.
    assert crc64nvme_int(b"123456789") == 0xAE8B14860A799888


@pytest.mark.parametrize("size", [0, 11, 100_000])
def test_put_without_checksum_stores_crc64nvme(plain, bucket, size):
    body = os.urandom(size)
    want = crc64nvme(body)
    put = plain.put_object(Bucket=bucket, Key="k", Body=body)
    # "This header is present if ... it was uploaded without a checksum (and Amazon S3
    # added the default checksum, CRC64NVME, to the uploaded object)" (PutObject).
    assert put["ChecksumCRC64NVME"] == want and put["ChecksumType"] == "FULL_OBJECT"
    hd = plain.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert hd["ChecksumCRC64NVME"] == want and hd["ChecksumType"] == "FULL_OBJECT"
    got = plain.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["ChecksumCRC64NVME"] == want and got["ChecksumType"] == "FULL_OBJECT"
    assert got["Body"].read() == body
    # Only asked for.
    assert "ChecksumCRC64NVME" not in plain.head_object(Bucket=bucket, Key="k")


def test_a_client_checksum_is_kept_instead(plain, bucket):
    body = b"with my own"
    want = b64(hashlib.sha256(body).digest())
    put = plain.put_object(Bucket=bucket, Key="k", Body=body, ChecksumSHA256=want)
    assert put["ChecksumSHA256"] == want and "ChecksumCRC64NVME" not in put
    hd = plain.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert hd["ChecksumSHA256"] == want and "ChecksumCRC64NVME" not in hd


def test_range_reads_report_no_checksum(plain, bucket):
    plain.put_object(Bucket=bucket, Key="k", Body=b"0123456789")
    got = plain.get_object(Bucket=bucket, Key="k", Range="bytes=2-4", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"234" and "ChecksumCRC64NVME" not in got


def test_presigned_put_with_no_checksum(plain, bucket):
    url = plain.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up"}, ExpiresIn=300)
    body = b"sent by curl"
    r = requests.put(url, data=body, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-checksum-crc64nvme"] == crc64nvme(body)
    assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"
    assert plain.head_object(Bucket=bucket, Key="up", ChecksumMode="ENABLED")["ChecksumCRC64NVME"] == crc64nvme(body)


def test_browser_form_upload_gets_the_default(plain, bucket):
    post = plain.generate_presigned_post(bucket, "form")
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f.txt", b"from a form")}, timeout=30)
    assert r.status_code == 204, r.text
    hd = plain.head_object(Bucket=bucket, Key="form", ChecksumMode="ENABLED")
    assert hd["ChecksumCRC64NVME"] == crc64nvme(b"from a form") and hd["ChecksumType"] == "FULL_OBJECT"


def test_both_roads_report_the_default(endpoint, bucket):
    """The short road (fast_path.rs) and s3s's answer alike, default checksum included."""
    body = b"short and long"
    short = send(endpoint, "PUT", f"/{bucket}/s", data=body)
    full = send(endpoint, "PUT", f"/{bucket}/f", data=body, detour=True)
    assert short.status_code == full.status_code == 200
    for r in (short, full):
        assert r.headers["x-amz-checksum-crc64nvme"] == crc64nvme(body)
        assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"
    for method in ("GET", "HEAD"):
        r = both(endpoint, method, f"/{bucket}/s", headers={"x-amz-checksum-mode": "ENABLED"})
        assert r.headers["x-amz-checksum-crc64nvme"] == crc64nvme(body)
        r = both(endpoint, method, f"/{bucket}/s")
        assert "x-amz-checksum-crc64nvme" not in r.headers


def test_get_object_attributes(plain, bucket):
    body = b"attributes"
    plain.put_object(Bucket=bucket, Key="k", Body=body)
    attrs = plain.get_object_attributes(Bucket=bucket, Key="k",
                                        ObjectAttributes=["ETag", "Checksum", "ObjectParts", "ObjectSize", "StorageClass"])
    assert attrs["Checksum"] == {"ChecksumCRC64NVME": crc64nvme(body), "ChecksumType": "FULL_OBJECT"}
    assert attrs["ETag"].strip('"') == hashlib.md5(body).hexdigest()
    assert attrs["ObjectSize"] == len(body) and attrs["StorageClass"] == "STANDARD"
    # A simple object has no parts.
    assert "ObjectParts" not in attrs
    only = plain.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert only["ObjectSize"] == len(body) and "Checksum" not in only and "ETag" not in only
    e = pytest.raises(Exception, plain.get_object_attributes, Bucket=bucket, Key="nope", ObjectAttributes=["ETag"])
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_copy_keeps_or_computes_a_full_object_checksum(plain, bucket):
    body = b"copy me"
    plain.put_object(Bucket=bucket, Key="src", Body=body)
    # "present if the object being copied was uploaded with the CRC64NVME checksum
    # algorithm, or if the object was uploaded without a checksum" (CopyObjectResult).
    r = plain.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["CopyObjectResult"]["ChecksumCRC64NVME"] == crc64nvme(body)
    assert r["CopyObjectResult"]["ChecksumType"] == "FULL_OBJECT"
    assert plain.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")["ChecksumCRC64NVME"] == crc64nvme(body)
    # A source's own algorithm is kept.
    crc32 = plain.put_object(Bucket=bucket, Key="src32", Body=body, ChecksumAlgorithm="CRC32")["ChecksumCRC32"]
    r = plain.copy_object(Bucket=bucket, Key="dst32", CopySource={"Bucket": bucket, "Key": "src32"})
    assert r["CopyObjectResult"]["ChecksumCRC32"] == crc32 and "ChecksumCRC64NVME" not in r["CopyObjectResult"]
    # The request's algorithm wins.
    r = plain.copy_object(Bucket=bucket, Key="dst1", CopySource={"Bucket": bucket, "Key": "src"}, ChecksumAlgorithm="SHA1")
    assert r["CopyObjectResult"]["ChecksumSHA1"] == b64(hashlib.sha1(body).digest())
    hd = plain.head_object(Bucket=bucket, Key="dst1", ChecksumMode="ENABLED")
    assert hd["ChecksumSHA1"] == b64(hashlib.sha1(body).digest()) and "ChecksumCRC64NVME" not in hd


def test_copy_of_a_composite_is_a_direct_checksum(plain, bucket):
    # "With a copy command, the checksum of the copied object is a direct checksum of
    # the full object" ("Checking object integrity").
    mp = plain.create_multipart_upload(Bucket=bucket, Key="m", ChecksumAlgorithm="SHA256")
    part = plain.upload_part(Bucket=bucket, Key="m", UploadId=mp["UploadId"], PartNumber=1, Body=b"only part",
                             ChecksumAlgorithm="SHA256")
    plain.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=mp["UploadId"], MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": part["ETag"], "ChecksumSHA256": part["ChecksumSHA256"]}]})
    r = plain.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "m"})
    want = b64(hashlib.sha256(b"only part").digest())
    assert r["CopyObjectResult"]["ChecksumSHA256"] == want and r["CopyObjectResult"]["ChecksumType"] == "FULL_OBJECT"


def _multipart(client, bucket, key, parts, **create):
    uid = client.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    algorithm = create.get("ChecksumAlgorithm")
    done = []
    for i, data in enumerate(parts, start=1):
        extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
        r = client.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=i, Body=data, **extra)
        entry = {"PartNumber": i, "ETag": r["ETag"]}
        if algorithm:
            entry[f"Checksum{algorithm}"] = r[f"Checksum{algorithm}"]
        done.append(entry)
    return client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={"Parts": done})


def test_multipart_without_an_algorithm_gets_a_full_object_crc64nvme(plain, bucket):
    p1, p2 = os.urandom(5 * MiB), b"the tail"
    want = crc64nvme(p1 + p2)
    done = _multipart(plain, bucket, "m", [p1, p2])
    assert done["ChecksumCRC64NVME"] == want and done["ChecksumType"] == "FULL_OBJECT"
    hd = plain.head_object(Bucket=bucket, Key="m", ChecksumMode="ENABLED")
    assert hd["ChecksumCRC64NVME"] == want and hd["ChecksumType"] == "FULL_OBJECT"
    attrs = plain.get_object_attributes(Bucket=bucket, Key="m", ObjectAttributes=["Checksum", "ObjectParts"])
    assert attrs["Checksum"] == {"ChecksumCRC64NVME": want, "ChecksumType": "FULL_OBJECT"}
    assert attrs["ObjectParts"]["TotalPartsCount"] == 2 and "Parts" not in attrs["ObjectParts"]
    # A full-object checksum describes no single part of several.
    part = plain.get_object(Bucket=bucket, Key="m", PartNumber=2, ChecksumMode="ENABLED")
    assert part["Body"].read() == p2 and "ChecksumCRC64NVME" not in part and "ChecksumType" not in part


def test_part_reads_report_the_part_checksum(plain, bucket):
    p1, p2 = os.urandom(5 * MiB), b"second part"
    c1, c2 = hashlib.sha256(p1).digest(), hashlib.sha256(p2).digest()
    done = _multipart(plain, bucket, "m", [p1, p2], ChecksumAlgorithm="SHA256")
    assert done["ChecksumSHA256"] == b64(hashlib.sha256(c1 + c2).digest()) + "-2"
    for n, (data, digest) in enumerate([(p1, c1), (p2, c2)], start=1):
        hd = plain.head_object(Bucket=bucket, Key="m", PartNumber=n, ChecksumMode="ENABLED")
        assert hd["ChecksumSHA256"] == b64(digest) and hd["ChecksumType"] == "COMPOSITE"
        assert hd["PartsCount"] == 2 and hd["ContentLength"] == len(data)
        got = plain.get_object(Bucket=bucket, Key="m", PartNumber=n, ChecksumMode="ENABLED")
        assert got["ChecksumSHA256"] == b64(digest) and got["ChecksumType"] == "COMPOSITE"
        assert got["Body"].read() == data
    # Without ChecksumMode, nothing.
    assert "ChecksumSHA256" not in plain.head_object(Bucket=bucket, Key="m", PartNumber=1)
    # GetObjectAttributes lists the parts with their checksums, and the object's
    # checksum without its -<parts> suffix.
    attrs = plain.get_object_attributes(Bucket=bucket, Key="m", ObjectAttributes=["Checksum", "ObjectParts"], MaxParts=1)
    assert attrs["Checksum"] == {"ChecksumSHA256": b64(hashlib.sha256(c1 + c2).digest()), "ChecksumType": "COMPOSITE"}
    parts = attrs["ObjectParts"]
    assert parts["TotalPartsCount"] == 2 and parts["IsTruncated"] is True and parts["NextPartNumberMarker"] == 1
    assert parts["Parts"] == [{"PartNumber": 1, "Size": len(p1), "ChecksumSHA256": b64(c1)}]
    rest = plain.get_object_attributes(Bucket=bucket, Key="m", ObjectAttributes=["ObjectParts"], PartNumberMarker=1)
    assert rest["ObjectParts"]["Parts"] == [{"PartNumber": 2, "Size": len(p2), "ChecksumSHA256": b64(c2)}]
    assert rest["ObjectParts"]["IsTruncated"] is False
    # MaxParts=0: an empty page with nothing to go on from, as ListParts answers it.
    none = plain.get_object_attributes(Bucket=bucket, Key="m", ObjectAttributes=["ObjectParts"], MaxParts=0)["ObjectParts"]
    assert none["IsTruncated"] is False and "Parts" not in none and "NextPartNumberMarker" not in none


def test_a_part_that_is_the_whole_object_has_its_checksum(plain, bucket):
    plain.put_object(Bucket=bucket, Key="simple", Body=b"simple")
    hd = plain.head_object(Bucket=bucket, Key="simple", PartNumber=1, ChecksumMode="ENABLED")
    assert hd["ChecksumCRC64NVME"] == crc64nvme(b"simple") and hd["ChecksumType"] == "FULL_OBJECT"
    _multipart(plain, bucket, "one", [b"one part"])
    hd = plain.head_object(Bucket=bucket, Key="one", PartNumber=1, ChecksumMode="ENABLED")
    assert hd["ChecksumCRC64NVME"] == crc64nvme(b"one part") and hd["ChecksumType"] == "FULL_OBJECT"
