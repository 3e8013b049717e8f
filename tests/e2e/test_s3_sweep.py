"""A conformance sweep of S3 through real clients: behaviour found to differ from
AWS's documentation, each test citing the page it was written from."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

import nimbus_helpers as h
from test_s3_acl import acl_bucket


def error_of(call):
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message")


@pytest.fixture
def queue(sqs, make_queue, queue_arn):
    url = make_queue("sweep")
    return url, h.allow_s3_notifications(sqs, url)


def records(sqs, url, n, timeout=10.0):
    """The first record of n event messages (not the s3:TestEvent), in sequencer order."""
    msgs = h.receive_all(sqs, url, expected=n, timeout=timeout)
    bodies = [json.loads(m["Body"]) for m in msgs]
    recs = [b["Records"][0] for b in bodies if "Records" in b]
    assert len(recs) == n, bodies
    return sorted(recs, key=lambda r: r["s3"]["object"]["sequencer"])


def listen(s3, sqs, bucket, queue, events, cid="sweep"):
    """Configures `events` to the queue and drains the s3:TestEvent."""
    url, arn = queue
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{"Id": cid, "QueueArn": arn, "Events": list(events)}]}
    )
    test_event = h.receive_all(sqs, url, expected=1, timeout=10)
    assert len(test_event) == 1 and json.loads(test_event[0]["Body"])["Event"] == "s3:TestEvent"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=test_event[0]["ReceiptHandle"])
    return url


def assert_no_message(sqs, url):
    r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
    assert r.get("Messages", []) == [], [m["Body"] for m in r["Messages"]]


# --------------------------------------------------------------------------
# User-defined metadata is limited to 2 KB.
#
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html
#   "Within the PUT request header, the user-defined metadata is limited to 2 KB in
#   size. The size of user-defined metadata is measured by taking the sum of the
#   number of bytes in the UTF-8 encoding of each key and value."
# https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
#   MetadataTooLarge: "Your metadata headers exceed the maximum allowed metadata
#   size." 400 Bad Request.
# --------------------------------------------------------------------------

def test_user_metadata_over_2kb_is_refused(s3, bucket):
    big = {"a": "x" * 1100, "b": "y" * 1100}  # 2202 bytes of keys and values
    for call in (
        lambda: s3.put_object(Bucket=bucket, Key="big", Body=b"x", Metadata=big),
        lambda: s3.create_multipart_upload(Bucket=bucket, Key="big", Metadata=big),
    ):
        code, status, msg = error_of(call)
        assert (code, status) == ("MetadataTooLarge", 400)
        assert msg == "Your metadata headers exceed the maximum allowed metadata size."
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)

    # A copy that replaces the metadata is held to the same limit.
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    code, status, _ = error_of(lambda: s3.copy_object(
        Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, MetadataDirective="REPLACE", Metadata=big))
    assert (code, status) == ("MetadataTooLarge", 400)
    code, _, _ = error_of(lambda: s3.head_object(Bucket=bucket, Key="dst"))
    assert code == "404"


def test_user_metadata_within_2kb_is_kept(s3, bucket):
    # Just under the limit: 2 + 1000 + 2 + 1000 = 2004 bytes (boto3 sends only ASCII).
    meta = {"k1": "x" * 1000, "k2": "y" * 1000}
    s3.put_object(Bucket=bucket, Key="ok", Body=b"x", Metadata=meta)
    assert s3.head_object(Bucket=bucket, Key="ok")["Metadata"] == meta
    s3.copy_object(Bucket=bucket, Key="ok2", CopySource={"Bucket": bucket, "Key": "ok"}, MetadataDirective="REPLACE", Metadata=meta)
    assert s3.head_object(Bucket=bucket, Key="ok2")["Metadata"] == meta


# --------------------------------------------------------------------------
# Object tagging and object ACL events.
#
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
#   "s3:ObjectTagging:Put — You receive this notification event when an object tag
#    is added or updated; s3:ObjectTagging:Delete — when a tag is removed.
#    s3:ObjectAcl:Put — when an ACL is PUT on an object or when an existing ACL is
#    changed. An event is not generated when a request results in no change to an
#    object's ACL."
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
#   the eventName is the event type without the "s3:" prefix; versionId is present
#   when the bucket is versioning-enabled.
# --------------------------------------------------------------------------

def test_object_tagging_events(s3, sqs, bucket, queue):
    s3.put_object(Bucket=bucket, Key="tagged file.txt", Body=b"abc")
    s3.put_object(Bucket=bucket, Key="other", Body=b"abc")
    url = listen(s3, sqs, bucket, queue, ["s3:ObjectTagging:*"])
    s3.put_object_tagging(Bucket=bucket, Key="tagged file.txt", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    s3.delete_object_tagging(Bucket=bucket, Key="tagged file.txt")
    recs = records(sqs, url, 2)
    assert [r["eventName"] for r in recs] == ["ObjectTagging:Put", "ObjectTagging:Delete"]
    for r in recs:
        # One eventVersion for every event type since 2.4; the user guide shows 2.5.
        assert r["eventVersion"] == "2.5"
        assert r["eventSource"] == "aws:s3"
        assert r["s3"]["configurationId"] == "sweep"
        assert r["s3"]["bucket"]["name"] == bucket
        assert r["s3"]["object"]["key"] == "tagged+file.txt"
        assert "versionId" not in r["s3"]["object"]
    assert_no_message(sqs, url)


def test_object_tagging_event_types_are_told_apart(s3, sqs, bucket, queue):
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    url = listen(s3, sqs, bucket, queue, ["s3:ObjectTagging:Delete"])
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert [r["eventName"] for r in records(sqs, url, 1)] == ["ObjectTagging:Delete"]
    assert_no_message(sqs, url)


def test_object_tagging_event_of_a_version(s3, sqs, bucket, queue):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"2")
    url = listen(s3, sqs, bucket, queue, ["s3:ObjectTagging:Put"])
    s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v1, Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    (rec,) = records(sqs, url, 1)
    assert rec["eventName"] == "ObjectTagging:Put"
    assert rec["s3"]["object"]["versionId"] == v1


def test_object_acl_put_event_only_on_change(s3, sqs, queue):
    bucket = acl_bucket(s3)
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    url = listen(s3, sqs, bucket, queue, ["s3:ObjectAcl:Put"])
    # private is what the object already has: nothing changes, no event.
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="private")
    assert_no_message(sqs, url)
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")
    (rec,) = records(sqs, url, 1)
    assert rec["eventName"] == "ObjectAcl:Put"
    assert rec["s3"]["object"]["key"] == "k"
    # The same ACL again is no change either.
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")
    assert_no_message(sqs, url)


# --------------------------------------------------------------------------
# Conditional deletes.
#
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html
#   "You can perform conditional deletes using the DeleteObject or DeleteObjects API
#   operations in S3 general purpose and directory buckets ... The If-Match header
#   with the ETag value evaluates against existing objects in a bucket. If there's
#   an existing object with the same key name and matching ETag, the DeleteObject
#   requests succeeds, and returns a 204 No content response. If the ETag doesn't
#   match, the delete operation fails with a 412 Precondition Failed response."
#   "For conditionally deleting multiple objects using the DeleteObjects operation,
#   you must provide the ETag value in the ETag element of the object in the XML
#   request body ... If the precondition fails, the response for that object is
#   captured in the <Error> element of the response body."
# --------------------------------------------------------------------------

def test_delete_object_if_match(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    code, status, _ = error_of(lambda: s3.delete_object(Bucket=bucket, Key="k", IfMatch='"0123456789abcdef0123456789abcdef"'))
    assert (code, status) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    r = s3.delete_object(Bucket=bucket, Key="k", IfMatch=etag)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    # "*" asks only that the object exists.
    s3.put_object(Bucket=bucket, Key="k2", Body=b"two")
    s3.delete_object(Bucket=bucket, Key="k2", IfMatch="*")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_delete_objects_with_etags(s3, bucket):
    e1 = s3.put_object(Bucket=bucket, Key="a", Body=b"a")["ETag"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "a", "ETag": e1},
        {"Key": "b", "ETag": '"0123456789abcdef0123456789abcdef"'},
    ]})
    assert [d["Key"] for d in r.get("Deleted", [])] == ["a"]
    assert [(e["Key"], e["Code"]) for e in r.get("Errors", [])] == [("b", "PreconditionFailed")]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["b"]


# --------------------------------------------------------------------------
# Conditional writes with If-Match on CompleteMultipartUpload, and both headers on
# CopyObject's destination.
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
#   If-Match: "Uploads the object only if the ETag (entity tag) value provided during
#   the WRITE operation matches the ETag of the object in S3. If the ETag values do
#   not match, the operation returns a 412 Precondition Failed error."
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
#   If-Match: "Copies the object if the entity tag (ETag) of the destination object
#   matches the specified tag. If the ETag values do not match, the operation returns
#   a 412 Precondition Failed error."
#   If-None-Match: "Copies the object only if the object key name at the destination
#   does not already exist in the bucket specified. Otherwise, Amazon S3 returns a
#   412 Precondition Failed error."
# --------------------------------------------------------------------------

def _complete(s3, bucket, key, **kw):
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=b"new")
    return uid, lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}, **kw)


def test_complete_multipart_upload_if_match(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"old")["ETag"]
    uid, complete = _complete(s3, bucket, "k", IfMatch='"0123456789abcdef0123456789abcdef"')
    code, status, _ = error_of(complete)
    assert (code, status) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"old"
    _, complete = _complete(s3, bucket, "k", IfMatch=etag)
    complete()
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"new"


def test_copy_object_destination_conditions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    old = s3.put_object(Bucket=bucket, Key="dst", Body=b"old")["ETag"]
    copy = lambda **kw: s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, **kw)
    code, status, _ = error_of(lambda: copy(IfNoneMatch="*"))
    assert (code, status) == ("PreconditionFailed", 412)
    code, status, _ = error_of(lambda: copy(IfMatch='"0123456789abcdef0123456789abcdef"'))
    assert (code, status) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"old"
    copy(IfMatch=old)
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"source"
    # If-None-Match: * onto a key that does not exist copies.
    s3.copy_object(Bucket=bucket, Key="fresh", CopySource={"Bucket": bucket, "Key": "src"}, IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="fresh")["Body"].read() == b"source"


# --------------------------------------------------------------------------
# ListBuckets pages.
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
#   max-buckets: "Maximum number of buckets to be returned in response. When the
#   number is more than the count of buckets that are owned by an AWS account,
#   return all the buckets in response."
#   ContinuationToken (response): "is included in the response when there are more
#   buckets that can be listed with pagination. The next ListBuckets request to
#   Amazon S3 can be continued with this ContinuationToken."
# --------------------------------------------------------------------------

def test_list_buckets_pages(s3):
    prefix = f"lb-{uuid.uuid4().hex[:8]}-"
    names = [f"{prefix}{i}" for i in range(5)]
    for n in names:
        s3.create_bucket(Bucket=n)
    r = s3.list_buckets(Prefix=prefix, MaxBuckets=2)
    assert [b["Name"] for b in r["Buckets"]] == names[:2]
    assert r["Prefix"] == prefix and r["ContinuationToken"]
    seen = [b["Name"] for b in r["Buckets"]]
    while "ContinuationToken" in r:
        r = s3.list_buckets(Prefix=prefix, MaxBuckets=2, ContinuationToken=r["ContinuationToken"])
        seen += [b["Name"] for b in r["Buckets"]]
    assert seen == names
    # More than there are: all of them, and no token.
    r = s3.list_buckets(Prefix=prefix, MaxBuckets=100)
    assert [b["Name"] for b in r["Buckets"]] == names and "ContinuationToken" not in r
    # boto3's paginator follows the tokens.
    pages = s3.get_paginator("list_buckets").paginate(Prefix=prefix, PaginationConfig={"PageSize": 3})
    assert [b["Name"] for p in pages for b in p["Buckets"]] == names


# --------------------------------------------------------------------------
# Reserved bucket name prefixes and suffixes.
#
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
#   "Bucket names must not start with the prefix sthree- ... amzn-s3-demo-.
#    Bucket names must not end with the suffix -s3alias ... --ol-s3 ... .mrap."
# https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
#   InvalidBucketName: "The specified bucket is not valid." 400 Bad Request.
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sthree-abc", "sthree-configurator", "amzn-s3-demo-bucket", "abc-s3alias", "abc--ol-s3", "abc.mrap"])
def test_reserved_bucket_names_are_invalid(s3, name):
    code, status, msg = error_of(lambda: s3.create_bucket(Bucket=name))
    assert (code, status, msg) == ("InvalidBucketName", 400, "The specified bucket is not valid.")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


# --------------------------------------------------------------------------
# Listings name each object's checksum algorithm and type.
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html (ListObjects /
# ListObjectsV2 Contents) and API_ObjectVersion.html (ListObjectVersions):
#   ChecksumAlgorithm: "The algorithm that was used to create a checksum of the
#   object." ChecksumType: "The checksum type that is used to calculate the object's
#   checksum value" (COMPOSITE | FULL_OBJECT).
# --------------------------------------------------------------------------

def test_listings_report_checksum_algorithm_and_type(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"x", ChecksumAlgorithm="SHA256")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="b", ChecksumAlgorithm="SHA1")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="b", UploadId=uid, PartNumber=1, Body=b"y", ChecksumAlgorithm="SHA1")
    s3.complete_multipart_upload(Bucket=bucket, Key="b", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumSHA1": part["ChecksumSHA1"]}]})
    want = {"a": (["SHA256"], "FULL_OBJECT"), "b": (["SHA1"], "COMPOSITE")}
    for listing in (s3.list_objects_v2(Bucket=bucket)["Contents"], s3.list_objects(Bucket=bucket)["Contents"],
                    s3.list_object_versions(Bucket=bucket)["Versions"]):
        assert {o["Key"]: (o.get("ChecksumAlgorithm"), o.get("ChecksumType")) for o in listing} == want


# --------------------------------------------------------------------------
# A write's If-None-Match takes only "*".
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
#   If-None-Match: "Uploads the object only if the object key name does not already
#   exist in the bucket specified ... Expects the '*' (asterisk) character."
# S3 answers an ETag value there with 501 NotImplemented, "A header you provided
# implies functionality that is not implemented" (as reported from AWS in
# aws/aws-sdk-ruby#3144; the code and message are in ErrorResponses.html).
# --------------------------------------------------------------------------

def test_write_if_none_match_takes_only_a_star(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    for key in ("k", "new"):
        code, status, msg = error_of(lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"two", IfNoneMatch=etag))
        assert (code, status) == ("NotImplemented", 501)
        assert msg == "A header you provided implies functionality that is not implemented"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]


# --------------------------------------------------------------------------
# One PUT carries at most 5 GB; a part at most 5 GiB.
#
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html
#   "With a single PUT operation, you can upload a single object up to 5 GB in size."
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
#   Part size: "5 MiB to 5 GiB."
# https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
#   EntityTooLarge: "Your proposed upload exceeds the maximum allowed object size."
#   400 Bad Request.
# A request that declares 6 GiB is refused from its headers: the test sends no body.
# --------------------------------------------------------------------------

def _declare_huge_put(endpoint, path, size=6 * 1024 ** 3):
    import socket
    import urllib.parse

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = endpoint + path
    req = AWSRequest(method="PUT", url=url, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD", "Content-Length": str(size)})
    SigV4Auth(Credentials("test", "test"), "s3", h.REGION).add_auth(req)
    parsed = urllib.parse.urlsplit(endpoint)
    head = f"PUT {path} HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in req.headers.items() if k.lower() != "host") + "\r\n"
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as s:
        s.sendall(head.encode())
        data = b""
        while b"</Error>" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode(errors="replace")


def test_single_put_and_part_over_5_gib_refused(endpoint, s3, bucket):
    reply = _declare_huge_put(endpoint, f"/{bucket}/huge")
    assert reply.startswith("HTTP/1.1 400"), reply[:300]
    assert "<Code>EntityTooLarge</Code>" in reply
    assert "Your proposed upload exceeds the maximum allowed object size." in reply
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    reply = _declare_huge_put(endpoint, f"/{bucket}/mp?partNumber=1&uploadId={uid}")
    assert reply.startswith("HTTP/1.1 400"), reply[:300]
    assert "<Code>EntityTooLarge</Code>" in reply
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
