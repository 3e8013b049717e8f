"""UploadPartCopy end to end, from AWS's API reference: parts copied from existing
objects (whole, or a byte range with x-amz-copy-source-range), CopyPartResult,
and the errors for bad ranges, missing sources and unknown uploads."""

from __future__ import annotations

import hashlib
import os

import pytest
from botocore.exceptions import ClientError


MIB = 1024 * 1024


def err(call):
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_copy_parts_from_existing_objects(s3, bucket):
    big = os.urandom(6 * MIB)
    small = b"tail bytes"
    s3.put_object(Bucket=bucket, Key="big", Body=big)
    s3.put_object(Bucket=bucket, Key="small", Body=small)
    up = s3.create_multipart_upload(Bucket=bucket, Key="joined")["UploadId"]
    p1 = s3.upload_part_copy(Bucket=bucket, Key="joined", UploadId=up, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "big"}, CopySourceRange=f"bytes=0-{5 * MIB - 1}")
    result = p1["CopyPartResult"]
    assert result["ETag"] == '"%s"' % hashlib.md5(big[:5 * MIB]).hexdigest()
    assert result["LastModified"] is not None
    p2 = s3.upload_part_copy(Bucket=bucket, Key="joined", UploadId=up, PartNumber=2,
                             CopySource=f"{bucket}/small")
    assert p2["CopyPartResult"]["ETag"] == '"%s"' % hashlib.md5(small).hexdigest()
    parts = s3.list_parts(Bucket=bucket, Key="joined", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * MIB), (2, len(small))]
    s3.complete_multipart_upload(Bucket=bucket, Key="joined", UploadId=up, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": result["ETag"]}, {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="joined")["Body"].read() == big[:5 * MIB] + small


def test_range_inside_the_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=up, PartNumber=1,
                        CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange="bytes=2-5")
    assert s3.list_parts(Bucket=bucket, Key="dst", UploadId=up)["Parts"][0]["Size"] == 4


def test_upload_part_copy_errors(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    copy = lambda **kw: s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=up, PartNumber=1,
                                            CopySource={"Bucket": bucket, "Key": kw.pop("src", "src")}, **kw)
    for bad in ["bytes=5-20", "bytes=6-2", "bytes=a-b", "5-6"]:
        assert err(lambda: copy(CopySourceRange=bad)) == ("InvalidArgument", 400), bad
    assert err(lambda: copy(src="missing"))[:2] == ("NoSuchKey", 404)
    assert err(lambda: s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId="nope", PartNumber=1,
                                           CopySource=f"{bucket}/src"))[0] == "NoSuchUpload"
    assert err(lambda: copy(CopySourceIfMatch='"0000"'))[:2] == ("PreconditionFailed", 412)
