"""S3 lifecycle configuration end to end, written from AWS's S3 API reference
(PutBucketLifecycleConfiguration, GetBucketLifecycleConfiguration,
DeleteBucketLifecycle) and the User Guide's "Managing the lifecycle of objects"
(expiration by Days/Date, prefix and tag filters, NoncurrentVersionExpiration,
expired object delete markers, AbortIncompleteMultipartUpload, lifecycle event
notifications).

Expiry tests run a server of their own with NIMBUS_S3_LIFECYCLE_DAY_SECONDS=1, so
a lifecycle "day" lasts one second (due times still round up to the next day)."""

from __future__ import annotations

import datetime
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

import nimbus_helpers as h
from test_s3_basics import s3_client

DAY_ENV = {"NIMBUS_S3_LIFECYCLE_DAY_SECONDS": "1"}


def code(exc):
    return exc.response["Error"]["Code"]


def status(exc):
    return exc.response["ResponseMetadata"]["HTTPStatusCode"]


def eventually(check, timeout=15.0, interval=0.25):
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


RULES = [
    {
        "ID": "expire-logs",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 30},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 2},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3},
    },
    {
        "ID": "scratch",
        "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "class", "Value": "scratch"}]}},
        "Status": "Disabled",
        "Expiration": {"Date": datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)},
    },
    {"ID": "markers", "Filter": {"Tag": {"Key": "a", "Value": "b"}}, "Status": "Enabled",
     "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}]},
]


def test_configuration_round_trip(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert code(e.value) == "NoSuchLifecycleConfiguration" and status(e.value) == 404
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": RULES})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert got == RULES
    # A put replaces the whole configuration.
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": RULES[:1]})
    assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]] == ["expire-logs"]
    r = s3.delete_bucket_lifecycle(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert code(e.value) == "NoSuchLifecycleConfiguration"
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=f"missing-{uuid.uuid4().hex[:8]}")
    assert code(e.value) == "NoSuchBucket"


@pytest.mark.parametrize("rule, expected", [
    ({"Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 0}}, "InvalidArgument"),
    ({"Filter": {"Prefix": ""}, "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": -1}}, "InvalidArgument"),
    ({"Filter": {"Prefix": ""}, "Status": "Enabled",
      "Expiration": {"Date": datetime.datetime(2030, 1, 1, 12, tzinfo=datetime.timezone.utc)}}, "InvalidArgument"),
    ({"Filter": {"Prefix": ""}, "Status": "Enabled"}, "InvalidRequest"),
    ({"Filter": {"Prefix": "a", "Tag": {"Key": "k", "Value": "v"}}, "Status": "Enabled", "Expiration": {"Days": 1}}, "MalformedXML"),
    ({"Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": True}}, "MalformedXML"),
    ({"ID": "x" * 256, "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 1}}, "InvalidArgument"),
])
def test_invalid_rules_rejected(s3, bucket, rule, expected):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule]})
    assert code(e.value) == expected and status(e.value) == 400


def test_rule_ids_must_be_unique(s3, bucket):
    rule = {"ID": "same", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 1}}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule, dict(rule)]})
    assert code(e.value) == "InvalidArgument"


@pytest.fixture
def fast_days(nimbus_factory):
    """A server whose lifecycle day lasts one second, and an S3 client for it."""
    srv = nimbus_factory(env=DAY_ENV)
    return srv, s3_client(srv.endpoint)


def keys(c, bucket):
    return [o["Key"] for o in c.list_objects_v2(Bucket=bucket).get("Contents", [])]


def all_versions(c, bucket):
    r = c.list_object_versions(Bucket=bucket)
    return ([(v["Key"], "V", v["IsLatest"]) for v in r.get("Versions", [])]
            + [(m["Key"], "M", m["IsLatest"]) for m in r.get("DeleteMarkers", [])])


@pytest.mark.own_server
def test_expiration_by_prefix_and_tag(fast_days):
    _, c = fast_days
    c.create_bucket(Bucket="exp")
    c.put_bucket_lifecycle_configuration(Bucket="exp", LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "scratch", "Filter": {"Tag": {"Key": "class", "Value": "scratch"}}, "Status": "Enabled", "Expiration": {"Days": 2}},
        {"ID": "off", "Filter": {"Prefix": "keep/"}, "Status": "Disabled", "Expiration": {"Days": 1}},
    ]})
    c.put_object(Bucket="exp", Key="tmp/a", Body=b"1")
    c.put_object(Bucket="exp", Key="data/scratch", Body=b"2", Tagging="class=scratch")
    c.put_object(Bucket="exp", Key="data/kept", Body=b"3", Tagging="class=gold")
    c.put_object(Bucket="exp", Key="keep/b", Body=b"4")
    eventually(lambda: keys(c, "exp") == ["data/kept", "keep/b"])
    # Unversioned: expired objects are gone, not hidden behind delete markers.
    assert [k for k, _, _ in all_versions(c, "exp")] == ["data/kept", "keep/b"]
    time.sleep(2.5)
    assert keys(c, "exp") == ["data/kept", "keep/b"]


@pytest.mark.own_server
def test_expiration_on_a_date(fast_days):
    _, c = fast_days
    c.create_bucket(Bucket="dated")
    c.put_object(Bucket="dated", Key="old", Body=b"x")
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    c.put_bucket_lifecycle_configuration(Bucket="dated", LifecycleConfiguration={"Rules": [
        {"ID": "d", "Filter": {}, "Status": "Enabled", "Expiration": {"Date": past}}]})
    eventually(lambda: keys(c, "dated") == [])


@pytest.mark.own_server
def test_versioned_expiration_markers_and_noncurrent_versions(fast_days):
    srv, c = fast_days
    sqs = h.make_client(srv.endpoint)
    url = sqs.create_queue(QueueName="lifecycle-events")["QueueUrl"]
    arn = h.allow_s3_notifications(sqs, url)
    c.create_bucket(Bucket="vexp")
    c.put_bucket_versioning(Bucket="vexp", VersioningConfiguration={"Status": "Enabled"})
    c.put_bucket_notification_configuration(Bucket="vexp", NotificationConfiguration={"QueueConfigurations": [
        {"Id": "lc", "QueueArn": arn, "Events": ["s3:LifecycleExpiration:*"]}]})
    c.put_bucket_lifecycle_configuration(Bucket="vexp", LifecycleConfiguration={"Rules": [
        {"ID": "current", "Filter": {"Prefix": "a"}, "Status": "Enabled", "Expiration": {"Days": 1},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
        {"ID": "markers", "Filter": {"Prefix": "a"}, "Status": "Enabled", "Expiration": {"ExpiredObjectDeleteMarker": True}},
    ]})
    c.put_object(Bucket="vexp", Key="a", Body=b"x")
    c.put_object(Bucket="vexp", Key="b", Body=b"y")
    # The current version expires behind a delete marker ...
    eventually(lambda: ("a", "M", True) in all_versions(c, "vexp"), timeout=10)
    # ... then the noncurrent version goes, then the delete marker left alone.
    eventually(lambda: all_versions(c, "vexp") == [("b", "V", True)], timeout=15)
    records = []

    def got_events():
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", []):
            records.extend(json.loads(m["Body"]).get("Records", []))
        return len(records) >= 3

    eventually(got_events, timeout=10)
    records.sort(key=lambda r: r["s3"]["object"]["sequencer"])
    assert [r["eventName"] for r in records] == [
        "LifecycleExpiration:DeleteMarkerCreated", "LifecycleExpiration:Delete", "LifecycleExpiration:Delete"]
    assert all(r["s3"]["object"]["key"] == "a" and r["s3"]["object"]["versionId"] for r in records)
    # Lifecycle actions are S3's own doing.
    assert {r["userIdentity"]["principalId"] for r in records} == {"s3.amazonaws.com"}
    assert {r["requestParameters"]["sourceIPAddress"] for r in records} == {"s3.amazonaws.com"}


@pytest.mark.own_server
def test_newer_noncurrent_versions_are_kept(fast_days):
    _, c = fast_days
    c.create_bucket(Bucket="keepn")
    c.put_bucket_versioning(Bucket="keepn", VersioningConfiguration={"Status": "Enabled"})
    c.put_bucket_lifecycle_configuration(Bucket="keepn", LifecycleConfiguration={"Rules": [
        {"ID": "nc", "Filter": {"Prefix": ""}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}}]})
    ids = [c.put_object(Bucket="keepn", Key="k", Body=str(i).encode())["VersionId"] for i in range(4)]
    eventually(lambda: len(all_versions(c, "keepn")) == 2)
    r = c.list_object_versions(Bucket="keepn")
    assert [v["VersionId"] for v in r["Versions"]] == [ids[3], ids[2]]


@pytest.mark.own_server
def test_incomplete_multipart_uploads_are_aborted(fast_days):
    _, c = fast_days
    c.create_bucket(Bucket="mpu")
    c.put_bucket_lifecycle_configuration(Bucket="mpu", LifecycleConfiguration={"Rules": [
        {"ID": "abort", "Filter": {"Prefix": "uploads/"}, "Status": "Enabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})
    doomed = c.create_multipart_upload(Bucket="mpu", Key="uploads/big")["UploadId"]
    c.upload_part(Bucket="mpu", Key="uploads/big", UploadId=doomed, PartNumber=1, Body=b"part")
    kept = c.create_multipart_upload(Bucket="mpu", Key="other/big")["UploadId"]
    eventually(lambda: [u["UploadId"] for u in c.list_multipart_uploads(Bucket="mpu").get("Uploads", [])] == [kept])
    with pytest.raises(ClientError) as e:
        c.list_parts(Bucket="mpu", Key="uploads/big", UploadId=doomed)
    assert code(e.value) == "NoSuchUpload"


@pytest.mark.own_server
def test_configuration_survives_restart(nimbus_factory):
    srv = nimbus_factory()
    c = s3_client(srv.endpoint)
    c.create_bucket(Bucket="lc-durable")
    c.put_bucket_lifecycle_configuration(Bucket="lc-durable", LifecycleConfiguration={"Rules": RULES})
    srv.kill()  # kill -9
    srv.restart()
    c = s3_client(srv.endpoint)
    assert c.get_bucket_lifecycle_configuration(Bucket="lc-durable")["Rules"] == RULES
