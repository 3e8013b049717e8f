"""S3 versioning end to end with boto3 and the aws CLI, written from AWS's S3 User
Guide ("Retaining multiple versions of objects with S3 Versioning", "Working with
delete markers", "Working with objects in a versioning-suspended bucket") and the
API reference of PutBucketVersioning, GetBucketVersioning, ListObjectVersions,
GetObject, HeadObject, DeleteObject, DeleteObjects and CopyObject."""

from __future__ import annotations

import json
import signal
import uuid
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

import nimbus_helpers as h
from test_s3_basics import s3_client

# A well-formed version id that no object has (the shape S3's ids have: 32 URL-safe characters).
UNKNOWN_VERSION = "v5n1PPUjOCMHLyyfq0ayjoZ5RZLfVQKA"
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def new_bucket(s3, versioning=None):
    name = f"v-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    if versioning:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
    return name


@pytest.fixture
def bucket(s3):
    return new_bucket(s3)


@pytest.fixture
def vbucket(s3):
    return new_bucket(s3, "Enabled")


def code(exc):
    return exc.response["Error"]["Code"]


def status(exc):
    return exc.response["ResponseMetadata"]["HTTPStatusCode"]


def headers(resp_or_exc):
    r = resp_or_exc.response if isinstance(resp_or_exc, ClientError) else resp_or_exc
    return r["ResponseMetadata"]["HTTPHeaders"]


def versions_of(s3, bucket, **kw):
    """[(key, version id, is latest, 'V')] of the object versions in listing order (key,
    then newest first), followed by [(key, version id, is latest, 'M')] of the delete
    markers in theirs (boto3 returns the two kinds as separate lists)."""
    r = s3.list_object_versions(Bucket=bucket, **kw)
    return ([(v["Key"], v["VersionId"], v["IsLatest"], "V") for v in r.get("Versions", [])]
            + [(m["Key"], m["VersionId"], m["IsLatest"], "M") for m in r.get("DeleteMarkers", [])])


def test_versioning_configuration(s3, bucket):
    # A bucket that was never versioned has an empty configuration: no Status.
    r = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in r and "MFADelete" not in r
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Disabled"})
    assert code(e.value) == "MalformedXML" and status(e.value) == 400
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={})
    assert code(e.value) == "MalformedXML"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    with pytest.raises(ClientError) as e:
        s3.get_bucket_versioning(Bucket=f"missing-{uuid.uuid4().hex[:8]}")
    assert code(e.value) == "NoSuchBucket"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=f"missing-{uuid.uuid4().hex[:8]}", VersioningConfiguration={"Status": "Enabled"})
    assert code(e.value) == "NoSuchBucket"


def test_each_write_is_a_new_version(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="doc", Body=b"two!")["VersionId"]
    assert v1 and v2 and v1 != v2 and "null" not in (v1, v2)
    latest = s3.get_object(Bucket=vbucket, Key="doc")
    assert latest["Body"].read() == b"two!" and latest["VersionId"] == v2
    old = s3.get_object(Bucket=vbucket, Key="doc", VersionId=v1)
    assert old["Body"].read() == b"one" and old["VersionId"] == v1
    head = s3.head_object(Bucket=vbucket, Key="doc", VersionId=v1)
    assert head["ContentLength"] == 3 and head["VersionId"] == v1
    assert s3.head_object(Bucket=vbucket, Key="doc")["VersionId"] == v2
    # Ranges apply to the version asked for.
    assert s3.get_object(Bucket=vbucket, Key="doc", VersionId=v1, Range="bytes=1-")["Body"].read() == b"ne"
    # Listing shows the latest only; ListObjectVersions shows both, newest first.
    listed = s3.list_objects_v2(Bucket=vbucket)["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("doc", 4)]
    assert versions_of(s3, vbucket) == [("doc", v2, True, "V"), ("doc", v1, False, "V")]


def test_unknown_and_invalid_version_ids(s3, vbucket):
    s3.put_object(Bucket=vbucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=UNKNOWN_VERSION)
    assert code(e.value) == "NoSuchVersion" and status(e.value) == 404
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=vbucket, Key="k", VersionId=UNKNOWN_VERSION)
    assert status(e.value) == 404
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId="not-a-version")
    assert code(e.value) == "InvalidArgument" and status(e.value) == 400
    assert e.value.response["Error"]["Message"] == "Invalid version id specified"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=vbucket, Key="k", VersionId="dsf")
    assert status(e.value) == 400
    with pytest.raises(ClientError) as e:
        s3.get_object_tagging(Bucket=vbucket, Key="k", VersionId="dsf")
    assert code(e.value) == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=vbucket, Key="k", VersionId="dsf")
    assert code(e.value) == "InvalidArgument"


def test_delete_marker_hides_and_removing_it_restores(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="k", Body=b"22")["VersionId"]
    d = s3.delete_object(Bucket=vbucket, Key="k")
    assert d["DeleteMarker"] is True
    marker = d["VersionId"]
    assert marker not in (v1, v2, "null")
    assert d["ResponseMetadata"]["HTTPStatusCode"] == 204
    # The key reads as deleted: 404 NoSuchKey with x-amz-delete-marker: true.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k")
    assert code(e.value) == "NoSuchKey" and status(e.value) == 404
    assert headers(e.value).get("x-amz-delete-marker") == "true"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=vbucket, Key="k")
    assert status(e.value) == 404 and headers(e.value).get("x-amz-delete-marker") == "true"
    # Naming the marker by id: 405 Method Not Allowed with its Last-Modified.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert code(e.value) == "MethodNotAllowed" and status(e.value) == 405
    assert headers(e.value).get("x-amz-delete-marker") == "true"
    assert headers(e.value).get("last-modified")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert status(e.value) == 405
    # Older versions stay retrievable by id.
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=v2)["Body"].read() == b"22"
    # Listings skip the key; the version listing shows the marker as latest.
    assert s3.list_objects_v2(Bucket=vbucket)["KeyCount"] == 0
    assert "Contents" not in s3.list_objects(Bucket=vbucket)
    assert versions_of(s3, vbucket) == [("k", v2, False, "V"), ("k", v1, False, "V"), ("k", marker, True, "M")]
    # Deleting the marker by version id makes the previous version current again.
    r = s3.delete_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert r["DeleteMarker"] is True and r["VersionId"] == marker
    got = s3.get_object(Bucket=vbucket, Key="k")
    assert got["Body"].read() == b"22" and got["VersionId"] == v2
    # Deleting a version by id removes it for good: no marker is added.
    r = s3.delete_object(Bucket=vbucket, Key="k", VersionId=v2)
    assert r["VersionId"] == v2 and "DeleteMarker" not in r
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"1"
    assert versions_of(s3, vbucket) == [("k", v1, True, "V")]
    # A simple DELETE of a key that has no versions still adds a marker.
    r = s3.delete_object(Bucket=vbucket, Key="never-written")
    assert r["DeleteMarker"] is True and r["VersionId"]


def test_objects_from_before_versioning_are_the_null_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"after")["VersionId"]
    assert v != "null"
    assert versions_of(s3, bucket) == [("k", v, True, "V"), ("k", "null", False, "V")]
    r = s3.get_object(Bucket=bucket, Key="k", VersionId="null")
    assert r["Body"].read() == b"before" and r["VersionId"] == "null"


def test_suspended_writes_replace_the_null_version(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"v1")["VersionId"]
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=vbucket, Key="k", Body=b"null-1")
    assert versions_of(s3, vbucket) == [("k", "null", True, "V"), ("k", v1, False, "V")]
    s3.put_object(Bucket=vbucket, Key="k", Body=b"null-2")
    # Still one null version (replaced), and the enabled-era version is kept.
    assert versions_of(s3, vbucket) == [("k", "null", True, "V"), ("k", v1, False, "V")]
    r = s3.get_object(Bucket=vbucket, Key="k")
    assert r["Body"].read() == b"null-2" and r["VersionId"] == "null"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)["Body"].read() == b"v1"
    # A simple DELETE puts a delete marker with version id null in place of the null version.
    d = s3.delete_object(Bucket=vbucket, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    assert versions_of(s3, vbucket) == [("k", v1, False, "V"), ("k", "null", True, "M")]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k")
    assert code(e.value) == "NoSuchKey"
    # Re-enabling: new writes get fresh ids again, the null marker stays a version.
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Enabled"})
    v3 = s3.put_object(Bucket=vbucket, Key="k", Body=b"v3")["VersionId"]
    assert versions_of(s3, vbucket) == [("k", v3, True, "V"), ("k", v1, False, "V"), ("k", "null", False, "M")]


def test_unversioned_bucket_lists_null_versions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    s3.put_object(Bucket=bucket, Key="a", Body=b"2")
    s3.put_object(Bucket=bucket, Key="b", Body=b"3")
    r = s3.list_object_versions(Bucket=bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"], v["Size"]) for v in r["Versions"]] == [
        ("a", "null", True, 1), ("b", "null", True, 1)]
    assert "DeleteMarkers" not in r
    # Unversioned: no version ids in responses, deletes remove the object.
    assert "VersionId" not in s3.put_object(Bucket=bucket, Key="c", Body=b"")
    assert "VersionId" not in s3.get_object(Bucket=bucket, Key="a")
    d = s3.delete_object(Bucket=bucket, Key="a")
    assert "DeleteMarker" not in d
    assert [v["Key"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]] == ["b", "c"]


def test_list_object_versions_paging_prefix_delimiter(s3, vbucket):
    ids = {}
    for key, n in [("a", 3), ("d/1", 1), ("d/2", 2), ("z", 1)]:
        ids[key] = [s3.put_object(Bucket=vbucket, Key=key, Body=str(i).encode())["VersionId"] for i in range(n)]
    marker = s3.delete_object(Bucket=vbucket, Key="z")["VersionId"]
    everything = versions_of(s3, vbucket)
    assert [(k, v, latest) for k, v, latest, _ in everything] == (
        [("a", ids["a"][2], True), ("a", ids["a"][1], False), ("a", ids["a"][0], False), ("d/1", ids["d/1"][0], True),
         ("d/2", ids["d/2"][1], True), ("d/2", ids["d/2"][0], False), ("z", ids["z"][0], False)]
        + [("z", marker, True)]
    )
    # Pages of two by hand: NextKeyMarker / NextVersionIdMarker continue exactly.
    seen, kw = [], {}
    pages = 0
    while True:
        r = s3.list_object_versions(Bucket=vbucket, MaxKeys=2, **kw)
        pages += 1
        assert r["MaxKeys"] == 2
        page = [(v["Key"], v["VersionId"]) for v in r.get("Versions", [])] + [(m["Key"], m["VersionId"]) for m in r.get("DeleteMarkers", [])]
        assert len(page) <= 2
        seen += page
        if not r["IsTruncated"]:
            assert "NextKeyMarker" not in r
            break
        assert r["NextKeyMarker"] == max(page)[0]
        kw = {"KeyMarker": r["NextKeyMarker"], "VersionIdMarker": r["NextVersionIdMarker"]}
    assert pages == 4
    assert sorted(seen) == sorted((k, v) for k, v, _, _ in everything)
    # The paginator walks the same markers.
    pag = s3.get_paginator("list_object_versions").paginate(Bucket=vbucket, PaginationConfig={"PageSize": 3})
    assert sum(len(p.get("Versions", [])) + len(p.get("DeleteMarkers", [])) for p in pag) == len(everything)
    # A key marker alone starts after every version of that key.
    r = s3.list_object_versions(Bucket=vbucket, KeyMarker="a")
    assert r["KeyMarker"] == "a" and r["Versions"][0]["Key"] == "d/1"
    # Prefix and delimiter.
    r = s3.list_object_versions(Bucket=vbucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["d/"]
    assert {v["Key"] for v in r["Versions"]} == {"a", "z"}
    assert r["Delimiter"] == "/"
    r = s3.list_object_versions(Bucket=vbucket, Prefix="d/")
    assert [(v["Key"], v["IsLatest"]) for v in r["Versions"]] == [("d/1", True), ("d/2", True), ("d/2", False)]
    assert r["Prefix"] == "d/"
    # A version-id marker needs a key marker.
    with pytest.raises(ClientError) as e:
        s3.list_object_versions(Bucket=vbucket, VersionIdMarker=ids["a"][0])
    assert code(e.value) == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        s3.list_object_versions(Bucket=f"missing-{uuid.uuid4().hex[:8]}")
    assert code(e.value) == "NoSuchBucket"


def test_listing_xml_interleaves_versions_and_markers(endpoint, vbucket):
    # The wire format lists <Version> and <DeleteMarker> elements together, in key
    # order and newest first (boto3 then splits them into two lists).
    c = s3_client(endpoint)
    bodies = []
    c.meta.events.register("before-parse.s3.ListObjectVersions", lambda response_dict, **_: bodies.append(response_dict["body"]))
    v1 = c.put_object(Bucket=vbucket, Key="k", Body=b"1")["VersionId"]
    m1 = c.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    v2 = c.put_object(Bucket=vbucket, Key="k", Body=b"2")["VersionId"]
    m2 = c.delete_object(Bucket=vbucket, Key="z")["VersionId"]
    c.list_object_versions(Bucket=vbucket)
    root = ET.fromstring(bodies[-1])
    entries = [(el.tag.split("}")[-1], el.find(f"{{{S3_NS}}}VersionId").text) for el in root
               if el.tag.split("}")[-1] in ("Version", "DeleteMarker")]
    assert entries == [("Version", v2), ("DeleteMarker", m1), ("Version", v1), ("DeleteMarker", m2)]


def test_list_object_versions_encoding_type_url(s3, vbucket):
    s3.put_object(Bucket=vbucket, Key="dir/a b+c.txt", Body=b"")
    # Asked for explicitly, botocore leaves the keys as S3 sent them: URL-encoded.
    r = s3.list_object_versions(Bucket=vbucket, EncodingType="url")
    assert r["EncodingType"] == "url"
    assert r["Versions"][0]["Key"] == "dir/a%20b%2Bc.txt"
    # Left to botocore, it asks for url encoding and decodes the answer.
    assert s3.list_object_versions(Bucket=vbucket)["Versions"][0]["Key"] == "dir/a b+c.txt"


def test_delete_objects_with_versions(s3, vbucket):
    a1 = s3.put_object(Bucket=vbucket, Key="a", Body=b"1")["VersionId"]
    a2 = s3.put_object(Bucket=vbucket, Key="a", Body=b"2")["VersionId"]
    b1 = s3.put_object(Bucket=vbucket, Key="b", Body=b"3")["VersionId"]
    r = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "a", "VersionId": a1}, {"Key": "b"}]})
    deleted = {d["Key"]: d for d in r["Deleted"]}
    assert deleted["a"]["VersionId"] == a1 and "DeleteMarker" not in deleted["a"]
    assert deleted["b"]["DeleteMarker"] is True and deleted["b"]["DeleteMarkerVersionId"]
    assert "VersionId" not in deleted["b"]
    b_marker = deleted["b"]["DeleteMarkerVersionId"]
    assert versions_of(s3, vbucket) == [("a", a2, True, "V"), ("b", b1, False, "V"), ("b", b_marker, True, "M")]
    # Removing a delete marker by id reports it as one.
    r = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "b", "VersionId": b_marker}]})
    d = r["Deleted"][0]
    assert d["DeleteMarker"] is True and d["DeleteMarkerVersionId"] == b_marker and d["VersionId"] == b_marker
    assert s3.get_object(Bucket=vbucket, Key="b")["Body"].read() == b"3"
    r = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "a", "VersionId": "bad"}]})
    assert r["Errors"][0]["Code"] == "InvalidArgument" and r["Errors"][0]["Key"] == "a"


def test_delete_bucket_needs_every_version_gone(s3, vbucket):
    v = s3.put_object(Bucket=vbucket, Key="k", Body=b"x")["VersionId"]
    m = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    # No current objects, but a version and a marker remain.
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=vbucket)
    assert code(e.value) == "BucketNotEmpty" and status(e.value) == 409
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v)
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=vbucket)
    assert code(e.value) == "BucketNotEmpty"
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=m)
    s3.delete_bucket(Bucket=vbucket)


def test_copy_a_specific_version(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="src", Body=b"first", Metadata={"n": "1"})["VersionId"]
    s3.put_object(Bucket=vbucket, Key="src", Body=b"second")
    r = s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert r["CopySourceVersionId"] == v1
    assert r["VersionId"] and r["VersionId"] != v1
    got = s3.get_object(Bucket=vbucket, Key="dst")
    assert got["Body"].read() == b"first" and got["Metadata"] == {"n": "1"} and got["VersionId"] == r["VersionId"]
    # Restoring an old version = copying it onto its own key: it becomes the newest version.
    r = s3.copy_object(Bucket=vbucket, Key="src", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert s3.get_object(Bucket=vbucket, Key="src")["Body"].read() == b"first"
    assert len(versions_of(s3, vbucket, Prefix="src")) == 3
    marker = s3.delete_object(Bucket=vbucket, Key="src")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=vbucket, Key="x", CopySource={"Bucket": vbucket, "Key": "src"})
    assert code(e.value) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=vbucket, Key="x", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": marker})
    assert code(e.value) == "InvalidRequest" and status(e.value) == 400
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=vbucket, Key="x", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": UNKNOWN_VERSION})
    assert code(e.value) == "NoSuchVersion"


def test_tagging_a_version(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"1", Tagging="gen=one")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="k", Body=b"2")["VersionId"]
    r = s3.put_object_tagging(Bucket=vbucket, Key="k", VersionId=v1, Tagging={"TagSet": [{"Key": "gen", "Value": "old"}]})
    assert r["VersionId"] == v1
    r = s3.get_object_tagging(Bucket=vbucket, Key="k", VersionId=v1)
    assert r["TagSet"] == [{"Key": "gen", "Value": "old"}] and r["VersionId"] == v1
    r = s3.get_object_tagging(Bucket=vbucket, Key="k")
    assert r["TagSet"] == [] and r["VersionId"] == v2
    s3.delete_object_tagging(Bucket=vbucket, Key="k", VersionId=v1)
    assert s3.get_object_tagging(Bucket=vbucket, Key="k", VersionId=v1)["TagSet"] == []
    with pytest.raises(ClientError) as e:
        s3.get_object_tagging(Bucket=vbucket, Key="k", VersionId=UNKNOWN_VERSION)
    assert code(e.value) == "NoSuchVersion"


def test_multipart_completion_is_a_version(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="mp", Body=b"small")["VersionId"]
    uid = s3.create_multipart_upload(Bucket=vbucket, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=vbucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"multi")
    done = s3.complete_multipart_upload(Bucket=vbucket, Key="mp", UploadId=uid,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["VersionId"] and done["VersionId"] != v1
    assert s3.get_object(Bucket=vbucket, Key="mp")["VersionId"] == done["VersionId"]
    assert s3.get_object(Bucket=vbucket, Key="mp", VersionId=v1)["Body"].read() == b"small"


def test_notifications_carry_version_ids(s3, sqs, make_queue, queue_arn, vbucket):
    url = make_queue("s3vers")
    s3.put_bucket_notification_configuration(Bucket=vbucket, NotificationConfiguration={"QueueConfigurations": [
        {"Id": "all", "QueueArn": h.allow_s3_notifications(sqs, url), "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]})
    assert json.loads(h.receive_all(sqs, url, expected=1)[0]["Body"])["Event"] == "s3:TestEvent"
    for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    v = s3.put_object(Bucket=vbucket, Key="k", Body=b"x")["VersionId"]
    marker = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v)
    msgs = [json.loads(m["Body"]) for m in h.receive_all(sqs, url, expected=4, timeout=10)]
    recs = sorted((r for m in msgs if "Records" in m for r in m["Records"]), key=lambda r: r["s3"]["object"]["sequencer"])
    assert [(r["eventName"], r["s3"]["object"]["versionId"]) for r in recs] == [
        ("ObjectCreated:Put", v), ("ObjectRemoved:DeleteMarkerCreated", marker), ("ObjectRemoved:Delete", v)]


def test_aws_cli_versioning(s3, aws_cli, bucket):
    aws_cli("s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
    _, out, _ = aws_cli("s3api", "get-bucket-versioning", "--bucket", bucket)
    assert out == {"Status": "Enabled"}
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    _, out, _ = aws_cli("s3api", "list-object-versions", "--bucket", bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in out["Versions"]] == [(v2, True), (v1, False)]
    _, out, _ = aws_cli("s3api", "delete-object", "--bucket", bucket, "--key", "k")
    assert out["DeleteMarker"] is True and out["VersionId"]


@pytest.mark.own_server
def test_versions_and_markers_survive_restart(nimbus_factory):
    srv = nimbus_factory()
    c = s3_client(srv.endpoint)
    c.create_bucket(Bucket="keeps-versions")
    c.put_object(Bucket="keeps-versions", Key="k", Body=b"null")
    c.put_bucket_versioning(Bucket="keeps-versions", VersioningConfiguration={"Status": "Enabled"})
    v1 = c.put_object(Bucket="keeps-versions", Key="k", Body=b"one")["VersionId"]
    marker = c.delete_object(Bucket="keeps-versions", Key="k")["VersionId"]
    v2 = c.put_object(Bucket="keeps-versions", Key="other", Body=b"two")["VersionId"]
    before = versions_of(c, "keeps-versions")
    srv.kill()  # kill -9: acknowledged writes must already be on disk
    srv.restart()
    c = s3_client(srv.endpoint)
    assert c.get_bucket_versioning(Bucket="keeps-versions")["Status"] == "Enabled"
    assert versions_of(c, "keeps-versions") == before == [
        ("k", v1, False, "V"), ("k", "null", False, "V"), ("other", v2, True, "V"), ("k", marker, True, "M")]
    assert c.get_object(Bucket="keeps-versions", Key="k", VersionId=v1)["Body"].read() == b"one"
    assert c.get_object(Bucket="keeps-versions", Key="k", VersionId="null")["Body"].read() == b"null"
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket="keeps-versions", Key="k")
    assert code(e.value) == "NoSuchKey"
    # Writes after the restart are ordered after the ones before it.
    v3 = c.put_object(Bucket="keeps-versions", Key="k", Body=b"three")["VersionId"]
    assert versions_of(c, "keeps-versions")[0] == ("k", v3, True, "V")
    assert srv.stop(signal.SIGTERM) == 0
