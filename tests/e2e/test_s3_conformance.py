"""S3's everyday API through boto3, plain HTTP and the aws CLI, held to AWS's own
documentation (the S3 API Reference pages of each operation, cited where the rule is
not obvious): listings, ranged and part-numbered reads, conditional reads, copies,
multipart bookkeeping, presigned URLs and the CLI's high-level commands."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

import nimbus_helpers as h
from test_s3_basics import code, s3_client, status

MiB = 1024 * 1024


def message(exc):
    return exc.response["Error"].get("Message")


def err(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value


# ---------------------------------------------------------------- listings

def test_list_v1_next_marker_only_with_a_delimiter(s3, bucket):
    # ListObjects, NextMarker: "This element is returned only if you have the delimiter
    # request parameter specified."
    for k in ["a", "b", "c", "d/1", "d/2", "e"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    r = s3.list_objects(Bucket=bucket, MaxKeys=2)
    assert r["IsTruncated"] is True
    assert [o["Key"] for o in r["Contents"]] == ["a", "b"]
    assert "NextMarker" not in r
    r = s3.list_objects(Bucket=bucket, MaxKeys=2, Marker="b")
    assert [o["Key"] for o in r["Contents"]] == ["c", "d/1"] and r["Marker"] == "b"
    r = s3.list_objects(Bucket=bucket, MaxKeys=4, Delimiter="/")
    assert r["IsTruncated"] is True and r["NextMarker"] == "d/"
    r = s3.list_objects(Bucket=bucket, Delimiter="/", Marker="d/")
    assert [o["Key"] for o in r["Contents"]] == ["e"] and "CommonPrefixes" not in r
    assert r["IsTruncated"] is False and "NextMarker" not in r


def test_list_url_encoding_of_keys_and_prefixes(s3, bucket):
    keys = ["sp ace/x", "plus+dir/y", "pct%dir/z", "üñí/w", "top + level%.txt"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    # boto3 asks for EncodingType=url itself and decodes Key, Prefix, Delimiter,
    # StartAfter, Marker and CommonPrefixes: what comes back must be the stored names.
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == sorted(["sp ace/", "plus+dir/", "pct%dir/", "üñí/"])
    assert [o["Key"] for o in r["Contents"]] == ["top + level%.txt"]
    r = s3.list_objects_v2(Bucket=bucket, Prefix="üñí/", StartAfter="pct%dir/z")
    assert r["Prefix"] == "üñí/" and r["StartAfter"] == "pct%dir/z"
    assert [o["Key"] for o in r["Contents"]] == ["üñí/w"]
    r = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert r["NextMarker"] == "plus+dir/"
    # Asked for explicitly, the names stay encoded: nothing outside the unreserved set
    # survives as is.
    r = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Delimiter="/")
    assert r["EncodingType"] == "url"
    for p in r["CommonPrefixes"]:
        assert all(c not in p["Prefix"] for c in " %+ü".replace("%", "")), p
        assert urllib.parse.unquote_plus(p["Prefix"]) in {"sp ace/", "plus+dir/", "pct%dir/", "üñí/"}


def test_list_v2_max_keys_zero_and_over_1000(s3, bucket):
    for k in ["a", "b"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    # max-keys=0: an empty page that is not truncated (AWS, as S3-compatible servers
    # tested against it report; the API reference is silent).
    r = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert r["KeyCount"] == 0 and "Contents" not in r and r["MaxKeys"] == 0
    assert r["IsTruncated"] is False and "NextContinuationToken" not in r
    r = s3.list_objects(Bucket=bucket, MaxKeys=0, Delimiter="/")
    assert "Contents" not in r and r["IsTruncated"] is False and "NextMarker" not in r
    r = s3.list_objects_v2(Bucket=bucket, MaxKeys=5000)
    assert r["KeyCount"] == 2 and r["IsTruncated"] is False


def test_list_v2_continuation_token_wins_over_start_after(s3, bucket):
    for k in ["a", "b", "c", "d"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    r = s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
    assert r["IsTruncated"] and [o["Key"] for o in r["Contents"]] == ["a"] and r["KeyCount"] == 1
    token = r["NextContinuationToken"]
    # ListObjectsV2, StartAfter: "StartAfter can be any key in the bucket"; with a
    # ContinuationToken the token says where to go on (StartAfter is echoed, ignored).
    r = s3.list_objects_v2(Bucket=bucket, ContinuationToken=token, StartAfter="c")
    assert [o["Key"] for o in r["Contents"]] == ["b", "c", "d"]
    assert r["ContinuationToken"] == token and r["StartAfter"] == "c"
    # KeyCount counts CommonPrefixes too.
    s3.put_object(Bucket=bucket, Key="p/1", Body=b"")
    s3.put_object(Bucket=bucket, Key="p/2", Body=b"")
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert r["KeyCount"] == 5


@pytest.mark.parametrize("token", ["not-a-token", "Zm9v", "////"])
def test_list_v2_invalid_continuation_token(s3, bucket, token):
    s3.put_object(Bucket=bucket, Key="a", Body=b"")
    e = err(lambda: s3.list_objects_v2(Bucket=bucket, ContinuationToken=token))
    assert code(e) == "InvalidArgument" and status(e) == 400
    assert message(e) == "The continuation token provided is incorrect"


def test_list_negative_max_keys(endpoint, s3, bucket):
    r = signed(endpoint, "GET", f"/{bucket}?list-type=2&max-keys=-1")
    assert r.status_code == 400 and "<Code>InvalidArgument</Code>" in r.text


# ---------------------------------------------------------------- reads

def signed(endpoint, method, path, headers=None, data=b""):
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method=method, url=f"{endpoint}{path}", data=data, headers=dict(headers or {}))
    req.headers["x-amz-content-sha256"] = hashlib.sha256(data).hexdigest()
    S3SigV4Auth(Credentials("test", "test"), "s3", h.REGION).add_auth(req)
    return requests.request(method, req.url, data=data, headers=dict(req.headers.items()), timeout=30)


@pytest.fixture
def multipart_object(s3, bucket):
    p1, p2 = os.urandom(5 * MiB), os.urandom(1000)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    return p1, p2


def test_get_and_head_by_part_number(s3, bucket, multipart_object):
    p1, p2 = multipart_object
    total = len(p1) + len(p2)
    # GetObject, partNumber: "Effectively performs a 'ranged' GET request for the part
    # specified"; PartsCount "is only returned if you specify partNumber in your request
    # and the object was uploaded as a multipart upload".
    g = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["Body"].read() == p2
    assert g["ContentLength"] == len(p2) and g["PartsCount"] == 2
    assert g["ContentRange"] == f"bytes {len(p1)}-{total - 1}/{total}"
    hd = s3.head_object(Bucket=bucket, Key="mp", PartNumber=1)
    assert hd["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert hd["ContentLength"] == len(p1) and hd["PartsCount"] == 2
    assert hd["ContentRange"] == f"bytes 0-{len(p1) - 1}/{total}"
    plain = s3.head_object(Bucket=bucket, Key="mp")
    assert plain["ContentLength"] == total and "PartsCount" not in plain
    e = err(lambda: s3.get_object(Bucket=bucket, Key="mp", PartNumber=3))
    assert status(e) == 416 and code(e) == "InvalidPartNumber"
    e = err(lambda: s3.get_object(Bucket=bucket, Key="mp", PartNumber=1, Range="bytes=0-1"))
    assert status(e) == 400 and code(e) == "InvalidRequest"


def test_copy_of_a_multipart_object_is_a_simple_object(s3, bucket, multipart_object):
    p1, p2 = multipart_object
    # Object (API reference), ETag: objects created by "the PUT Object, POST Object, or
    # Copy operation" have ETags that are an MD5 digest of their data.
    r = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "mp"})
    md5 = '"%s"' % hashlib.md5(p1 + p2).hexdigest()
    assert r["CopyObjectResult"]["ETag"] == md5
    assert s3.head_object(Bucket=bucket, Key="copy")["ETag"] == md5
    assert "PartsCount" not in s3.head_object(Bucket=bucket, Key="copy", PartNumber=1)
    assert s3.head_object(Bucket=bucket, Key="mp")["ETag"].endswith('-2"')


def test_part_number_on_a_simple_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="one", Body=b"0123456789")
    g = s3.get_object(Bucket=bucket, Key="one", PartNumber=1)
    assert g["Body"].read() == b"0123456789" and "PartsCount" not in g
    e = err(lambda: s3.get_object(Bucket=bucket, Key="one", PartNumber=2))
    assert status(e) == 416 and code(e) == "InvalidPartNumber"


def test_range_edge_cases(endpoint, s3, bucket):
    body = bytes(range(256)) * 4  # 1024 bytes
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    # RFC 9110 byte ranges, which GetObject's Range follows.
    g = s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5000")
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206 and g["Body"].read() == body
    assert g["ContentRange"] == "bytes 0-1023/1024"
    g = s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-")
    assert g["Body"].read() == body[1000:] and g["ContentRange"] == "bytes 1000-1023/1024"
    g = s3.get_object(Bucket=bucket, Key="r", Range="bytes=1020-5000")
    assert g["Body"].read() == body[1020:] and g["ContentRange"] == "bytes 1020-1023/1024"
    r = signed(endpoint, "GET", f"/{bucket}/r", headers={"Range": "bytes=1024-"})
    assert r.status_code == 416 and "<Code>InvalidRange</Code>" in r.text
    assert "The requested range is not satisfiable" in r.text
    # S3's InvalidRange document names the range asked for and the object's size (as
    # LocalStack's snapshots recorded against AWS show).
    assert "<RangeRequested>bytes=1024-</RangeRequested>" in r.text
    assert "<ActualObjectSize>1024</ActualObjectSize>" in r.text
    r = signed(endpoint, "HEAD", f"/{bucket}/r", headers={"Range": "bytes=2000-3000"})
    assert r.status_code == 416 and r.content == b""


def test_conditional_reads_precedence(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"x")["ETag"]
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    # GetObject: If-Match true + If-Unmodified-Since false → 200 and the data.
    for op in (s3.get_object, s3.head_object):
        r = op(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=past)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        # If-None-Match false + If-Modified-Since true → 304 Not Modified.
        e = err(lambda: op(Bucket=bucket, Key="c", IfNoneMatch=etag, IfModifiedSince=past))
        assert status(e) == 304
        e = err(lambda: op(Bucket=bucket, Key="c", IfMatch='"nope"', IfModifiedSince=past))
        assert status(e) == 412
        # RFC 7232 section 3.3, which the S3 API Reference points to: If-Modified-Since is
        # ignored when If-None-Match is present.
        r = op(Bucket=bucket, Key="c", IfNoneMatch='"nope"', IfModifiedSince=future)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_not_modified_carries_the_validators(endpoint, s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ETag"]
    last_modified = s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
    # RFC 7232 section 4.1 (the GetObject reference points to RFC 7232): a 304 carries the
    # ETag a 200 would have, and no body.
    for method in ("GET", "HEAD"):
        r = signed(endpoint, method, f"/{bucket}/k", headers={"If-None-Match": etag})
        assert r.status_code == 304 and r.content == b""
        assert r.headers["ETag"] == etag and r.headers["Last-Modified"] == last_modified


def test_head_errors_have_no_body(endpoint, s3, bucket):
    r = signed(endpoint, "HEAD", f"/{bucket}/missing")
    assert r.status_code == 404 and r.content == b""
    e = err(lambda: s3.head_object(Bucket=bucket, Key="missing"))
    assert code(e) == "404" and message(e) == "Not Found"


# ---------------------------------------------------------------- copies

SELF_COPY = ("This copy request is illegal because it is trying to copy an object to itself without changing "
             "the object's metadata, storage class, website redirect location or encryption attributes.")


def test_copy_onto_itself(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v", Metadata={"a": "1"})
    for extra in ({}, {"MetadataDirective": "COPY"}):
        e = err(lambda: s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"}, **extra))
        assert code(e) == "InvalidRequest" and status(e) == 400 and message(e) == SELF_COPY
    # Changing any of the four named things makes it legal.
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"}, WebsiteRedirectLocation="/other")
    assert s3.head_object(Bucket=bucket, Key="k")["WebsiteRedirectLocation"] == "/other"
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"},
                   MetadataDirective="REPLACE", Metadata={"b": "2"})
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"] == {"b": "2"}


def test_copy_directives_and_result(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"data", ContentType="text/plain", Metadata={"a": "1"},
                  Tagging="t=1")
    r = s3.copy_object(Bucket=bucket, Key="d1", CopySource={"Bucket": bucket, "Key": "src"})
    hd = s3.head_object(Bucket=bucket, Key="d1")
    assert r["CopyObjectResult"]["ETag"] == hd["ETag"]
    # HEAD's Last-Modified is an HTTP date (whole seconds); the copy result's is not.
    assert abs((r["CopyObjectResult"]["LastModified"] - hd["LastModified"]).total_seconds()) < 1
    # TaggingDirective: COPY (the default) keeps the source's tags, REPLACE takes the request's.
    assert s3.get_object_tagging(Bucket=bucket, Key="d1")["TagSet"] == [{"Key": "t", "Value": "1"}]
    s3.copy_object(Bucket=bucket, Key="d2", CopySource={"Bucket": bucket, "Key": "src"},
                   TaggingDirective="REPLACE", Tagging="n=2")
    assert s3.get_object_tagging(Bucket=bucket, Key="d2")["TagSet"] == [{"Key": "n", "Value": "2"}]
    s3.copy_object(Bucket=bucket, Key="d3", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="REPLACE")
    assert s3.get_object_tagging(Bucket=bucket, Key="d3")["TagSet"] == []
    # MetadataDirective REPLACE takes the request's metadata and content headers only.
    s3.copy_object(Bucket=bucket, Key="d4", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"z": "9"})
    hd = s3.head_object(Bucket=bucket, Key="d4")
    assert hd["Metadata"] == {"z": "9"} and hd["ContentType"] != "text/plain"


def test_copy_source_conditions_precedence(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"data")["ETag"]
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    src = {"Bucket": bucket, "Key": "src"}
    # CopyObject: if-match true + if-unmodified-since false → 200 and the copy.
    s3.copy_object(Bucket=bucket, Key="a", CopySource=src, CopySourceIfMatch=etag, CopySourceIfUnmodifiedSince=past)
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"data"
    # if-none-match false + if-modified-since true → 412.
    e = err(lambda: s3.copy_object(Bucket=bucket, Key="b", CopySource=src, CopySourceIfNoneMatch=etag,
                                   CopySourceIfModifiedSince=past))
    assert status(e) == 412 and code(e) == "PreconditionFailed"
    e = err(lambda: s3.copy_object(Bucket=bucket, Key="b", CopySource=src, CopySourceIfModifiedSince=future))
    assert status(e) == 412
    e = err(lambda: s3.copy_object(Bucket=bucket, Key="b", CopySource=src, CopySourceIfMatch='"nope"'))
    assert status(e) == 412


def test_copy_with_encoded_keys_and_versions(endpoint, s3, bucket):
    key = "dir one/a+b%c ü.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"odd")
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"odd"
    # The raw header: CopyObject, x-amz-copy-source "must be URL-encoded".
    r = signed(endpoint, "PUT", f"/{bucket}/raw-copy",
               headers={"x-amz-copy-source": "/" + urllib.parse.quote(f"{bucket}/{key}")})
    assert r.status_code == 200, r.text
    assert "<CopyObjectResult" in r.text
    assert s3.get_object(Bucket=bucket, Key="raw-copy")["Body"].read() == b"odd"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="v", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="v", Body=b"two")
    r = s3.copy_object(Bucket=bucket, Key="v-copy", CopySource={"Bucket": bucket, "Key": "v", "VersionId": v1})
    assert r["CopySourceVersionId"] == v1
    assert s3.get_object(Bucket=bucket, Key="v-copy")["Body"].read() == b"one"
    # Copying an old version onto its own key restores it (the key changes version).
    s3.copy_object(Bucket=bucket, Key="v", CopySource={"Bucket": bucket, "Key": "v", "VersionId": v1})
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == b"one"
    e = err(lambda: s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "v", "VersionId": "nope"}))
    assert status(e) in (400, 404)


# ---------------------------------------------------------------- multipart

def test_list_parts_pagination(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    for n in (1, 2, 3, 5):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n, Body=b"p%d" % n)
    r = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid, MaxParts=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [1, 2]
    assert r["IsTruncated"] is True and r["NextPartNumberMarker"] == 2 and r["MaxParts"] == 2
    r = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid, MaxParts=2, PartNumberMarker=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [3, 5] and r["PartNumberMarker"] == 2
    assert r["IsTruncated"] is False
    pages = s3.get_paginator("list_parts").paginate(Bucket=bucket, Key="k", UploadId=uid, PaginationConfig={"PageSize": 1})
    assert [p["PartNumber"] for page in pages for p in page.get("Parts", [])] == [1, 2, 3, 5]
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=uid, PartNumberMarker=5).get("Parts", []) == []


def test_list_multipart_uploads_prefix_delimiter_markers(s3, bucket):
    ids = {}
    for k in ["a/1", "a/2", "b", "b", "c/x/1"]:
        ids.setdefault(k, []).append(s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"])
    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in r.get("Uploads", [])] == ["b", "b"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "c/"]
    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="c/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["c/x/"] and "Uploads" not in r
    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")
    assert [u["Key"] for u in r["Uploads"]] == ["a/1", "a/2"]
    # Paging one at a time with KeyMarker/UploadIdMarker visits every upload once.
    seen, km, um = [], None, None
    while True:
        kw = {"KeyMarker": km} if km is not None else {}
        if um:
            kw["UploadIdMarker"] = um
        r = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1, **kw)
        seen += [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]
        if not r["IsTruncated"]:
            break
        km, um = r["NextKeyMarker"], r["NextUploadIdMarker"]
    assert sorted(seen) == sorted((k, i) for k, v in ids.items() for i in v)
    # key-marker alone: only keys after it.
    r = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="b")
    assert [u["Key"] for u in r["Uploads"]] == ["c/x/1"]


def test_list_multipart_uploads_max_uploads_zero(cli, s3, bucket):
    # max-uploads=0 asks for nothing: an empty page that is not truncated and names no
    # markers, as ListObjects answers max-keys=0 (test_list_v2_max_keys_zero_and_over_1000).
    # The API reference is silent; MinIO, built to S3's behaviour, answers "an empty
    # response if maxUploads is zero" (its fs-v1 ListMultipartUploads). A truncated page
    # without NextKeyMarker could never be continued.
    for k in ["a", "b/c"]:
        s3.create_multipart_upload(Bucket=bucket, Key=k)
    for kw in ({}, {"Delimiter": "/"}):
        r = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=0, **kw)
        assert r["MaxUploads"] == 0 and r["IsTruncated"] is False
        assert "Uploads" not in r and "CommonPrefixes" not in r
        assert "NextKeyMarker" not in r and "NextUploadIdMarker" not in r
    out = json.loads(cli("s3api", "list-multipart-uploads", "--bucket", bucket, "--max-uploads", "0",
                         "--no-paginate", "--output", "json").stdout)
    assert out["IsTruncated"] is False and "Uploads" not in out and out["MaxUploads"] == 0
    # Any other size still pages.
    r = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1)
    assert r["IsTruncated"] is True and r["NextKeyMarker"] == "a" and len(r["Uploads"]) == 1


def test_list_parts_max_parts_zero(s3, bucket):
    # As max-uploads=0 above: an empty page, not truncated, with no marker to go on from.
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    for n in (1, 2):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n, Body=b"x")
    r = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid, MaxParts=0)
    assert r["MaxParts"] == 0 and r["IsTruncated"] is False and "Parts" not in r
    r = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid, MaxParts=1)
    assert r["IsTruncated"] is True and r["NextPartNumberMarker"] == 1 and len(r["Parts"]) == 1


def test_get_object_attributes_etag_is_unquoted(cli, s3, bucket, multipart_object):
    # GetObjectAttributes, ETag: the entity tag as S3 keeps it, without the quotes the
    # ETag header and listings carry (moto's test_s3_object_attributes.py, test_get_etag:
    # "etag comes with quotes originally"; LocalStack's AWS-validated
    # test_get_object_attributes snapshot).
    body = b"attributes"
    put = s3.put_object(Bucket=bucket, Key="simple", Body=body)
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    attrs = s3.get_object_attributes(Bucket=bucket, Key="simple", ObjectAttributes=["ETag", "ObjectSize"])
    assert attrs["ETag"] == hashlib.md5(body).hexdigest() and attrs["ObjectSize"] == len(body)
    head = s3.head_object(Bucket=bucket, Key="mp")["ETag"]
    attrs = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ETag", "ObjectParts"])
    assert head.startswith('"') and attrs["ETag"] == head.strip('"') and attrs["ETag"].endswith("-2")
    out = json.loads(cli("s3api", "get-object-attributes", "--bucket", bucket, "--key", "simple",
                         "--object-attributes", "ETag", "--output", "json").stdout)
    assert out["ETag"] == hashlib.md5(body).hexdigest()


def test_complete_and_upload_part_errors(endpoint, s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"x")["ETag"]
    e = err(lambda: s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)}]}))
    assert code(e) == "InvalidPart" and status(e) == 400
    body = b'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></CompleteMultipartUpload>'
    r = signed(endpoint, "POST", f"/{bucket}/k?uploadId={uid}", data=body)
    assert r.status_code == 400 and "<Code>MalformedXML</Code>" in r.text
    for n in (0, 10001):
        e = err(lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n, Body=b"x"))
        assert code(e) == "InvalidArgument" and status(e) == 400
        assert message(e) == "Part number must be an integer between 1 and 10000, inclusive"
    e = err(lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId="bogus", PartNumber=1, Body=b"x"))
    assert code(e) == "NoSuchUpload" and status(e) == 404
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k2")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="k2", UploadId=uid)
    e = err(lambda: s3.upload_part(Bucket=bucket, Key="k2", UploadId=uid, PartNumber=1, Body=b"x"))
    assert code(e) == "NoSuchUpload" and status(e) == 404


def b64(d: bytes) -> str:
    return base64.b64encode(d).decode()


def test_put_object_checksum_round_trip(s3, bucket):
    body = b"checksummed"
    r = s3.put_object(Bucket=bucket, Key="c", Body=body, ChecksumAlgorithm="SHA256")
    want = b64(hashlib.sha256(body).digest())
    assert r["ChecksumSHA256"] == want
    # GetObject/HeadObject, x-amz-checksum-mode: ENABLED returns the stored checksum.
    hd = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert hd["ChecksumSHA256"] == want
    g = s3.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert g["ChecksumSHA256"] == want and g["Body"].read() == body
    assert "ChecksumSHA256" not in s3.head_object(Bucket=bucket, Key="c")


def test_header_checksum_must_match_the_body(endpoint, s3, bucket):
    # "Checking object integrity": a checksum that does not match the data is BadDigest,
    # and nothing is stored.
    r = signed(endpoint, "PUT", f"/{bucket}/bad", headers={"x-amz-checksum-crc32": "AAAAAA=="}, data=b"abc")
    assert r.status_code == 400 and "<Code>BadDigest</Code>" in r.text
    assert "The CRC32 you specified did not match the calculated checksum." in r.text
    assert status(err(lambda: s3.head_object(Bucket=bucket, Key="bad"))) == 404
    e = err(lambda: s3.put_object(Bucket=bucket, Key="bad", Body=b"abc", ChecksumSHA256=b64(b"x" * 32)))
    assert code(e) == "BadDigest"
    uid = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    e = err(lambda: s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=1, Body=b"abc", ChecksumCRC32="AAAAAA=="))
    assert code(e) == "BadDigest"
    good = b64(hashlib.sha256(b"abc").digest())
    assert s3.put_object(Bucket=bucket, Key="ok", Body=b"abc", ChecksumSHA256=good)["ChecksumSHA256"] == good


def test_multipart_composite_checksum(s3, bucket):
    mp = s3.create_multipart_upload(Bucket=bucket, Key="m", ChecksumAlgorithm="SHA256")
    assert mp["ChecksumAlgorithm"] == "SHA256"
    uid = mp["UploadId"]
    p1, p2 = os.urandom(5 * MiB), b"tail"
    c1, c2 = hashlib.sha256(p1).digest(), hashlib.sha256(p2).digest()
    r1 = s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=1, Body=p1, ChecksumAlgorithm="SHA256")
    r2 = s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=2, Body=p2, ChecksumAlgorithm="SHA256")
    assert r1["ChecksumSHA256"] == b64(c1) and r2["ChecksumSHA256"] == b64(c2)
    parts = s3.list_parts(Bucket=bucket, Key="m", UploadId=uid)["Parts"]
    assert [p.get("ChecksumSHA256") for p in parts] == [b64(c1), b64(c2)]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r1["ETag"], "ChecksumSHA256": b64(c1)},
        {"PartNumber": 2, "ETag": r2["ETag"], "ChecksumSHA256": b64(c2)},
    ]})
    # "Checking object integrity": the checksum of the checksums, with -<parts>.
    composite = b64(hashlib.sha256(c1 + c2).digest()) + "-2"
    assert done["ChecksumSHA256"] == composite
    hd = s3.head_object(Bucket=bucket, Key="m", ChecksumMode="ENABLED")
    assert hd["ChecksumSHA256"] == composite


def test_multipart_full_object_checksum(s3, bucket):
    import struct
    import zlib

    def crc32(d):
        return b64(struct.pack(">I", zlib.crc32(d)))

    # "Checking object integrity": CRC checksums of multipart uploads may be FULL_OBJECT,
    # the checksum of the whole object (no -N); the SHAs may not.
    e = err(lambda: s3.create_multipart_upload(Bucket=bucket, Key="x", ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT"))
    assert code(e) == "InvalidRequest"
    assert message(e) == "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."
    mp = s3.create_multipart_upload(Bucket=bucket, Key="f", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    assert mp["ChecksumType"] == "FULL_OBJECT"
    uid = mp["UploadId"]
    p1, p2 = os.urandom(5 * MiB), b"tail"
    r1 = s3.upload_part(Bucket=bucket, Key="f", UploadId=uid, PartNumber=1, Body=p1, ChecksumAlgorithm="CRC32")
    r2 = s3.upload_part(Bucket=bucket, Key="f", UploadId=uid, PartNumber=2, Body=p2, ChecksumAlgorithm="CRC32")
    parts = [{"PartNumber": 1, "ETag": r1["ETag"]}, {"PartNumber": 2, "ETag": r2["ETag"]}]
    e = err(lambda: s3.complete_multipart_upload(Bucket=bucket, Key="f", UploadId=uid, ChecksumCRC32=crc32(b"other"),
                                                 ChecksumType="FULL_OBJECT", MultipartUpload={"Parts": parts}))
    assert code(e) == "BadDigest"
    done = s3.complete_multipart_upload(Bucket=bucket, Key="f", UploadId=uid, ChecksumCRC32=crc32(p1 + p2),
                                        ChecksumType="FULL_OBJECT", MultipartUpload={"Parts": parts})
    assert done["ChecksumCRC32"] == crc32(p1 + p2) and done["ChecksumType"] == "FULL_OBJECT"
    hd = s3.head_object(Bucket=bucket, Key="f", ChecksumMode="ENABLED")
    assert hd["ChecksumCRC32"] == crc32(p1 + p2) and hd["ChecksumType"] == "FULL_OBJECT"
    # boto3 checks a full-object checksum on download.
    assert s3.get_object(Bucket=bucket, Key="f")["Body"].read() == p1 + p2


# ---------------------------------------------------------------- presigned URLs

def test_presigned_expiry_over_a_week(endpoint, bucket):
    signer = s3_client(endpoint, sig="s3v4")
    signer.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604801)
    r = requests.get(url)
    assert r.status_code == 400 and "<Code>AuthorizationQueryParametersError</Code>" in r.text
    assert ("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
            "must be less than 604800 seconds") in r.text
    url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604800)
    assert requests.get(url).status_code == 200


def test_presigned_put_with_signed_content_type(endpoint, bucket):
    signer = s3_client(endpoint, sig="s3v4")
    url = signer.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "img", "ContentType": "image/png"},
                                        ExpiresIn=300)
    r = requests.put(url, data=b"png", headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text
    r = requests.put(url, data=b"png", headers={"Content-Type": "image/png"})
    assert r.status_code == 200
    assert signer.head_object(Bucket=bucket, Key="img")["ContentType"] == "image/png"


def test_sigv2_presigned_expired_and_tampered(endpoint, bucket):
    v2 = s3_client(endpoint)  # boto3's default presigner for S3 is SigV2 (query "Signature")
    v2.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    assert "Signature=" in url and "X-Amz-Signature" not in url
    assert requests.get(url).status_code == 200
    r = requests.get(url.replace("/k?", "/other?"))
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text
    expired = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=-10)
    r = requests.get(expired)
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text and "Request has expired" in r.text


def test_sigv4_presigned_expired_message(endpoint, bucket):
    signer = s3_client(endpoint, sig="s3v4")
    signer.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1)
    time.sleep(2)
    r = requests.get(url)
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text and "Request has expired" in r.text


# ---------------------------------------------------------------- the aws CLI

@pytest.fixture
def cli(endpoint, aws_env):
    exe = h.aws_executable()
    if not exe:
        pytest.skip("the aws CLI is not installed")

    def run(*args, check=True):
        p = subprocess.run([exe, *args, "--endpoint-url", endpoint], capture_output=True, text=True, env=aws_env, timeout=120)
        if check:
            assert p.returncode == 0, p.stderr
        return p

    return run


def test_cli_sync_delete_exclude_include(cli, s3, bucket, tmp_path):
    src = tmp_path / "src"
    (src / "logs").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "b.log").write_text("B")
    (src / "logs" / "keep.txt").write_text("K")
    # S3's LastModified is to the second: a file written in the second of its upload
    # would look newer than its object to the next sync (on AWS too).
    past = time.time() - 3600
    for f in ("a.txt", "b.log", "logs/keep.txt"):
        os.utime(src / f, (past, past))
    cli("s3", "sync", str(src), f"s3://{bucket}/t", "--exclude", "*.log")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert keys == ["t/a.txt", "t/logs/keep.txt"]
    cli("s3", "sync", str(src), f"s3://{bucket}/t", "--exclude", "*", "--include", "*.log")
    assert "t/b.log" in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    # A second sync with nothing changed uploads nothing.
    p = cli("s3", "sync", str(src), f"s3://{bucket}/t")
    assert "upload:" not in p.stdout
    (src / "a.txt").unlink()
    p = cli("s3", "sync", str(src), f"s3://{bucket}/t", "--delete")
    assert f"delete: s3://{bucket}/t/a.txt" in p.stdout
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["t/b.log", "t/logs/keep.txt"]
    back = tmp_path / "back"
    cli("s3", "sync", f"s3://{bucket}/t", str(back))
    assert (back / "logs" / "keep.txt").read_text() == "K"


def test_cli_mv_rm_ls(cli, s3, bucket, tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("hello")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    cli("s3", "cp", str(empty), f"s3://{bucket}/dir/empty")
    assert s3.head_object(Bucket=bucket, Key="dir/empty")["ContentLength"] == 0
    cli("s3", "mv", str(f), f"s3://{bucket}/dir/f.txt")
    assert not f.exists()
    cli("s3", "mv", f"s3://{bucket}/dir/f.txt", f"s3://{bucket}/other/g.txt")
    assert s3.get_object(Bucket=bucket, Key="other/g.txt")["Body"].read() == b"hello"
    err_ = err(lambda: s3.head_object(Bucket=bucket, Key="dir/f.txt"))
    assert status(err_) == 404
    out = cli("s3", "ls", f"s3://{bucket}", "--recursive", "--human-readable", "--summarize").stdout
    assert "Total Objects: 2" in out and "Total Size: 5 Bytes" in out
    assert "other/g.txt" in out and "5 Bytes" in out
    out = cli("s3", "ls", f"s3://{bucket}/").stdout
    assert "PRE dir/" in out and "PRE other/" in out
    cli("s3", "rm", f"s3://{bucket}/", "--recursive")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_cli_large_cp_and_presign(cli, s3, bucket, tmp_path):
    big = tmp_path / "big.bin"
    data = os.urandom(9 * MiB)
    big.write_bytes(data)
    cli("s3", "cp", str(big), f"s3://{bucket}/big.bin")
    hd = s3.head_object(Bucket=bucket, Key="big.bin")
    assert hd["ContentLength"] == len(data) and hd["ETag"].endswith('-2"')  # 8 MiB chunks
    url = cli("s3", "presign", f"s3://{bucket}/big.bin", "--expires-in", "300").stdout.strip()
    r = requests.get(url)
    assert r.status_code == 200 and r.content == data
    # Server-side copies: over the CLI's 8 MiB threshold they are UploadPartCopy ranges.
    cli("s3", "cp", f"s3://{bucket}/big.bin", f"s3://{bucket}/copy/big.bin")
    cli("s3", "mv", f"s3://{bucket}/copy/big.bin", f"s3://{bucket}/moved/big.bin")
    assert s3.get_object(Bucket=bucket, Key="moved/big.bin")["Body"].read() == data
    assert s3.list_objects_v2(Bucket=bucket, Prefix="copy/")["KeyCount"] == 0
    cli("s3", "sync", f"s3://{bucket}/moved", f"s3://{bucket}/synced")
    assert s3.head_object(Bucket=bucket, Key="synced/big.bin")["ContentLength"] == len(data)
    back = tmp_path / "back.bin"
    cli("s3", "cp", f"s3://{bucket}/synced/big.bin", str(back))
    assert back.read_bytes() == data


def test_cli_head_object_missing(cli, bucket):
    p = cli("s3api", "head-object", "--bucket", bucket, "--key", "nope", check=False)
    assert p.returncode in (254, 255)  # 255 in CLI v1, 254 (service error) in v2
    assert "An error occurred (404) when calling the HeadObject operation: Not Found" in p.stderr
    p = cli("s3api", "get-object", "--bucket", bucket, "--key", "nope", "/dev/null", check=False)
    assert "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist." in p.stderr


# ---------------------------------------------------------------- round two

def test_complete_with_part_number_below_one(endpoint, s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"x")["ETag"]
    body = (f'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>{etag}</ETag>'
            f'<PartNumber>0</PartNumber></Part></CompleteMultipartUpload>').encode()
    r = signed(endpoint, "POST", f"/{bucket}/k?uploadId={uid}", data=body)
    assert r.status_code == 400 and "<Code>InvalidArgument</Code>" in r.text, r.text


def test_ranges_s3_does_not_serve(endpoint, s3, bucket):
    body = b"0123456789"
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    # GetObject, Range: "Amazon S3 doesn't support retrieving multiple ranges of data per
    # GET request" -- RFC 9110 lets a server ignore a Range it does not serve: 200 and
    # the whole object.
    r = signed(endpoint, "GET", f"/{bucket}/r", headers={"Range": "bytes=0-1,5-6"})
    assert r.status_code == 200 and r.content == body
    r = signed(endpoint, "GET", f"/{bucket}/r", headers={"Range": "bytes=abc"})
    assert r.status_code == 200 and r.content == body


def test_ranges_s3_does_not_serve_on_every_road(endpoint, s3, bucket):
    # As above, for GETs that carry more than the SDKs' usual headers (an extra
    # signed header, a response-* override), for HEAD, and for presigned URLs, whose
    # signature does not cover a Range the browser adds.
    body = b"0123456789"
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    for rng in ["bytes=0-1,5-6", "bytes=abc"]:
        r = signed(endpoint, "GET", f"/{bucket}/r", headers={"Range": rng, "x-example-trace": "1"})
        assert (r.status_code, r.content) == (200, body), r.text
        r = signed(endpoint, "GET", f"/{bucket}/r?response-content-type=text%2Fplain", headers={"Range": rng})
        assert (r.status_code, r.content, r.headers["Content-Type"]) == (200, body, "text/plain"), r.text
        r = signed(endpoint, "HEAD", f"/{bucket}/r", headers={"Range": rng, "x-example-trace": "1"})
        assert (r.status_code, r.headers["Content-Length"]) == (200, "10")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "r"}, ExpiresIn=300)
        r = requests.get(url, headers={"Range": rng}, timeout=30)
        assert (r.status_code, r.content) == (200, body), r.text
    # A Range S3 serves still gets 206 on those roads.
    r = signed(endpoint, "GET", f"/{bucket}/r", headers={"Range": "bytes=2-4", "x-example-trace": "1"})
    assert (r.status_code, r.content, r.headers["Content-Range"]) == (206, b"234", "bytes 2-4/10")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "r"}, ExpiresIn=300)
    r = requests.get(url, headers={"Range": "bytes=-3"}, timeout=30)
    assert (r.status_code, r.content) == (206, b"789")


def test_unserved_range_signed_into_a_presigned_url(endpoint, bucket, s3):
    # A presigned URL whose signature covers the Range header itself (botocore's
    # query signer signs every header the request carries). S3 ignores a Range it does
    # not serve; the signature still has to hold for the Range as sent.
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = b"0123456789"
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    for rng in ["bytes=0-1,5-6", "bytes=abc"]:
        req = AWSRequest(method="GET", url=f"{endpoint}/{bucket}/r", headers={"Range": rng})
        S3SigV4QueryAuth(Credentials("test", "test"), "s3", h.REGION, expires=300).add_auth(req)
        assert "range" in req.url.lower().split("x-amz-signedheaders=")[1].split("&")[0]
        r = requests.get(req.url, headers={"Range": rng}, timeout=30)
        assert (r.status_code, r.content) == (200, body), r.text
        r = requests.get(req.url, headers={"Range": "bytes=0-1,7-8"}, timeout=30)
        assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text, r.text


def test_unserved_range_does_not_excuse_a_bad_signature(endpoint, bucket, s3):
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    req = AWSRequest(method="GET", url=f"{endpoint}/{bucket}/r",
                     headers={"Range": "bytes=0-1,5-6", "x-example-trace": "1"})
    req.headers["x-amz-content-sha256"] = hashlib.sha256(b"").hexdigest()
    S3SigV4Auth(Credentials("test", "test"), "s3", h.REGION).add_auth(req)
    headers = dict(req.headers.items())
    headers["x-example-trace"] = "2"  # changed after signing
    r = requests.get(req.url, headers=headers, timeout=30)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text, r.text


def test_list_v1_owner(s3, bucket):
    # ListObjects (v1) Contents carry Owner; ListObjectsV2 only with FetchOwner.
    s3.put_object(Bucket=bucket, Key="a", Body=b"")
    assert "ID" in s3.list_objects(Bucket=bucket)["Contents"][0]["Owner"]
    assert "Owner" not in s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert "ID" in s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]["Owner"]


def test_copy_object_bad_directives(endpoint, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    r = signed(endpoint, "PUT", f"/{bucket}/dst",
               headers={"x-amz-copy-source": f"/{bucket}/src", "x-amz-metadata-directive": "MOVE"})
    assert r.status_code == 400 and "<Code>InvalidArgument</Code>" in r.text, r.text
    r = signed(endpoint, "PUT", f"/{bucket}/dst", headers={"x-amz-copy-source": f"/{bucket}"})
    assert r.status_code == 400 and "<Code>InvalidArgument</Code>" in r.text, r.text


def test_anonymous_response_overrides_refused(strict_server):
    # GetObject: response-* overrides "cannot be used with an unsigned (anonymous) request".
    s3 = s3_client(strict_server.endpoint)
    name = f"pub-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.delete_public_access_block(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
                                             f'"Action":"s3:GetObject","Resource":"arn:aws:s3:::{name}/*"}}]}}')
    s3.put_object(Bucket=name, Key="k", Body=b"public")
    r = requests.get(f"{strict_server.endpoint}/{name}/k")
    assert r.status_code == 200 and r.content == b"public"
    r = requests.get(f"{strict_server.endpoint}/{name}/k?response-content-type=text/html")
    assert r.status_code == 400 and "<Code>InvalidRequest</Code>" in r.text
    assert "Request specific response headers cannot be used for anonymous GET requests." in r.text
    signed_url = s3_client(strict_server.endpoint, sig="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": name, "Key": "k", "ResponseContentType": "text/html"})
    r = requests.get(signed_url)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html"


def test_checksum_validation_by_boto3_on_download(s3, bucket, tmp_path):
    # boto3 asks for checksums on GetObject and checks what comes back: a wrong or
    # partial-range checksum would break ordinary downloads.
    data = os.urandom(3 * MiB)
    s3.put_object(Bucket=bucket, Key="d", Body=data, ChecksumAlgorithm="CRC32")
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == data
    assert s3.get_object(Bucket=bucket, Key="d", Range="bytes=10-20", ChecksumMode="ENABLED")["Body"].read() == data[10:21]
    dst = tmp_path / "d"
    s3.download_file(bucket, "d", str(dst))
    assert dst.read_bytes() == data
    hd = s3.head_object(Bucket=bucket, Key="d", ChecksumMode="ENABLED")
    assert hd["ChecksumType"] == "FULL_OBJECT" and "ChecksumCRC32" in hd


def test_version_ids_that_do_not_exist(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v)["Body"].read() == b"x"
    # GetObject: an id that is not one of S3's is "Invalid version id specified" (400);
    # a well-formed id of no version of the key is NoSuchVersion (404).
    e = err(lambda: s3.get_object(Bucket=bucket, Key="k", VersionId="nope"))
    assert status(e) == 400 and code(e) == "InvalidArgument"
    e = err(lambda: s3.head_object(Bucket=bucket, Key="k", VersionId="nope"))
    assert status(e) == 400


@pytest.mark.own_server
def test_parts_and_checksums_survive_a_restart(nimbus_factory):
    srv = nimbus_factory()
    s3 = s3_client(srv.endpoint)
    s3.create_bucket(Bucket="keep")
    s3.put_object(Bucket="keep", Key="simple", Body=b"abc", ChecksumAlgorithm="SHA256")
    uid = s3.create_multipart_upload(Bucket="keep", Key="done", ChecksumAlgorithm="SHA1")["UploadId"]
    p1, p2 = os.urandom(5 * MiB), b"end"
    e1 = s3.upload_part(Bucket="keep", Key="done", UploadId=uid, PartNumber=1, Body=p1, ChecksumAlgorithm="SHA1")
    e2 = s3.upload_part(Bucket="keep", Key="done", UploadId=uid, PartNumber=2, Body=p2, ChecksumAlgorithm="SHA1")
    s3.complete_multipart_upload(Bucket="keep", Key="done", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": e1["ETag"]}, {"PartNumber": 2, "ETag": e2["ETag"]}]})
    pending = s3.create_multipart_upload(Bucket="keep", Key="pending", ChecksumAlgorithm="CRC32")["UploadId"]
    s3.upload_part(Bucket="keep", Key="pending", UploadId=pending, PartNumber=1, Body=b"x", ChecksumAlgorithm="CRC32")
    srv.restart()
    s3 = s3_client(srv.endpoint)
    want = b64(hashlib.sha256(b"abc").digest())
    assert s3.head_object(Bucket="keep", Key="simple", ChecksumMode="ENABLED")["ChecksumSHA256"] == want
    composite = b64(hashlib.sha1(hashlib.sha1(p1).digest() + hashlib.sha1(p2).digest()).digest()) + "-2"
    assert s3.head_object(Bucket="keep", Key="done", ChecksumMode="ENABLED")["ChecksumSHA1"] == composite
    g = s3.get_object(Bucket="keep", Key="done", PartNumber=2)
    assert g["Body"].read() == p2 and g["PartsCount"] == 2
    parts = s3.list_parts(Bucket="keep", Key="pending", UploadId=pending)
    assert parts["ChecksumAlgorithm"] == "CRC32" and "ChecksumCRC32" in parts["Parts"][0]


def test_objects_report_default_encryption(s3, bucket):
    # S3 User Guide, "Using server-side encryption with Amazon S3 managed keys": since
    # January 5, 2023 every new object is encrypted with SSE-S3, reported in the
    # x-amz-server-side-encryption response header.
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"
    assert s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"})["ServerSideEncryption"] == "AES256"
    mp = s3.create_multipart_upload(Bucket=bucket, Key="m")
    assert mp["ServerSideEncryption"] == "AES256"
    part = s3.upload_part(Bucket=bucket, Key="m", UploadId=mp["UploadId"], PartNumber=1, Body=b"p")
    assert part["ServerSideEncryption"] == "AES256"
    done = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=mp["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["ServerSideEncryption"] == "AES256"
    # A KMS request is reported as asked; a method S3 does not have is refused.
    r = s3.put_object(Bucket=bucket, Key="kms", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/mine")
    assert r["ServerSideEncryption"] == "aws:kms" and r["SSEKMSKeyId"] == "alias/mine"
    hd = s3.head_object(Bucket=bucket, Key="kms")
    assert hd["ServerSideEncryption"] == "aws:kms" and hd["SSEKMSKeyId"] == "alias/mine"
    e = err(lambda: s3.put_object(Bucket=bucket, Key="bad", Body=b"x", ServerSideEncryption="ROT13"))
    assert code(e) == "InvalidArgument" and message(e) == "The encryption method specified is not supported"
    # Copying onto itself with encryption named is a change (aws s3 cp --sse).
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"}, ServerSideEncryption="AES256")


@pytest.mark.parametrize("query, message_text", [
    ("?list-type=2&encoding-type=base64", "Invalid Encoding Method specified in Request"),
    ("?encoding-type=base64", "Invalid Encoding Method specified in Request"),
    ("?uploads&encoding-type=base64", "Invalid Encoding Method specified in Request"),
    ("?uploads&max-uploads=-1", "Argument max-uploads must be an integer between 0 and 2147483647"),
])
def test_list_parameters_out_of_range(endpoint, s3, bucket, query, message_text):
    r = signed(endpoint, "GET", f"/{bucket}{query}")
    assert r.status_code == 400 and "<Code>InvalidArgument</Code>" in r.text and message_text in r.text


def test_list_parts_negative_max_parts(endpoint, s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    r = signed(endpoint, "GET", f"/{bucket}/m?uploadId={uid}&max-parts=-1")
    assert r.status_code == 400 and "<Code>InvalidArgument</Code>" in r.text
    assert "Argument max-parts must be an integer between 0 and 2147483647" in r.text
