"""S3 Object Lock and MFA delete end to end with boto3 and the aws CLI, written from
AWS's S3 User Guide ("Locking objects with Object Lock", "Configuring MFA delete",
"Deleting an object from an MFA delete-enabled bucket") and the API reference of
CreateBucket, Put/GetObjectLockConfiguration, Put/GetObjectRetention,
Put/GetObjectLegalHold, PutObject, DeleteObject, DeleteObjects and PutBucketVersioning.

nimbus cannot verify MFA codes: any well-formed "serial code" pair is accepted."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from test_s3_basics import s3_client

MFA = "arn:aws:iam::000000000000:mfa/root-account-mfa-device 123456"
MFA_REQUIRED = "Mfa Authentication must be used for this request"


def code(exc):
    return exc.response["Error"]["Code"]


def status(exc):
    return exc.response["ResponseMetadata"]["HTTPStatusCode"]


def message(exc):
    return exc.response["Error"].get("Message", "")


def md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def future(days=1):
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=days)


def new_name(prefix="ol"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def lbucket(s3):
    """A bucket created with Object Lock enabled."""
    name = new_name()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def put(s3, bucket, key, body=b"data", **kw):
    return s3.put_object(Bucket=bucket, Key=key, Body=body, ContentMD5=md5(body), **kw)


def test_create_with_object_lock_enables_versioning_and_config(s3, lbucket):
    assert s3.get_bucket_versioning(Bucket=lbucket)["Status"] == "Enabled"
    c = s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"]
    assert c == {"ObjectLockEnabled": "Enabled"}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=lbucket, VersioningConfiguration={"Status": "Suspended"})
    assert (code(e.value), status(e.value)) == ("InvalidBucketState", 409)


def test_lock_configuration_round_trip_and_errors(s3, lbucket, bucket):
    rule = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3}}
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule})
    got = s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"]
    assert got == {"ObjectLockEnabled": "Enabled", "Rule": rule}
    years = {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}}
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": years})
    assert s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"]["Rule"] == years
    # Days and Years together, or a period that is not positive, are refused.
    with pytest.raises(ClientError) as e:
        s3.put_object_lock_configuration(
            Bucket=lbucket,
            ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}},
        )
    assert code(e.value) == "MalformedXML"
    with pytest.raises(ClientError) as e:
        s3.put_object_lock_configuration(
            Bucket=lbucket,
            ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 0}}},
        )
    assert code(e.value) == "InvalidArgument"
    # A bucket without Object Lock has no configuration.
    with pytest.raises(ClientError) as e:
        s3.get_object_lock_configuration(Bucket=bucket)
    assert (code(e.value), status(e.value)) == ("ObjectLockConfigurationNotFoundError", 404)
    # Enabling it later needs versioning enabled; then it is allowed.
    with pytest.raises(ClientError) as e:
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert (code(e.value), status(e.value)) == ("InvalidBucketState", 409)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"


def test_retention_and_legal_hold_need_object_lock(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for call in (
        lambda: s3.get_object_retention(Bucket=bucket, Key="k"),
        lambda: s3.put_object_retention(Bucket=bucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future()}),
        lambda: s3.get_object_legal_hold(Bucket=bucket, Key="k"),
        lambda: s3.put_object_legal_hold(Bucket=bucket, Key="k", LegalHold={"Status": "ON"}),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert (code(e.value), status(e.value)) == ("InvalidRequest", 400)
        assert message(e.value) == "Bucket is missing Object Lock Configuration"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future())
    assert code(e.value) == "InvalidRequest"


def test_put_headers_are_stored_and_reported(s3, lbucket):
    until = future(2)
    v = put(s3, lbucket, "k", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")["VersionId"]
    head = s3.head_object(Bucket=lbucket, Key="k")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == until
    assert head["ObjectLockLegalHoldStatus"] == "ON"
    got = s3.get_object(Bucket=lbucket, Key="k", VersionId=v)
    assert (got["ObjectLockMode"], got["ObjectLockLegalHoldStatus"]) == ("COMPLIANCE", "ON")
    assert s3.get_object_retention(Bucket=lbucket, Key="k")["Retention"] == {"Mode": "COMPLIANCE", "RetainUntilDate": until}
    assert s3.get_object_legal_hold(Bucket=lbucket, Key="k", VersionId=v)["LegalHold"] == {"Status": "ON"}
    # A version without either has no ObjectLock configuration to return.
    put(s3, lbucket, "plain")
    with pytest.raises(ClientError) as e:
        s3.get_object_retention(Bucket=lbucket, Key="plain")
    assert (code(e.value), status(e.value)) == ("NoSuchObjectLockConfiguration", 404)
    # Mode without a date, and a date in the past, are refused.
    with pytest.raises(ClientError) as e:
        put(s3, lbucket, "bad", ObjectLockMode="GOVERNANCE")
    assert code(e.value) == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        put(s3, lbucket, "bad", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future(-1))
    assert code(e.value) == "InvalidArgument"


def test_default_retention_applied_to_new_versions(s3, lbucket):
    s3.put_object_lock_configuration(
        Bucket=lbucket,
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}},
    )
    before = dt.datetime.now(dt.timezone.utc)
    put(s3, lbucket, "k")
    r = s3.get_object_retention(Bucket=lbucket, Key="k")["Retention"]
    assert r["Mode"] == "GOVERNANCE"
    delta = r["RetainUntilDate"] - before
    assert dt.timedelta(hours=23, minutes=59) < delta < dt.timedelta(days=1, minutes=1)
    # Copies and multipart uploads get it too.
    s3.copy_object(Bucket=lbucket, Key="copy", CopySource={"Bucket": lbucket, "Key": "k"})
    assert s3.head_object(Bucket=lbucket, Key="copy")["ObjectLockMode"] == "GOVERNANCE"
    up = s3.create_multipart_upload(Bucket=lbucket, Key="mp")["UploadId"]
    body = b"p" * 10
    part = s3.upload_part(Bucket=lbucket, Key="mp", UploadId=up, PartNumber=1, Body=body, ContentMD5=md5(body))
    s3.complete_multipart_upload(Bucket=lbucket, Key="mp", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=lbucket, Key="mp")["ObjectLockMode"] == "GOVERNANCE"


def test_compliance_version_cannot_be_deleted_but_gets_delete_marker(s3, lbucket):
    v = put(s3, lbucket, "k", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=future())["VersionId"]
    for bypass in (False, True):
        with pytest.raises(ClientError) as e:
            s3.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=bypass)
        assert (code(e.value), status(e.value)) == ("AccessDenied", 403)
        assert message(e.value) == "Access Denied because object protected by object lock."
    r = s3.delete_objects(Bucket=lbucket, Delete={"Objects": [{"Key": "k", "VersionId": v}]})
    assert [(x["Key"], x["Code"]) for x in r["Errors"]] == [("k", "AccessDenied")]
    # Without a version id a delete marker is added: allowed.
    d = s3.delete_object(Bucket=lbucket, Key="k")
    assert d["DeleteMarker"] is True
    assert s3.head_object(Bucket=lbucket, Key="k", VersionId=v)["ObjectLockMode"] == "COMPLIANCE"
    # Compliance retention cannot be shortened or turned into governance.
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=lbucket, Key="k", VersionId=v, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": future(0) + dt.timedelta(hours=1)}, BypassGovernanceRetention=True)
    assert code(e.value) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=lbucket, Key="k", VersionId=v, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future(5)}, BypassGovernanceRetention=True)
    assert code(e.value) == "AccessDenied"
    # ... but can be extended.
    s3.put_object_retention(Bucket=lbucket, Key="k", VersionId=v, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": future(3)})


def test_governance_bypass(s3, lbucket):
    v = put(s3, lbucket, "k", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future())["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=v)
    assert code(e.value) == "AccessDenied"
    # Shortening governance retention needs the bypass header.
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": future(0) + dt.timedelta(hours=1)}
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=lbucket, Key="k", VersionId=v, Retention=shorter)
    assert code(e.value) == "AccessDenied"
    s3.put_object_retention(Bucket=lbucket, Key="k", VersionId=v, Retention=shorter, BypassGovernanceRetention=True)
    v2 = put(s3, lbucket, "k2", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future())["VersionId"]
    r = s3.delete_objects(Bucket=lbucket, BypassGovernanceRetention=True, Delete={"Objects": [{"Key": "k2", "VersionId": v2}]})
    assert [x["VersionId"] for x in r["Deleted"]] == [v2]
    s3.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket=lbucket)


def bypass_policy(bucket, effect, principal="*", extra_actions=()):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": effect, "Principal": principal, "Action": ["s3:BypassGovernanceRetention", *extra_actions],
        "Resource": f"arn:aws:s3:::{bucket}/*"}]})


def test_bypass_denied_by_bucket_policy(s3, lbucket):
    """"To use this header, you must have the s3:BypassGovernanceRetention permission"
    (DeleteObject, DeleteObjects, PutObjectRetention): an explicit Deny takes it from
    the bucket owner too, and the header is then refused."""
    v = put(s3, lbucket, "k", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future())["VersionId"]
    s3.put_bucket_policy(Bucket=lbucket, Policy=bypass_policy(lbucket, "Deny"))
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert (code(e.value), status(e.value)) == ("AccessDenied", 403)
    r = s3.delete_objects(Bucket=lbucket, BypassGovernanceRetention=True, Delete={"Objects": [{"Key": "k", "VersionId": v}]})
    assert [(x["Key"], x["Code"]) for x in r["Errors"]] == [("k", "AccessDenied")] and "Deleted" not in r
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": future(0) + dt.timedelta(hours=1)}
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=lbucket, Key="k", VersionId=v, Retention=shorter, BypassGovernanceRetention=True)
    assert (code(e.value), status(e.value)) == ("AccessDenied", 403)
    assert s3.get_object_retention(Bucket=lbucket, Key="k", VersionId=v)["Retention"]["RetainUntilDate"] > future(0) + dt.timedelta(hours=2)
    assert s3.head_object(Bucket=lbucket, Key="k", VersionId=v)["ObjectLockMode"] == "GOVERNANCE"
    # Deletes that need no bypass still work (a delete marker; a version without retention).
    free = put(s3, lbucket, "free")["VersionId"]
    s3.delete_object(Bucket=lbucket, Key="free", VersionId=free)
    assert s3.delete_object(Bucket=lbucket, Key="k")["DeleteMarker"] is True
    # Without the Deny the owner may bypass again.
    s3.delete_bucket_policy(Bucket=lbucket)
    s3.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert [x["VersionId"] for x in s3.list_object_versions(Bucket=lbucket).get("Versions", [])] == []


def test_another_account_needs_an_allow_to_bypass(endpoint, s3, lbucket):
    """Another account may bypass governance only when the bucket policy allows it
    s3:BypassGovernanceRetention."""
    other = s3_client(endpoint, key="111122223333")
    v = put(s3, lbucket, "k", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future())["VersionId"]
    may_delete = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                  "Action": ["s3:DeleteObjectVersion", "s3:PutObjectRetention"], "Resource": f"arn:aws:s3:::{lbucket}/*"}
    s3.put_bucket_policy(Bucket=lbucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [may_delete]}))
    with pytest.raises(ClientError) as e:
        other.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert (code(e.value), status(e.value)) == ("AccessDenied", 403)
    assert s3.head_object(Bucket=lbucket, Key="k", VersionId=v)["VersionId"] == v
    may_bypass = {**may_delete, "Action": "s3:BypassGovernanceRetention"}
    s3.put_bucket_policy(Bucket=lbucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [may_delete, may_bypass]}))
    other.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket=lbucket)


def test_legal_hold_blocks_delete(s3, lbucket):
    v = put(s3, lbucket, "k")["VersionId"]
    s3.put_object_legal_hold(Bucket=lbucket, Key="k", VersionId=v, LegalHold={"Status": "ON"})
    assert s3.head_object(Bucket=lbucket, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert (code(e.value), status(e.value)) == ("AccessDenied", 403)
    s3.put_object_legal_hold(Bucket=lbucket, Key="k", VersionId=v, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=lbucket, Key="k")["LegalHold"] == {"Status": "OFF"}
    s3.delete_object(Bucket=lbucket, Key="k", VersionId=v)


def raw_put(url, headers=None):
    """A SigV4-signed PUT of one byte with neither Content-MD5 nor an x-amz-checksum-*
    header (what SDKs that skip checksums send); returns (status, body)."""
    import urllib.error
    import urllib.request

    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    req = botocore.awsrequest.AWSRequest(method="PUT", url=url, data=b"x", headers=headers or {})
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials("test", "test"), "s3", "us-east-1").add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(prepared.url, data=b"x", method="PUT", headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


INTEGRITY = "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"


def test_put_without_integrity_header_refused_on_lock_params(s3, endpoint, lbucket):
    """AWS requires Content-MD5 or an x-amz-checksum-* header on puts with Object Lock
    parameters (its own, or the bucket's default retention) and on their parts."""
    # No lock parameters and no default retention: accepted.
    assert raw_put(f"{endpoint}/{lbucket}/plain")[0] == 200
    lock = {"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": future().strftime("%Y-%m-%dT%H:%M:%SZ")}
    st, body = raw_put(f"{endpoint}/{lbucket}/raw", lock)
    assert st == 400 and "<Code>InvalidRequest</Code>" in body and INTEGRITY in body
    up = s3.create_multipart_upload(Bucket=lbucket, Key="mp", ObjectLockLegalHoldStatus="ON")["UploadId"]
    st, body = raw_put(f"{endpoint}/{lbucket}/mp?partNumber=1&uploadId={up}")
    assert st == 400 and INTEGRITY in body
    s3.put_object_lock_configuration(
        Bucket=lbucket,
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}},
    )
    st, body = raw_put(f"{endpoint}/{lbucket}/plain")
    assert st == 400 and INTEGRITY in body


def test_mfa_delete(s3, bucket):
    # Enabling MFA delete needs x-amz-mfa.
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert (code(e.value), status(e.value)) == ("AccessDenied", 403)
    s3.put_bucket_versioning(Bucket=bucket, MFA=MFA, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket) | {"ResponseMetadata": None} == {"Status": "Enabled", "MFADelete": "Enabled", "ResponseMetadata": None}
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    # A delete marker needs no MFA; a permanent delete does.
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="k", VersionId=v)
    assert (code(e.value), status(e.value)) == ("AccessDenied", 403)
    # The text AWS's knowledge center article "How do I turn on MFA delete for my
    # Amazon S3 bucket?" shows for a version delete without MFA.
    assert message(e.value) == MFA_REQUIRED
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": marker}]})
    assert [(x["Code"], x["Message"]) for x in r["Errors"]] == [("AccessDenied", MFA_REQUIRED)]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v, MFA=MFA)
    s3.delete_objects(Bucket=bucket, MFA=MFA, Delete={"Objects": [{"Key": "k", "VersionId": marker}]})
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)
    # Changing the versioning state needs it too.
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert (code(e.value), message(e.value)) == ("AccessDenied", MFA_REQUIRED)
    s3.put_bucket_versioning(Bucket=bucket, MFA=MFA, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["MFADelete"] == "Disabled"
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v)


def test_cli_object_lock(aws_cli):
    name = new_name("olcli")
    aws_cli("s3api", "create-bucket", "--bucket", name, "--object-lock-enabled-for-bucket")
    aws_cli(
        "s3api", "put-object-lock-configuration", "--bucket", name,
        "--object-lock-configuration", '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"COMPLIANCE","Days":1}}}',
    )
    _, got, _ = aws_cli("s3api", "get-object-lock-configuration", "--bucket", name)
    assert got["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Days": 1}
    _, put_out, _ = aws_cli("s3api", "put-object", "--bucket", name, "--key", "k", "--content-md5", md5(b""))
    v = put_out["VersionId"]
    _, ret, _ = aws_cli("s3api", "get-object-retention", "--bucket", name, "--key", "k")
    assert ret["Retention"]["Mode"] == "COMPLIANCE"
    rc, _, err = aws_cli("s3api", "delete-object", "--bucket", name, "--key", "k", "--version-id", v, "--bypass-governance-retention", check=False)
    assert rc != 0 and "AccessDenied" in err
    rc, _, err = aws_cli("s3api", "get-object-lock-configuration", "--bucket", new_bucket_cli(aws_cli), check=False)
    assert rc != 0 and "ObjectLockConfigurationNotFoundError" in err


def new_bucket_cli(aws_cli):
    name = new_name("plain")
    aws_cli("s3api", "create-bucket", "--bucket", name)
    return name


@pytest.mark.own_server
def test_lifecycle_keeps_locked_versions(nimbus_factory):
    """Lifecycle expiration adds delete markers and removes noncurrent versions, but
    never a version Object Lock holds."""
    import nimbus_helpers as h
    from test_s3_basics import s3_client

    srv = nimbus_factory(env={"NIMBUS_S3_LIFECYCLE_DAY_SECONDS": "1"})
    c = s3_client(srv.endpoint)
    c.create_bucket(Bucket="lock-lc", ObjectLockEnabledForBucket=True)
    c.put_bucket_lifecycle_configuration(Bucket="lock-lc", LifecycleConfiguration={"Rules": [
        {"ID": "all", "Filter": {"Prefix": ""}, "Status": "Enabled",
         "Expiration": {"Days": 1}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
    ]})
    locked = put(c, "lock-lc", "locked", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future())["VersionId"]
    held = put(c, "lock-lc", "held", ObjectLockLegalHoldStatus="ON")["VersionId"]
    put(c, "lock-lc", "free")

    def state():
        r = c.list_object_versions(Bucket="lock-lc")
        return (sorted((v["Key"], v["VersionId"]) for v in r.get("Versions", [])),
                sorted(m["Key"] for m in r.get("DeleteMarkers", [])))

    # Every current version expires behind a delete marker; "free" then goes entirely.
    h.wait_until(lambda: state()[1] == ["free", "held", "locked"] and all(k != "free" for k, _ in state()[0]),
                 timeout=20, message="lifecycle expiration")
    time.sleep(3)
    assert state()[0] == sorted([("held", held), ("locked", locked)])


@pytest.mark.own_server
def test_lock_settings_survive_restart(nimbus_factory):
    from test_s3_basics import s3_client

    srv = nimbus_factory()
    c = s3_client(srv.endpoint)
    c.create_bucket(Bucket="lock-durable", ObjectLockEnabledForBucket=True)
    c.put_object_lock_configuration(Bucket="lock-durable", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 2}}})
    c.put_bucket_versioning(Bucket="lock-durable", MFA=MFA, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    v = put(c, "lock-durable", "k", ObjectLockLegalHoldStatus="ON")["VersionId"]
    until = c.get_object_retention(Bucket="lock-durable", Key="k")["Retention"]["RetainUntilDate"]
    srv.kill()  # kill -9
    srv.restart()
    c = s3_client(srv.endpoint)
    assert c.get_object_lock_configuration(Bucket="lock-durable")["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Days": 2}
    assert c.get_bucket_versioning(Bucket="lock-durable")["MFADelete"] == "Enabled"
    assert c.get_object_retention(Bucket="lock-durable", Key="k", VersionId=v)["Retention"] == {"Mode": "COMPLIANCE", "RetainUntilDate": until}
    assert c.get_object_legal_hold(Bucket="lock-durable", Key="k")["LegalHold"] == {"Status": "ON"}
    with pytest.raises(ClientError) as e:
        c.delete_object(Bucket="lock-durable", Key="k", VersionId=v, MFA=MFA)
    assert message(e.value) == "Access Denied because object protected by object lock."
