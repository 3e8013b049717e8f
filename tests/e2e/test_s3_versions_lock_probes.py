"""Conformance probes: S3 versioning, delete markers, Object Lock and bucket-level
operations, written from AWS's documentation (S3 User Guide and API reference).

Each test names its source.  Tests marked UNSURE assert behaviour that AWS's pages
do not state in so many words (observed S3 behaviour, or an inference from the
model); a failure there is a lead, not a proven bug.

This file deliberately avoids what test_s3_versioning.py, test_s3_object_lock.py,
test_s3_basics.py, test_s3_regions.py, test_s3_sweep.py and
test_s3_listing_multipart_probes.py already assert.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from test_s3_basics import s3_client

S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
# A well-formed version id that no object has (same shape as test_s3_versioning's).
UNKNOWN_VERSION = "v5n1PPUjOCMHLyyfq0ayjoZ5RZLfVQKA"
OTHER_ACCOUNT = "111122223333"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def new_name(prefix="vl"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def error_of(call):
    """(code, status, message, headers) of the ClientError `call` must raise."""
    try:
        result = call()
    except ClientError as exc:
        r = exc.response
        return (r["Error"].get("Code"), r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message"),
                r["ResponseMetadata"]["HTTPHeaders"])
    raise AssertionError(f"expected an error, the call succeeded: {result!r}")


def md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def future(days=1):
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=days)


def send(endpoint, method, path, region="us-east-1", data=b"", headers=None, key="test"):
    """A SigV4-signed raw request (path-style); returns the requests.Response."""
    req = AWSRequest(method=method, url=f"{endpoint}{path}", data=data, headers=dict(headers or {}))
    req.headers["x-amz-content-sha256"] = hashlib.sha256(data).hexdigest()
    S3SigV4Auth(Credentials(key, "test"), "s3", region).add_auth(req)
    return requests.request(method, req.url, data=data, headers=dict(req.headers.items()), timeout=30)


def listing(s3, bucket, **kw):
    """[(kind, key, version id, is latest)] in wire order: key ascending, newest first,
    versions and delete markers interleaved by LastModified within a key (boto3 splits
    the two kinds; they are merged back here by the order of the raw document)."""
    bodies = []
    handler = lambda response_dict, **_: bodies.append(response_dict["body"])  # noqa: E731
    s3.meta.events.register("before-parse.s3.ListObjectVersions", handler)
    try:
        s3.list_object_versions(Bucket=bucket, **kw)
    finally:
        s3.meta.events.unregister("before-parse.s3.ListObjectVersions", handler)
    root = ET.fromstring(bodies[-1])
    out = []
    for el in root:
        tag = el.tag.split("}")[-1]
        if tag in ("Version", "DeleteMarker"):
            out.append(("V" if tag == "Version" else "M", el.findtext(f"{S3_NS}Key"),
                        el.findtext(f"{S3_NS}VersionId"), el.findtext(f"{S3_NS}IsLatest") == "true"))
    return out


@pytest.fixture
def vbucket(s3):
    name = new_name("vb")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture
def lbucket(s3):
    name = new_name("lk")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def lput(s3, bucket, key, body=b"data", **kw):
    return s3.put_object(Bucket=bucket, Key=key, Body=body, ContentMD5=md5(body), **kw)


# ==========================================================================
# Delete markers
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (x-amz-delete-marker):
#   "If the current version of the object is a delete marker, Amazon S3 behaves as if
#    the object was deleted and includes x-amz-delete-marker: true in the response.
#    If the specified version in the request is a delete marker, the response returns
#    a 405 Method Not Allowed error and the Last-Modified: timestamp response header."
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeleteMarker.html
#   "A delete marker has a key name (or key) and version ID like any other object."
# ==========================================================================

def test_reads_of_a_current_delete_marker_name_the_marker(s3, vbucket):
    s3.put_object(Bucket=vbucket, Key="k", Body=b"1")
    marker = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    for call in (lambda: s3.get_object(Bucket=vbucket, Key="k"), lambda: s3.head_object(Bucket=vbucket, Key="k")):
        _, st, _, hdrs = error_of(call)
        assert st == 404
        assert hdrs.get("x-amz-delete-marker") == "true"
        # x-amz-version-id on a 404 names the delete marker that is the current version.
        assert hdrs.get("x-amz-version-id") == marker


def test_version_reads_of_a_marker_are_405_and_name_it(s3, vbucket):
    s3.put_object(Bucket=vbucket, Key="k", Body=b"1")
    marker = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    for call in (lambda: s3.get_object(Bucket=vbucket, Key="k", VersionId=marker),
                 lambda: s3.head_object(Bucket=vbucket, Key="k", VersionId=marker)):
        _, st, _, hdrs = error_of(call)
        assert st == 405
        assert hdrs.get("x-amz-delete-marker") == "true"
        assert hdrs.get("x-amz-version-id") == marker
        assert hdrs.get("last-modified")


def test_marker_405_error_document_names_method_and_resource_type(endpoint, s3, vbucket):
    """UNSURE: not in the API reference.  S3's MethodNotAllowed document carries
    <Method> and <ResourceType> (the general "REST error responses" page says error
    documents may carry extra elements; for a delete marker S3 answers
    <Method>GET</Method><ResourceType>DeleteMarker</ResourceType>, as captured in
    LocalStack's and MinIO's parity tests)."""
    s3.put_object(Bucket=vbucket, Key="k", Body=b"1")
    marker = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    r = send(endpoint, "GET", f"/{vbucket}/k?versionId={marker}")
    assert r.status_code == 405
    doc = ET.fromstring(r.content)
    assert doc.findtext("Code") == "MethodNotAllowed"
    assert doc.findtext("Method") == "GET"
    assert doc.findtext("ResourceType") == "DeleteMarker"


def test_other_reads_of_a_marker_version_are_405(s3, vbucket):
    """GetObjectAttributes (API_GetObjectAttributes.html): "If the specified version in
    the request is a delete marker, the response returns a 405 Method Not Allowed
    error".  UNSURE for GetObjectTagging / GetObjectAcl, which S3 treats the same way
    ("The only operation you can use on a delete marker is an Amazon S3 API DELETE
    call", amazon-s3-developer-guide DeleteMarker.md)."""
    s3.put_object(Bucket=vbucket, Key="k", Body=b"1")
    marker = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    for call in (
        lambda: s3.get_object_attributes(Bucket=vbucket, Key="k", VersionId=marker, ObjectAttributes=["ETag"]),
        lambda: s3.get_object_tagging(Bucket=vbucket, Key="k", VersionId=marker),
        lambda: s3.get_object_acl(Bucket=vbucket, Key="k", VersionId=marker),
    ):
        code, st, _, hdrs = error_of(call)
        assert (code, st) == ("MethodNotAllowed", 405)
        assert hdrs.get("x-amz-delete-marker") == "true"


def test_simple_delete_of_a_deleted_key_stacks_another_marker(s3, vbucket):
    """ManagingDelMarkers / DeleteMarker.html: a simple DELETE in a versioning-enabled
    bucket always inserts a delete marker; "one object may have multiple delete
    markers" (a marker is never removed by a DELETE without a version id)."""
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"1")["VersionId"]
    m1 = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    d = s3.delete_object(Bucket=vbucket, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] not in (m1, v1)
    assert listing(s3, vbucket) == [("M", "k", d["VersionId"], True), ("M", "k", m1, False), ("V", "k", v1, False)]


def test_deleting_a_noncurrent_marker_changes_nothing_visible(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"1")["VersionId"]
    m1 = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="k", Body=b"2")["VersionId"]
    r = s3.delete_object(Bucket=vbucket, Key="k", VersionId=m1)
    assert r["DeleteMarker"] is True and r["VersionId"] == m1
    g = s3.get_object(Bucket=vbucket, Key="k")
    assert g["Body"].read() == b"2" and g["VersionId"] == v2
    assert listing(s3, vbucket) == [("V", "k", v2, True), ("V", "k", v1, False)]


def test_deleting_the_latest_version_promotes_what_is_below(s3, vbucket):
    """DeletingObjectVersions.html: deleting a specific version permanently removes it;
    the next most recent version (here a delete marker) becomes current."""
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"1")["VersionId"]
    m1 = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="k", Body=b"2")["VersionId"]
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v2)
    assert listing(s3, vbucket) == [("M", "k", m1, True), ("V", "k", v1, False)]
    _, st, _, hdrs = error_of(lambda: s3.get_object(Bucket=vbucket, Key="k"))
    assert st == 404 and hdrs.get("x-amz-delete-marker") == "true" and hdrs.get("x-amz-version-id") == m1
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=m1)
    assert listing(s3, vbucket) == [("V", "k", v1, True)]
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"1"


def test_delete_objects_on_a_deleted_key_adds_a_new_marker(s3, vbucket):
    """API_DeletedObject.html: DeleteMarker "Indicates whether the specified object
    version that was permanently deleted was (true) or was not (false) a delete marker
    before deletion. In a simple DELETE, this header indicates whether (true) or not
    (false) the current version of the object is a delete marker";
    DeleteMarkerVersionId "The version ID of the delete marker created as a result of
    the DELETE operation"."""
    s3.put_object(Bucket=vbucket, Key="k", Body=b"1")
    m1 = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    r = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "k"}, {"Key": "never"}]})
    got = {d["Key"]: d for d in r["Deleted"]}
    assert got["k"]["DeleteMarker"] is True and got["k"]["DeleteMarkerVersionId"] not in (None, m1)
    assert got["never"]["DeleteMarker"] is True and got["never"]["DeleteMarkerVersionId"]
    assert [e for e in listing(s3, vbucket) if e[1] == "k"][0] == ("M", "k", got["k"]["DeleteMarkerVersionId"], True)


def test_delete_objects_quiet_reports_only_failures(s3, vbucket):
    """API_DeleteObjects.html: "In quiet mode the response includes only keys where the
    delete operation encountered an error." """
    v = s3.put_object(Bucket=vbucket, Key="a", Body=b"1")["VersionId"]
    r = s3.delete_objects(Bucket=vbucket, Delete={"Quiet": True, "Objects": [
        {"Key": "a", "VersionId": v}, {"Key": "b", "VersionId": "not-a-version"}]})
    assert "Deleted" not in r
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("b", "InvalidArgument")]
    assert listing(s3, vbucket) == []


# ==========================================================================
# Version ids
# ==========================================================================

def test_empty_version_id_is_invalid(endpoint, s3, vbucket):
    """UNSURE (observed S3 behaviour, not in the reference): ?versionId= with an empty
    value is 400 InvalidArgument "Version id cannot be the empty string"."""
    s3.put_object(Bucket=vbucket, Key="k", Body=b"1")
    for method in ("GET", "DELETE"):
        r = send(endpoint, method, f"/{vbucket}/k?versionId=")
        assert r.status_code == 400, r.text
        doc = ET.fromstring(r.content)
        assert doc.findtext("Code") == "InvalidArgument"
        assert doc.findtext("Message") == "Version id cannot be the empty string"
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"1"


def test_invalid_version_ids_on_other_operations(s3, vbucket):
    """Version ids that are not S3's are refused with 400 InvalidArgument "Invalid
    version id specified" wherever a version id is accepted (test_s3_versioning covers
    GetObject, HeadObject, GetObjectTagging, DeleteObject)."""
    s3.put_object(Bucket=vbucket, Key="k", Body=b"x")
    for call in (
        lambda: s3.copy_object(Bucket=vbucket, Key="c", CopySource={"Bucket": vbucket, "Key": "k", "VersionId": "bad"}),
        lambda: s3.get_object_acl(Bucket=vbucket, Key="k", VersionId="bad"),
        lambda: s3.get_object_attributes(Bucket=vbucket, Key="k", VersionId="bad", ObjectAttributes=["ETag"]),
        lambda: s3.put_object_tagging(Bucket=vbucket, Key="k", VersionId="bad", Tagging={"TagSet": []}),
        lambda: s3.list_object_versions(Bucket=vbucket, KeyMarker="k", VersionIdMarker="bad"),
    ):
        code, st, msg, _ = error_of(call)
        assert (code, st, msg) == ("InvalidArgument", 400, "Invalid version id specified")


def test_null_version_id_in_an_unversioned_bucket(s3, bucket):
    """Versioning.html: "Objects that are stored in your bucket before you set the
    versioning state have a version ID of null."  A version id of "null" names them
    (and DELETE ?versionId=null removes them)."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"x"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId="null")["ContentLength"] == 1
    s3.delete_object(Bucket=bucket, Key="k", VersionId="null")
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="k"))[:2] == ("NoSuchKey", 404)


def test_null_version_id_when_the_key_has_no_null_version(s3, vbucket):
    """UNSURE of the code: a version id (here "null") of no version of an existing key
    is NoSuchVersion, as for any other well-formed id."""
    s3.put_object(Bucket=vbucket, Key="k", Body=b"x")
    assert error_of(lambda: s3.get_object(Bucket=vbucket, Key="k", VersionId="null"))[:2] == ("NoSuchVersion", 404)


# ==========================================================================
# Versioning-suspended buckets
#
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/AddingObjectstoVersionSuspendedBuckets.html
#   "After you suspend versioning on a bucket, Amazon S3 automatically adds a null
#    version ID to every subsequent object stored thereafter (using PUT, POST, or
#    CopyObject) in that bucket."  "If a null version is already in the bucket and you
#    add another object with the same key, the added object overwrites the original
#    null version."  "Version 111111 is not overwritten."
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectsfromVersioningSuspendedBuckets.html
#   "If versioning is suspended for a bucket, a DELETE request: Can only remove an
#    object whose version ID is null. Doesn't remove anything if there isn't a null
#    version of the object in the bucket. Inserts a delete marker into the bucket."
#   "Even in a versioning-suspended bucket, the bucket owner can permanently delete a
#    specified version by including the version ID in the DELETE request"
# ==========================================================================

def test_suspended_delete_without_null_version_only_adds_a_null_marker(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"1")["VersionId"]
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    d = s3.delete_object(Bucket=vbucket, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    assert listing(s3, vbucket) == [("M", "k", "null", True), ("V", "k", v1, False)]
    # Deleting the null marker by id brings v1 back.
    s3.delete_object(Bucket=vbucket, Key="k", VersionId="null")
    assert s3.get_object(Bucket=vbucket, Key="k")["VersionId"] == v1


def test_suspended_delete_by_null_id_removes_the_null_version(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"1")["VersionId"]
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=vbucket, Key="k", Body=b"null")
    r = s3.delete_object(Bucket=vbucket, Key="k", VersionId="null")
    assert r["VersionId"] == "null" and "DeleteMarker" not in r
    assert listing(s3, vbucket) == [("V", "k", v1, True)]
    g = s3.get_object(Bucket=vbucket, Key="k")
    assert g["Body"].read() == b"1" and g["VersionId"] == v1
    # And the enabled-era version can be removed by id while suspended too.
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert listing(s3, vbucket) == []


def test_suspended_copy_and_multipart_write_the_null_version(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="src", Body=b"src")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="dst", Body=b"enabled-era")
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    for _ in range(2):  # the second copy replaces the null version the first made
        s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src"})
    dst = [e for e in listing(s3, vbucket) if e[1] == "dst"]
    assert [(e[2] == "null", e[3]) for e in dst] == [(True, True), (False, False)]
    uid = s3.create_multipart_upload(Bucket=vbucket, Key="dst")["UploadId"]
    part = s3.upload_part(Bucket=vbucket, Key="dst", UploadId=uid, PartNumber=1, Body=b"mp")
    s3.complete_multipart_upload(Bucket=vbucket, Key="dst", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    dst = [e for e in listing(s3, vbucket) if e[1] == "dst"]
    assert len(dst) == 2 and dst[0][2] == "null" and dst[0][3] is True
    g = s3.get_object(Bucket=vbucket, Key="dst")
    assert g["Body"].read() == b"mp" and g["VersionId"] == "null"
    assert s3.get_object(Bucket=vbucket, Key="src")["VersionId"] == v1


def test_suspended_delete_objects_markers_are_null(s3, vbucket):
    s3.put_object(Bucket=vbucket, Key="a", Body=b"1")
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    r = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    assert sorted((d["Key"], d["DeleteMarker"], d["DeleteMarkerVersionId"]) for d in r["Deleted"]) == [
        ("a", True, "null"), ("b", True, "null")]
    # A second simple delete replaces the null marker rather than stacking another.
    s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "b"}]})
    assert [e for e in listing(s3, vbucket) if e[1] == "b"] == [("M", "b", "null", True)]


# ==========================================================================
# Object Lock
#
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html and
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html
#   "After you enable Object Lock on a bucket, you can't disable Object Lock or suspend
#    versioning for that bucket."
#   Compliance: "its retention mode can't be changed, and its retention period can't
#    be shortened."  Governance: users need s3:BypassGovernanceRetention "and must
#    explicitly include x-amz-bypass-governance-retention:true as a request header".
#   "Object Lock works only in buckets that have S3 Versioning enabled"; retention and
#    legal holds apply to individual object versions; a delete marker can still be
#    placed on a protected object.
# ==========================================================================

def test_put_object_retention_in_the_past_is_refused(s3, lbucket):
    """API_PutObjectRetention / ObjectLockRetention: RetainUntilDate is "The date on which
    this Object Lock Retention will expire" - a past date is InvalidArgument (the text S3
    sends is "The retain until date must be in the future!")."""
    v = lput(s3, lbucket, "k")["VersionId"]
    code, st, msg, _ = error_of(lambda: s3.put_object_retention(
        Bucket=lbucket, Key="k", VersionId=v, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future(-1)}))
    assert (code, st) == ("InvalidArgument", 400)
    assert msg == "The retain until date must be in the future!"
    assert error_of(lambda: s3.get_object_retention(Bucket=lbucket, Key="k"))[0] == "NoSuchObjectLockConfiguration"


def test_put_object_lock_headers_are_validated(s3, lbucket):
    """API_PutObject: x-amz-object-lock-mode "Valid Values: GOVERNANCE | COMPLIANCE";
    x-amz-object-lock-legal-hold "Valid Values: ON | OFF"; the mode and the
    retain-until date go together (the reverse case, mode without date, is in
    test_s3_object_lock)."""
    code, st, msg, _ = error_of(lambda: lput(s3, lbucket, "a", ObjectLockRetainUntilDate=future()))
    assert (code, st) == ("InvalidArgument", 400)
    code, st, _, _ = error_of(lambda: lput(s3, lbucket, "b", ObjectLockMode="FOREVER", ObjectLockRetainUntilDate=future()))
    assert (code, st) == ("InvalidArgument", 400)
    code, st, _, _ = error_of(lambda: lput(s3, lbucket, "c", ObjectLockLegalHoldStatus="MAYBE"))
    assert (code, st) == ("InvalidArgument", 400)
    assert "Versions" not in s3.list_object_versions(Bucket=lbucket)


def test_governance_can_be_raised_to_compliance_and_extended_without_bypass(s3, lbucket):
    """Tightening a lock needs no bypass: extending a governance date, or turning
    governance into compliance (object-lock.html: the bypass is for altering or
    removing governance protection)."""
    v = lput(s3, lbucket, "k", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future(1))["VersionId"]
    s3.put_object_retention(Bucket=lbucket, Key="k", VersionId=v, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future(2)})
    s3.put_object_retention(Bucket=lbucket, Key="k", VersionId=v, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": future(2)})
    assert s3.get_object_retention(Bucket=lbucket, Key="k", VersionId=v)["Retention"]["Mode"] == "COMPLIANCE"


def test_removing_retention_needs_governance_bypass_and_never_works_for_compliance(s3, lbucket):
    """API_PutObjectRetention: an empty <Retention/> removes the retention; for governance
    that needs x-amz-bypass-governance-retention, for compliance it is refused."""
    g = lput(s3, lbucket, "g", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future())["VersionId"]
    assert error_of(lambda: s3.put_object_retention(Bucket=lbucket, Key="g", VersionId=g, Retention={}))[:2] == ("AccessDenied", 403)
    s3.put_object_retention(Bucket=lbucket, Key="g", VersionId=g, Retention={}, BypassGovernanceRetention=True)
    assert error_of(lambda: s3.get_object_retention(Bucket=lbucket, Key="g", VersionId=g))[:2] == (
        "NoSuchObjectLockConfiguration", 404)
    s3.delete_object(Bucket=lbucket, Key="g", VersionId=g)  # no longer protected
    c = lput(s3, lbucket, "c", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=future())["VersionId"]
    assert error_of(lambda: s3.put_object_retention(Bucket=lbucket, Key="c", VersionId=c, Retention={},
                                                    BypassGovernanceRetention=True))[:2] == ("AccessDenied", 403)
    assert s3.get_object_retention(Bucket=lbucket, Key="c", VersionId=c)["Retention"]["Mode"] == "COMPLIANCE"


def test_bypass_header_must_say_true(endpoint, s3, lbucket):
    """"must explicitly include x-amz-bypass-governance-retention:true"."""
    v = lput(s3, lbucket, "k", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future())["VersionId"]
    r = send(endpoint, "DELETE", f"/{lbucket}/k?versionId={v}", headers={"x-amz-bypass-governance-retention": "false"})
    assert r.status_code == 403 and ET.fromstring(r.content).findtext("Code") == "AccessDenied"
    assert s3.head_object(Bucket=lbucket, Key="k", VersionId=v)["VersionId"] == v


def test_locked_key_takes_new_versions_and_delete_markers(s3, lbucket):
    """object-lock.html: "Object Lock works only in versioned buckets, and retention
    periods and legal holds apply to individual object versions. ... placing a delete
    marker on an object doesn't delete any object versions"; writing the key makes a
    new version and leaves the locked one alone."""
    v1 = lput(s3, lbucket, "k", b"one", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=future())["VersionId"]
    v2 = lput(s3, lbucket, "k", b"two")["VersionId"]
    assert v2 != v1 and s3.get_object(Bucket=lbucket, Key="k")["Body"].read() == b"two"
    assert "ObjectLockMode" not in s3.head_object(Bucket=lbucket, Key="k")
    s3.delete_object(Bucket=lbucket, Key="k", VersionId=v2)  # unprotected version: gone
    m = s3.delete_object(Bucket=lbucket, Key="k")["VersionId"]
    # The delete marker itself carries no protection and can be removed.
    s3.delete_object(Bucket=lbucket, Key="k", VersionId=m)
    assert s3.get_object(Bucket=lbucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert listing(s3, lbucket) == [("V", "k", v1, True)]


def test_lock_operations_on_a_delete_marker_are_405(s3, lbucket):
    """UNSURE of the exact answer: a delete marker "isn't associated with" data or
    settings, and "The only operation you can use on a delete marker is ... DELETE"
    (DeleteMarker.md); S3 answers 405 MethodNotAllowed as for GetObject."""
    lput(s3, lbucket, "k")
    m = s3.delete_object(Bucket=lbucket, Key="k")["VersionId"]
    for call in (
        lambda: s3.put_object_retention(Bucket=lbucket, Key="k", VersionId=m, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future()}),
        lambda: s3.get_object_retention(Bucket=lbucket, Key="k", VersionId=m),
        lambda: s3.put_object_legal_hold(Bucket=lbucket, Key="k", VersionId=m, LegalHold={"Status": "ON"}),
        lambda: s3.get_object_legal_hold(Bucket=lbucket, Key="k", VersionId=m),
    ):
        assert error_of(call)[:2] == ("MethodNotAllowed", 405)


def test_lock_reads_of_missing_keys_and_versions(s3, lbucket):
    lput(s3, lbucket, "k")
    assert error_of(lambda: s3.get_object_retention(Bucket=lbucket, Key="nokey"))[:2] == ("NoSuchKey", 404)
    assert error_of(lambda: s3.get_object_legal_hold(Bucket=lbucket, Key="nokey"))[:2] == ("NoSuchKey", 404)
    assert error_of(lambda: s3.put_object_legal_hold(Bucket=lbucket, Key="nokey", LegalHold={"Status": "ON"}))[:2] == ("NoSuchKey", 404)
    assert error_of(lambda: s3.get_object_retention(Bucket=lbucket, Key="k", VersionId=UNKNOWN_VERSION))[:2] == ("NoSuchVersion", 404)
    assert error_of(lambda: s3.get_object_legal_hold(Bucket=lbucket, Key="k"))[:2] == ("NoSuchObjectLockConfiguration", 404)


def test_default_retention_years_explicit_override_and_legal_hold(s3, lbucket):
    """object-lock.html "Bucket configuration": a default retention applies to new
    versions placed without explicit settings; "If you ... explicitly specify a retention
    mode and period for an object version, those settings override any bucket default";
    a legal hold is independent of the retention period."""
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 1}}})
    now = dt.datetime.now(dt.timezone.utc)
    lput(s3, lbucket, "y")
    r = s3.get_object_retention(Bucket=lbucket, Key="y")["Retention"]
    assert r["Mode"] == "GOVERNANCE"
    assert dt.timedelta(days=364) < r["RetainUntilDate"] - now < dt.timedelta(days=367)
    until = future(3)
    lput(s3, lbucket, "o", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
    assert s3.get_object_retention(Bucket=lbucket, Key="o")["Retention"] == {"Mode": "COMPLIANCE", "RetainUntilDate": until}
    lput(s3, lbucket, "h", ObjectLockLegalHoldStatus="ON")
    h = s3.head_object(Bucket=lbucket, Key="h")
    assert (h["ObjectLockMode"], h["ObjectLockLegalHoldStatus"]) == ("GOVERNANCE", "ON")


def test_lock_configuration_document_validation(s3, lbucket):
    """API_ObjectLockConfiguration: ObjectLockEnabled "Valid Values: Enabled";
    API_DefaultRetention: "The DefaultRetention settings require both a mode and a
    period."  UNSURE of the code S3 picks for each (MalformedXML here)."""
    bad = [
        {"ObjectLockEnabled": "Disabled"},
        {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE"}}},
        {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Days": 1}}},
    ]
    for conf in bad:
        code, st, _, _ = error_of(lambda: s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration=conf))
        assert (code, st) == ("MalformedXML", 400), conf
    # Dropping the Rule removes the default retention; Object Lock stays on.
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}


def test_lock_enabled_later_also_freezes_versioning(s3, bucket):
    """PutObjectLockConfiguration on an existing bucket needs versioning Enabled
    (a Suspended bucket is refused like an unversioned one); once on, versioning can't
    be suspended - but re-sending Enabled is harmless."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    code, st, _, _ = error_of(lambda: s3.put_object_lock_configuration(
        Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}))
    assert (code, st) == ("InvalidBucketState", 409)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    code, st, _, _ = error_of(lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}))
    assert (code, st) == ("InvalidBucketState", 409)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_copy_takes_its_own_lock_settings_not_the_sources(s3, lbucket):
    """UNSURE: retention is per version and not object metadata; a copy gets the lock
    headers of the CopyObject request (API_CopyObject x-amz-object-lock-*: "The Object
    Lock mode that you want to apply to the object copy") or the bucket default, not
    the source version's."""
    lput(s3, lbucket, "src", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=future(2), ObjectLockLegalHoldStatus="ON")
    s3.copy_object(Bucket=lbucket, Key="plain", CopySource={"Bucket": lbucket, "Key": "src"})
    h = s3.head_object(Bucket=lbucket, Key="plain")
    assert "ObjectLockMode" not in h and "ObjectLockLegalHoldStatus" not in h
    until = future(1)
    s3.copy_object(Bucket=lbucket, Key="locked", CopySource={"Bucket": lbucket, "Key": "src"},
                   ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)
    assert s3.get_object_retention(Bucket=lbucket, Key="locked")["Retention"] == {"Mode": "GOVERNANCE", "RetainUntilDate": until}


def test_multipart_upload_lock_headers_reach_the_object(s3, lbucket):
    """API_CreateMultipartUpload: x-amz-object-lock-mode / -retain-until-date /
    -legal-hold "that you want to apply to the uploaded object"."""
    until = future(1)
    uid = s3.create_multipart_upload(Bucket=lbucket, Key="mp", ObjectLockMode="GOVERNANCE",
                                     ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")["UploadId"]
    body = b"p" * 10
    part = s3.upload_part(Bucket=lbucket, Key="mp", UploadId=uid, PartNumber=1, Body=body, ContentMD5=md5(body))
    v = s3.complete_multipart_upload(Bucket=lbucket, Key="mp", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})["VersionId"]
    h = s3.head_object(Bucket=lbucket, Key="mp", VersionId=v)
    assert (h["ObjectLockMode"], h["ObjectLockRetainUntilDate"], h["ObjectLockLegalHoldStatus"]) == ("GOVERNANCE", until, "ON")
    assert error_of(lambda: s3.delete_object(Bucket=lbucket, Key="mp", VersionId=v, BypassGovernanceRetention=True))[:2] == (
        "AccessDenied", 403)


def test_delete_objects_quiet_still_reports_locked_versions(s3, lbucket):
    v = lput(s3, lbucket, "k", ObjectLockLegalHoldStatus="ON")["VersionId"]
    r = s3.delete_objects(Bucket=lbucket, Delete={"Quiet": True, "Objects": [{"Key": "k", "VersionId": v}]})
    assert [(e["Key"], e["VersionId"], e["Code"]) for e in r["Errors"]] == [("k", v, "AccessDenied")]


def test_lock_bucket_with_locked_versions_is_not_empty(s3, lbucket):
    v = lput(s3, lbucket, "k", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert error_of(lambda: s3.delete_bucket(Bucket=lbucket))[:2] == ("BucketNotEmpty", 409)
    s3.put_object_legal_hold(Bucket=lbucket, Key="k", VersionId=v, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=lbucket, Key="k", VersionId=v)
    s3.delete_bucket(Bucket=lbucket)
    assert error_of(lambda: s3.head_bucket(Bucket=lbucket))[1] == 404


# ==========================================================================
# CreateBucket
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucketConfiguration.html
#   LocationConstraint "Valid Values: af-south-1 | ... | EU | eu-central-1 | ..."
# https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
#   InvalidLocationConstraint: "The specified location (Region) constraint is not
#   valid." 400
# ==========================================================================

def test_unknown_location_constraint_is_invalid(s3):
    name = new_name("loc")
    code, st, _, _ = error_of(lambda: s3.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "not-a-region"}))
    assert (code, st) == ("InvalidLocationConstraint", 400)
    assert error_of(lambda: s3.head_bucket(Bucket=name))[1] == 404


@pytest.mark.skip(reason="UNSURE of S3: whether CreateBucket still takes LocationConstraint EU (nimbus: InvalidLocationConstraint, as before).")
def test_eu_location_constraint_is_eu_west_1(s3):
    """UNSURE that S3 still accepts the legacy value on create (it is in the documented
    enum).  API_GetBucketLocation: "Buckets with a LocationConstraint of EU reside in
    eu-west-1."""
    name = new_name("eu")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "EU"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "EU"
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"


def test_recreating_an_owned_bucket_outside_us_east_1(endpoint):
    """Error BucketAlreadyOwnedByYou: "Amazon S3 returns this error in all Amazon Web
    Services Regions except in the North Virginia Region." (API_CreateBucket, Errors)"""
    west = s3_client(endpoint, region="eu-west-1")
    name = new_name("own")
    west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    code, st, _, _ = error_of(lambda: west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}))
    assert (code, st) == ("BucketAlreadyOwnedByYou", 409)


def test_recreating_an_owned_bucket_in_us_east_1_is_ok(s3):
    """API_CreateBucket, Errors, BucketAlreadyOwnedByYou: "For legacy compatibility, if
    you re-create an existing bucket that you already own in the North Virginia Region,
    Amazon S3 returns 200 OK and resets the bucket access control lists (ACLs)."
    NOTE: contradicts test_s3_basics.test_bucket_lifecycle, which expects 409 here."""
    name = new_name("own")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"kept")
    r = s3.create_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"kept"


def test_bucket_of_another_account_already_exists(endpoint, s3):
    """Error BucketAlreadyExists: "The requested bucket name is not available. The bucket
    namespace is shared by all users of the system." 409."""
    name = new_name("taken")
    s3.create_bucket(Bucket=name)
    other = s3_client(endpoint, key=OTHER_ACCOUNT)
    code, st, _, _ = error_of(lambda: other.create_bucket(Bucket=name))
    assert (code, st) == ("BucketAlreadyExists", 409)


@pytest.mark.skip(reason="UNSURE of S3: the Location of a bucket created outside us-east-1 is undocumented (nimbus: /<bucket>).")
def test_create_bucket_location_outside_us_east_1(endpoint):
    """UNSURE: API_CreateBucket documents Location only as "A forward slash followed by
    the name of the bucket"; outside us-east-1 S3 answers with the bucket's virtual-host
    URL, e.g. aws s3api create-bucket ... LocationConstraint=ap-northeast-1 printing
    {"Location": "http://test-bucket.s3.amazonaws.com/"} (qiita.com/eyuta/items/3f39536aae51cdf0d197)."""
    west = s3_client(endpoint, region="eu-west-1")
    name = new_name("loc")
    r = west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert r["Location"] == f"http://{name}.s3.amazonaws.com/"


# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
INVALID_NAMES = [
    "ab",                       # "between 3 (min) and 63 (max) characters long"
    "a" * 64,
    "Upper-case",               # "only of lowercase letters, numbers, periods (.), and hyphens (-)"
    "under_score",
    "-leading", "trailing-",    # "must begin and end with a letter or number"
    ".leading", "trailing.",
    "two..periods",             # "must not contain two adjacent periods"
    "192.168.5.4",              # "must not be formatted as an IP address"
    "xn--punycode",             # "must not start with the prefix xn--"
    "name--x-s3",               # "must not end with the suffix --x-s3"
    "name--table-s3",           # "must not end with the suffix --table-s3"
]


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_bucket_names(endpoint, name):
    r = send(endpoint, "PUT", f"/{name}")
    assert r.status_code == 400, r.text
    assert ET.fromstring(r.content).findtext("Code") == "InvalidBucketName"


def test_valid_bucket_name_edges(s3):
    u = uuid.uuid4().hex
    for name in (u[:3], (u * 2)[:63], f"{u[:8]}.with.dots", f"{u[:6]}-1-2", "9" + u[:9]):
        s3.create_bucket(Bucket=name)
        s3.head_bucket(Bucket=name)


# ==========================================================================
# HeadBucket / GetBucketLocation
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html
#   "You can make a HeadBucket call on any bucket name to any Region in the partition,
#    and regardless of the permissions on the bucket, you will receive a response
#    header with the correct bucket location".  "If the bucket doesn't exist or you
#    don't have permission to access it, the HEAD request returns a generic 400 Bad
#    Request, 403 Forbidden, or 404 Not Found HTTP status code. A message body isn't
#    included".  Response headers: x-amz-bucket-region, x-amz-access-point-alias
#    ("Indicates whether the bucket name used in the request is an access point alias").
# ==========================================================================

def test_head_bucket_response_headers(s3, bucket):
    """aws s3api head-bucket on a plain bucket prints {"BucketRegion": "us-east-1",
    "AccessPointAlias": false} (versity/versitygw#487 quoting AWS)."""
    r = s3.head_bucket(Bucket=bucket)
    assert r["BucketRegion"] == "us-east-1"
    assert r["ResponseMetadata"]["HTTPHeaders"].get("x-amz-access-point-alias") == "false"
    assert r.get("AccessPointAlias") is False


def test_head_bucket_without_permission_still_tells_the_region(endpoint, s3):
    name = new_name("hb")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    r = send(endpoint, "HEAD", f"/{name}", region="eu-west-1", key=OTHER_ACCOUNT)
    assert r.status_code == 403 and r.content == b""
    assert r.headers.get("x-amz-bucket-region") == "eu-west-1"


def test_head_bucket_missing_is_404_without_a_body(endpoint):
    r = send(endpoint, "HEAD", f"/{new_name('missing')}")
    assert r.status_code == 404 and r.content == b""


def test_get_bucket_location_documents(endpoint, s3, bucket):
    """API_GetBucketLocation: "Buckets in Region us-east-1 have a LocationConstraint of
    null" - an empty <LocationConstraint/> on the wire.  "In a bucket's home Region,
    calls to the GetBucketLocation operation are governed by the bucket's policy" - so
    another account without a grant is refused."""
    r = send(endpoint, "GET", f"/{bucket}?location")
    assert r.status_code == 200
    root = ET.fromstring(r.content)
    assert root.tag == f"{S3_NS}LocationConstraint" and not (root.text or "").strip()
    west = new_name("gl")
    s3.create_bucket(Bucket=west, CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    assert ET.fromstring(send(endpoint, "GET", f"/{west}?location").content).text == "ap-south-1"
    other = s3_client(endpoint, key=OTHER_ACCOUNT)
    assert error_of(lambda: other.get_bucket_location(Bucket=bucket))[:2] == ("AccessDenied", 403)


# ==========================================================================
# ListBuckets (2024: max-buckets, continuation-token, prefix, bucket-region)
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
#   bucket-region: "Limits the response to buckets that are located in the specified
#   Amazon Web Services Region."  max-buckets: "Valid Range: Minimum value of 1.
#   Maximum value of 10000."  Bucket/BucketRegion: "BucketRegion indicates the Amazon
#   Web Services region where the bucket is located."  "Returns a list of all buckets
#   owned by the authenticated sender of the request."
# ==========================================================================

def test_list_buckets_filters_by_region(endpoint, s3):
    prefix = f"lr-{uuid.uuid4().hex[:8]}-"
    want = {f"{prefix}a": "eu-west-1", f"{prefix}b": "ap-south-1", f"{prefix}c": "eu-west-1", f"{prefix}d": None}
    for name, region in want.items():
        kw = {"CreateBucketConfiguration": {"LocationConstraint": region}} if region else {}
        s3.create_bucket(Bucket=name, **kw)
    everything = s3.list_buckets(Prefix=prefix)
    assert [(b["Name"], b["BucketRegion"]) for b in everything["Buckets"]] == [
        (n, r or "us-east-1") for n, r in sorted(want.items())]
    # "Requests made to a Regional endpoint that is different from the bucket-region
    # parameter are not supported" - so ask with a client of that region.
    west = s3_client(endpoint, region="eu-west-1")
    r = west.list_buckets(Prefix=prefix, BucketRegion="eu-west-1")
    assert [(b["Name"], b["BucketRegion"]) for b in r["Buckets"]] == [(f"{prefix}a", "eu-west-1"), (f"{prefix}c", "eu-west-1")]
    assert r["Prefix"] == prefix and "ContinuationToken" not in r
    # Paged and filtered together.
    r = west.list_buckets(Prefix=prefix, BucketRegion="eu-west-1", MaxBuckets=1)
    assert [b["Name"] for b in r["Buckets"]] == [f"{prefix}a"] and r["ContinuationToken"]
    r = west.list_buckets(Prefix=prefix, BucketRegion="eu-west-1", MaxBuckets=1, ContinuationToken=r["ContinuationToken"])
    assert [b["Name"] for b in r["Buckets"]] == [f"{prefix}c"]
    # The last page may or may not carry a token that leads to an empty page; following it must end.
    if "ContinuationToken" in r:
        r = west.list_buckets(Prefix=prefix, BucketRegion="eu-west-1", MaxBuckets=1, ContinuationToken=r["ContinuationToken"])
        assert r.get("Buckets", []) == [] and "ContinuationToken" not in r


@pytest.mark.parametrize("value", ["0", "10001", "-1"])
def test_list_buckets_max_buckets_out_of_range(endpoint, value):
    r = send(endpoint, "GET", f"/?max-buckets={value}")
    assert r.status_code == 400, r.text
    assert ET.fromstring(r.content).findtext("Code") == "InvalidArgument"


def test_list_buckets_shows_only_the_callers_buckets(endpoint, s3):
    mine = new_name("mine")
    s3.create_bucket(Bucket=mine)
    other = s3_client(endpoint, key=OTHER_ACCOUNT)
    theirs = new_name("theirs")
    other.create_bucket(Bucket=theirs)
    names_mine = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    names_theirs = [b["Name"] for b in other.list_buckets()["Buckets"]]
    assert mine in names_mine and theirs not in names_mine
    assert theirs in names_theirs and mine not in names_theirs


# ==========================================================================
# DeleteBucket
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html
#   "All objects (including all object versions and delete markers) in the bucket must
#    be deleted before the bucket itself can be deleted."
# ==========================================================================

def test_delete_bucket_with_only_a_null_delete_marker(s3, vbucket):
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_object(Bucket=vbucket, Key="ghost")  # a null delete marker and nothing else
    assert s3.list_objects_v2(Bucket=vbucket)["KeyCount"] == 0
    assert error_of(lambda: s3.delete_bucket(Bucket=vbucket))[:2] == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket=vbucket, Key="ghost", VersionId="null")
    s3.delete_bucket(Bucket=vbucket)


def test_delete_bucket_missing_or_not_yours(endpoint, s3, bucket):
    assert error_of(lambda: s3.delete_bucket(Bucket=new_name("missing")))[:2] == ("NoSuchBucket", 404)
    other = s3_client(endpoint, key=OTHER_ACCOUNT)
    assert error_of(lambda: other.delete_bucket(Bucket=bucket))[:2] == ("AccessDenied", 403)
    s3.head_bucket(Bucket=bucket)
