"""Conformance probes for S3 event notifications (to SQS and Lambda), written from
AWS's documentation, not from nimbus's code. Sources:

- User Guide, "Event message structure" (notification-content-structure): field set,
  eventVersion 2.5 (one version for all event types since 2.4), keys URL-encoded as application/x-www-form-urlencoded,
  sequencer, glacierEventData only on ObjectRestore:Completed, lifecycleEventData
  only on LifecycleTransition, the s3:TestEvent message.
- User Guide, "Event notification types and destinations": the event types, "You
  don't receive event notifications from failed operations", ObjectRemoved events
  "don't alert you for automatic deletes from Lifecycle policies", ObjectAcl:Put "is
  not generated when a request results in no change to an object's ACL", the SQS
  queue and Lambda function "must be in the same AWS Region as your Amazon S3 bucket".
- User Guide, "Configuring event notifications using object key name filtering": the
  valid and invalid (overlapping) example configurations; spaces in a filter value
  are written '+', other special characters percent-encoded.
- User Guide, "Granting permissions to publish event notification messages to a
  destination": the queue policy for s3.amazonaws.com (aws:SourceArn,
  aws:SourceAccount).
- API Reference, PutBucketNotificationConfiguration: "Amazon S3 first verifies that
  any SNS or SQS destination exists, and that the bucket owner has permission to
  publish to it by sending a test notification. In the case of Lambda destinations,
  Amazon S3 verifies that the Lambda function permissions grant Amazon S3 permission
  to invoke the function from the Amazon S3 bucket."

Tests marked UNSURE in their docstring assert something AWS does in practice (from
public bug reports) but does not document word for word.

test_s3_notifications.py covers the basics (round trip, Put/Copy/multipart/delete
messages, prefix+suffix filter, two configurations, generated ids, destination and
filter validation, POST uploads, restart); these probes go past it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
import uuid

import pytest
from botocore.exceptions import ClientError

import nimbus_helpers as h
from lambda_helpers import create as create_function, lam  # noqa: F401  (lam is a fixture)
from test_s3_basics import s3_client

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
UNABLE = "Unable to validate the following destination configurations"
DAY_ENV = {"NIMBUS_S3_LIFECYCLE_DAY_SECONDS": "1"}

RECORD_KEYS = {"eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity",
               "requestParameters", "responseElements", "s3"}


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_queue(sqs, prefix="np", attributes=None, allow_s3=True):
    """A queue whose policy lets S3 notify it (allow_s3), as S3 requires."""
    url = sqs.create_queue(QueueName=uniq(prefix), **({"Attributes": attributes} if attributes else {}))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if allow_s3:
        h.allow_s3_notifications(sqs, url)
    return url, arn


def bodies(sqs, url, n, timeout=10.0):
    msgs = h.receive_all(sqs, url, expected=n, timeout=timeout)
    out = [json.loads(m["Body"]) for m in msgs]
    assert len(out) == n, f"expected {n} messages, got {len(out)}: {out}"
    return out


def records(sqs, url, n, timeout=10.0):
    recs = []
    for b in bodies(sqs, url, n, timeout):
        assert "Records" in b, b
        assert len(b["Records"]) == 1, b
        recs.append(b["Records"][0])
    return recs


def assert_empty(sqs, url, wait=1):
    r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait, MaxNumberOfMessages=10)
    got = [json.loads(m["Body"]) for m in r.get("Messages", [])]
    assert got == [], f"expected no messages, got {got}"


def qc(arn, events, rules=None, cid=None):
    c = {"QueueArn": arn, "Events": list(events)}
    if cid:
        c["Id"] = cid
    if rules:
        c["Filter"] = {"Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in rules]}}
    return c


def configure(s3, bucket, configs, **kw):
    return s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": configs}, **kw)


def setup(s3, sqs, bucket, events=("s3:ObjectCreated:*",), rules=None, cid="probe"):
    """A fresh queue configured for `bucket`; its test event is drained."""
    url, arn = new_queue(sqs)
    configure(s3, bucket, [qc(arn, events, rules, cid)])
    ev = bodies(sqs, url, 1)[0]
    assert ev.get("Event") == "s3:TestEvent", ev
    return url


def expect_invalid(call):
    with pytest.raises(ClientError) as e:
        call()
    err = e.value.response["Error"]
    assert err["Code"] == "InvalidArgument", e.value.response
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err


def req_ids(resp):
    hdrs = resp["ResponseMetadata"]["HTTPHeaders"]
    return hdrs.get("x-amz-request-id"), hdrs.get("x-amz-id-2")


def seq_key(s):
    """The docs: right-pad the shorter sequencer with zeros, then compare."""
    return s.ljust(64, "0")


def allow_s3_policy(queue_arn, bucket, account):
    """The queue policy from "Granting permissions to publish event notification messages"."""
    return json.dumps({
        "Version": "2012-10-17",
        "Id": "example-ID",
        "Statement": [{
            "Sid": "example-statement-ID",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": ["SQS:SendMessage"],
            "Resource": queue_arn,
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:*:*:{bucket}"},
                          "StringEquals": {"aws:SourceAccount": account}},
        }],
    })


# ---------------------------------------------------------------------------
# event message structure
# ---------------------------------------------------------------------------

def test_put_record_has_exactly_the_documented_fields(s3, sqs, bucket):
    url = setup(s3, sqs, bucket)
    before = datetime.datetime.now(datetime.timezone.utc)
    r = s3.put_object(Bucket=bucket, Key="doc/fields.bin", Body=b"0123456789")
    msg = bodies(sqs, url, 1)[0]
    assert set(msg) == {"Records"}
    rec = msg["Records"][0]
    assert set(rec) == RECORD_KEYS, set(rec) ^ RECORD_KEYS
    assert rec["eventVersion"] == "2.5"
    assert rec["eventSource"] == "aws:s3" and rec["awsRegion"] == "us-east-1"
    assert rec["eventName"] == "ObjectCreated:Put"
    assert ISO_MS.fullmatch(rec["eventTime"]), rec["eventTime"]
    when = datetime.datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    assert abs((when - before).total_seconds()) < 60
    assert set(rec["userIdentity"]) == {"principalId"} and isinstance(rec["userIdentity"]["principalId"], str)
    assert set(rec["requestParameters"]) == {"sourceIPAddress"}
    assert set(rec["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    assert (rec["responseElements"]["x-amz-request-id"], rec["responseElements"]["x-amz-id-2"]) == req_ids(r)
    s3e = rec["s3"]
    assert set(s3e) == {"s3SchemaVersion", "configurationId", "bucket", "object"}
    assert s3e["s3SchemaVersion"] == "1.0" and s3e["configurationId"] == "probe"
    assert set(s3e["bucket"]) == {"name", "ownerIdentity", "arn"}
    assert set(s3e["bucket"]["ownerIdentity"]) == {"principalId"}
    obj = s3e["object"]
    assert set(obj) == {"key", "size", "eTag", "sequencer"}, obj
    assert obj["key"] == "doc/fields.bin"
    assert type(obj["size"]) is int and obj["size"] == 10
    assert obj["eTag"] == hashlib.md5(b"0123456789").hexdigest()
    assert re.fullmatch(r"[0-9A-F]+", obj["sequencer"])


def test_versioned_put_and_delete_events_carry_version_ids(s3, sqs, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    url = setup(s3, sqs, bucket, events=["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    v1 = s3.put_object(Bucket=bucket, Key="v", Body=b"one")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="v")
    assert marker["DeleteMarker"]
    gone = s3.delete_object(Bucket=bucket, Key="v", VersionId=v1)
    recs = records(sqs, url, 3)
    by_name = {r["eventName"]: r for r in recs}
    assert set(by_name) == {"ObjectCreated:Put", "ObjectRemoved:DeleteMarkerCreated", "ObjectRemoved:Delete"}
    put = by_name["ObjectCreated:Put"]["s3"]["object"]
    assert put["versionId"] == v1
    dm = by_name["ObjectRemoved:DeleteMarkerCreated"]
    assert dm["s3"]["object"]["versionId"] == marker["VersionId"]
    assert set(dm["s3"]["object"]) == {"key", "versionId", "sequencer"}, dm["s3"]["object"]
    assert dm["responseElements"]["x-amz-request-id"] == req_ids(marker)[0]
    perm = by_name["ObjectRemoved:Delete"]
    assert perm["s3"]["object"]["versionId"] == v1 == gone["VersionId"]
    assert set(perm["s3"]["object"]) == {"key", "versionId", "sequencer"}, perm["s3"]["object"]
    assert all(r["eventVersion"] == "2.5" for r in recs)


def test_delete_marker_is_not_an_object_removed_delete(s3, sqs, bucket):
    """s3:ObjectRemoved:Delete is for deletes and permanent version deletes; a delete
    marker is s3:ObjectRemoved:DeleteMarkerCreated only."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    url = setup(s3, sqs, bucket, events=["s3:ObjectRemoved:Delete"])
    vid = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="k")
    assert_empty(sqs, url)
    s3.delete_object(Bucket=bucket, Key="k", VersionId=vid)
    rec = records(sqs, url, 1)[0]
    assert rec["eventName"] == "ObjectRemoved:Delete" and rec["s3"]["object"]["versionId"] == vid


def test_unversioned_delete_record_fields(s3, sqs, bucket):
    url = setup(s3, sqs, bucket, events=["s3:ObjectRemoved:*"])
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    r = s3.delete_object(Bucket=bucket, Key="gone")
    rec = records(sqs, url, 1)[0]
    assert set(rec) == RECORD_KEYS
    assert rec["eventName"] == "ObjectRemoved:Delete" and rec["eventVersion"] == "2.5"
    assert set(rec["s3"]["object"]) == {"key", "sequencer"}, rec["s3"]["object"]
    assert rec["responseElements"]["x-amz-request-id"] == req_ids(r)[0]


@pytest.mark.parametrize("key,encoded", [
    ("dir/caf\u00e9 au lait.txt", "dir/caf%C3%A9+au+lait.txt"),
    ("a+b.txt", "a%2Bb.txt"),
    ("\u65e5\u672c/\u30c6\u30b9\u30c8.txt", "%E6%97%A5%E6%9C%AC/%E3%83%86%E3%82%B9%E3%83%88.txt"),
    ("q?x=1&y=2", "q%3Fx%3D1%26y%3D2"),
])
def test_object_key_is_form_urlencoded(s3, sqs, bucket, key, encoded):
    url = setup(s3, sqs, bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert records(sqs, url, 1)[0]["s3"]["object"]["key"] == encoded


def test_sequencer_orders_events_on_one_key(s3, sqs, bucket):
    url = setup(s3, sqs, bucket, events=["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    etags = []
    for i in range(4):
        etags.append(s3.put_object(Bucket=bucket, Key="seq", Body=f"body-{i}".encode())["ETag"].strip('"'))
    s3.delete_object(Bucket=bucket, Key="seq")
    recs = records(sqs, url, 5)
    order = {e: i for i, e in enumerate(etags)}
    by_time = sorted(recs, key=lambda r: order.get(r["s3"]["object"].get("eTag"), len(etags)))
    seqs = [seq_key(r["s3"]["object"]["sequencer"]) for r in by_time]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5, seqs
    assert by_time[-1]["eventName"] == "ObjectRemoved:Delete"


def test_copy_onto_itself_with_replace_is_an_object_created_copy(s3, sqs, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"same bytes", Metadata={"a": "1"})
    url = setup(s3, sqs, bucket)
    r = s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"},
                       MetadataDirective="REPLACE", Metadata={"a": "2"})
    rec = records(sqs, url, 1)[0]
    assert rec["eventName"] == "ObjectCreated:Copy"
    assert rec["s3"]["object"]["key"] == "self" and rec["s3"]["object"]["size"] == 10
    assert rec["s3"]["object"]["eTag"] == r["CopyObjectResult"]["ETag"].strip('"')
    assert rec["responseElements"]["x-amz-request-id"] == req_ids(r)[0]


def test_copy_across_buckets_notifies_the_destination_bucket_only(s3, sqs, bucket):
    other = uniq("b-src")
    s3.create_bucket(Bucket=other)
    s3.put_object(Bucket=other, Key="src", Body=b"abc")
    src_url = setup(s3, sqs, other, events=["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    dst_url = setup(s3, sqs, bucket)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": other, "Key": "src"})
    rec = records(sqs, dst_url, 1)[0]
    assert rec["eventName"] == "ObjectCreated:Copy"
    assert rec["s3"]["bucket"]["name"] == bucket and rec["s3"]["object"]["key"] == "dst"
    assert_empty(sqs, src_url)


def test_multipart_built_with_upload_part_copy_is_complete_multipart_upload(s3, sqs, bucket):
    """"s3:ObjectCreated:CompleteMultipartUpload includes objects that are created using
    UploadPartCopy for Copy operations"."""
    s3.put_object(Bucket=bucket, Key="part-src", Body=b"p" * (5 * 1024 * 1024))
    url = setup(s3, sqs, bucket)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    p1 = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "part-src"})
    p2 = s3.upload_part(Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=2, Body=b"tail")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
    rec = records(sqs, url, 1)[0]
    assert rec["eventName"] == "ObjectCreated:CompleteMultipartUpload"
    assert rec["s3"]["object"]["eTag"] == done["ETag"].strip('"')
    assert rec["s3"]["object"]["size"] == 5 * 1024 * 1024 + 4
    assert rec["responseElements"]["x-amz-request-id"] == req_ids(done)[0]


def test_bucket_in_another_region_reports_its_region(s3, endpoint):
    region = "eu-west-1"
    s3w = s3_client(endpoint, region=region)
    sqsw = h.make_client(endpoint, region=region)
    name = uniq("b-west")
    s3w.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    url, arn = new_queue(sqsw, "west")
    assert f":{region}:" in arn
    configure(s3w, name, [qc(arn, ["s3:ObjectCreated:*"], cid="w")])
    assert bodies(sqsw, url, 1)[0]["Event"] == "s3:TestEvent"
    s3w.put_object(Bucket=name, Key="k", Body=b"x")
    rec = records(sqsw, url, 1)[0]
    assert rec["awsRegion"] == region
    assert rec["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{name}"


def test_queue_in_another_region_is_refused(s3, sqs, endpoint):
    """"The Amazon SQS queue must be in the same AWS Region as your Amazon S3 bucket"."""
    region = "eu-west-1"
    s3w = s3_client(endpoint, region=region)
    name = uniq("b-west")
    s3w.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    _, east_arn = new_queue(sqs, "east")
    assert ":us-east-1:" in east_arn
    err = expect_invalid(lambda: configure(s3w, name, [qc(east_arn, ["s3:ObjectCreated:*"])]))
    assert err["Message"] == UNABLE


# ---------------------------------------------------------------------------
# the other event families
# ---------------------------------------------------------------------------

def test_object_tagging_events(s3, sqs, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    url = setup(s3, sqs, bucket, events=["s3:ObjectTagging:*"])
    s3.put_object(Bucket=bucket, Key="other", Body=b"y")  # not a tagging event
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    recs = records(sqs, url, 2)
    names = sorted(r["eventName"] for r in recs)
    assert names == ["ObjectTagging:Delete", "ObjectTagging:Put"]
    for r in recs:
        assert r["eventVersion"] == "2.5"  # one version for every event type since 2.4
        assert r["s3"]["object"]["key"] == "t"
        assert set(r) >= RECORD_KEYS
    assert_empty(sqs, url)


def test_object_acl_put_event_only_when_the_acl_changes(s3, sqs, bucket):
    # New buckets have ACLs disabled (BucketOwnerEnforced) and public access blocked.
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="acl", Body=b"x")
    url = setup(s3, sqs, bucket, events=["s3:ObjectAcl:Put"])
    # "An event is not generated when a request results in no change to an object's ACL."
    s3.put_object_acl(Bucket=bucket, Key="acl", ACL="private")
    assert_empty(sqs, url)
    s3.put_object_acl(Bucket=bucket, Key="acl", ACL="authenticated-read")
    rec = records(sqs, url, 1)[0]
    assert rec["eventName"] == "ObjectAcl:Put" and rec["eventVersion"] == "2.5"
    assert rec["s3"]["object"]["key"] == "acl"


def test_restore_events_and_glacier_event_data(s3, sqs, bucket):
    s3.put_object(Bucket=bucket, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    url = setup(s3, sqs, bucket, events=["s3:ObjectRestore:*"])
    s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 2, "GlacierJobParameters": {"Tier": "Standard"}})
    recs = {r["eventName"]: r for r in records(sqs, url, 2, timeout=15)}
    assert set(recs) == {"ObjectRestore:Post", "ObjectRestore:Completed"}
    assert recs["ObjectRestore:Post"]["eventVersion"] == "2.5"
    # "The glacierEventData key is only visible for s3:ObjectRestore:Completed events."
    assert "glacierEventData" not in recs["ObjectRestore:Post"]
    done = recs["ObjectRestore:Completed"]
    assert done["eventVersion"] == "2.5"
    assert "glacierEventData" in done, sorted(done)
    red = done["glacierEventData"]["restoreEventData"]
    assert ISO_MS.fullmatch(red["lifecycleRestorationExpiryTime"]), red
    assert red["lifecycleRestoreStorageClass"] == "GLACIER"


@pytest.mark.own_server
@pytest.mark.slow
def test_lifecycle_expiration_is_not_an_object_removed_event(nimbus_factory):
    """LifecycleExpiration:Delete for an unversioned bucket (eventVersion 2.5); the
    ObjectRemoved types "don't alert you for automatic deletes from Lifecycle policies"."""
    srv = nimbus_factory(env=DAY_ENV)
    c = s3_client(srv.endpoint)
    q = srv.client()
    lc_url, lc_arn = new_queue(q, "lc")
    rm_url, rm_arn = new_queue(q, "rm")
    c.create_bucket(Bucket="lcx")
    configure(c, "lcx", [qc(lc_arn, ["s3:LifecycleExpiration:*"], cid="lc"), qc(rm_arn, ["s3:ObjectRemoved:*"], cid="rm")])
    bodies(q, lc_url, 1)
    bodies(q, rm_url, 1)
    c.put_object(Bucket="lcx", Key="tmp/a", Body=b"x")
    c.put_bucket_lifecycle_configuration(Bucket="lcx", LifecycleConfiguration={"Rules": [
        {"ID": "x", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1}}]})
    rec = records(q, lc_url, 1, timeout=20)[0]
    assert rec["eventName"] == "LifecycleExpiration:Delete" and rec["eventVersion"] == "2.5"
    assert rec["s3"]["object"]["key"] == "tmp/a" and "versionId" not in rec["s3"]["object"]
    assert_empty(q, rm_url, wait=2)


@pytest.mark.own_server
@pytest.mark.slow
def test_lifecycle_transition_event_has_lifecycle_event_data(nimbus_factory):
    """"The lifecycleEventData key is only visible for S3 Lifecycle transition events."
    (UNSURE of its inner fields; only the key is asserted.)"""
    srv = nimbus_factory(env=DAY_ENV)
    c = s3_client(srv.endpoint)
    q = srv.client()
    url, arn = new_queue(q, "tr")
    c.create_bucket(Bucket="ltr")
    configure(c, "ltr", [qc(arn, ["s3:LifecycleTransition"], cid="t")])
    bodies(q, url, 1)
    c.put_object(Bucket="ltr", Key="big", Body=b"x" * (128 * 1024))
    c.put_bucket_lifecycle_configuration(Bucket="ltr", LifecycleConfiguration={"Rules": [
        {"ID": "t", "Filter": {}, "Status": "Enabled", "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]}]})
    rec = records(q, url, 1, timeout=20)[0]
    assert rec["eventName"] == "LifecycleTransition" and rec["eventVersion"] == "2.5"
    assert "lifecycleEventData" in rec, sorted(rec)


# ---------------------------------------------------------------------------
# configuration: event types, filters, overlap
# ---------------------------------------------------------------------------

ALL_DOCUMENTED = [
    "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete", "s3:ReducedRedundancyLostObject",
    "s3:Replication:OperationFailedReplication", "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold", "s3:Replication:OperationNotTracked",
    "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated", "s3:LifecycleTransition",
    "s3:IntelligentTiering", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete", "s3:ObjectAcl:Put",
]
ALL_WILDCARDS = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:ObjectRestore:*", "s3:Replication:*",
                 "s3:LifecycleExpiration:*", "s3:ObjectTagging:*", "s3:ReducedRedundancyLostObject",
                 "s3:LifecycleTransition", "s3:IntelligentTiering", "s3:ObjectAcl:Put"]


@pytest.mark.parametrize("events", [ALL_DOCUMENTED, ALL_WILDCARDS], ids=["specific", "wildcards"])
def test_every_documented_event_type_is_accepted(s3, sqs, bucket, events):
    _, arn = new_queue(sqs)
    configure(s3, bucket, [qc(arn, events, cid="all")])
    got = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"][0]["Events"]
    assert sorted(got) == sorted(events)


@pytest.mark.parametrize("event", ["ObjectCreated:Put", "s3:ObjectCreated", "s3:*", "s3:TestEvent", "s3:objectcreated:put"])
def test_undocumented_event_names_are_refused(s3, sqs, bucket, event):
    _, arn = new_queue(sqs)
    expect_invalid(lambda: configure(s3, bucket, [qc(arn, [event])]))


def test_filter_value_longer_than_1024_is_refused(s3, sqs, bucket):
    """FilterRule.Name: "The maximum length is 1,024 characters"."""
    _, arn = new_queue(sqs)
    configure(s3, bucket, [qc(arn, ["s3:ObjectCreated:*"], rules=[("prefix", "p" * 1024)])])
    expect_invalid(lambda: configure(s3, bucket, [qc(arn, ["s3:ObjectCreated:*"], rules=[("prefix", "p" * 1025)])]))


def test_prefix_with_space_is_written_with_plus(s3, sqs, bucket):
    """"If your prefix or suffix contains a space, you must replace it with the "+"
    character. If you use any other special characters in the value of the prefix or
    suffix, you must enter them in URL-encoded (percent-encoded) format.\""""
    url = setup(s3, sqs, bucket, rules=[("prefix", "my+photos/")])
    s3.put_object(Bucket=bucket, Key="my photos/a.jpg", Body=b"x")
    rec = records(sqs, url, 1)[0]
    assert rec["s3"]["object"]["key"] == "my+photos/a.jpg"


def test_percent_encoded_prefix_matches_unicode_key(s3, sqs, bucket):
    url = setup(s3, sqs, bucket, rules=[("prefix", "caf%C3%A9/")])
    s3.put_object(Bucket=bucket, Key="caf\u00e9/menu.txt", Body=b"x")
    rec = records(sqs, url, 1)[0]
    assert rec["s3"]["object"]["key"] == "caf%C3%A9/menu.txt"


INVALID_OVERLAPS = {
    # "the root prefix overlaps with any other prefix"
    "root-prefix": ([("s3:ObjectCreated:*",), None], [("s3:ObjectCreated:*",), [("prefix", "images")]]),
    # "A string can end with jpg and pg, so the suffixes are overlapping"
    "suffixes": ([("s3:ObjectCreated:*",), [("suffix", "jpg")]], [("s3:ObjectCreated:Put",), [("suffix", "pg")]]),
    # "overlapping prefixes and suffixes"
    "prefix-and-suffix": ([("s3:ObjectCreated:*",), [("prefix", "images"), ("suffix", "jpg")]],
                          [("s3:ObjectCreated:Put",), [("suffix", "jpg")]]),
}


@pytest.mark.parametrize("case", sorted(INVALID_OVERLAPS))
def test_documented_overlapping_configurations_are_refused(s3, sqs, bucket, case):
    (e1, r1), (e2, r2) = INVALID_OVERLAPS[case]
    _, a1 = new_queue(sqs)
    _, a2 = new_queue(sqs)
    err = expect_invalid(lambda: configure(s3, bucket, [qc(a1, e1, r1, "one"), qc(a2, e2, r2, "two")]))
    assert err["Message"].startswith("Configurations overlap"), err
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


VALID_SPLITS = {
    "prefixes": ([("s3:ObjectCreated:Put",), [("prefix", "images/")]], [("s3:ObjectCreated:Put",), [("prefix", "logs/")]]),
    "suffixes": ([("s3:ObjectCreated:Put",), [("suffix", ".jpg")]], [("s3:ObjectCreated:Put",), [("suffix", ".png")]]),
    "same-prefix-other-suffix": ([("s3:ObjectCreated:Put",), [("prefix", "images"), ("suffix", ".jpg")]],
                                 [("s3:ObjectCreated:Put",), [("prefix", "images"), ("suffix", ".png")]]),
    "same-prefix-other-event": ([("s3:ObjectCreated:Put",), [("prefix", "image/")]],
                                [("s3:ObjectRemoved:*",), [("prefix", "image/")]]),
}


@pytest.mark.parametrize("case", sorted(VALID_SPLITS))
def test_documented_non_overlapping_configurations_route_events(s3, sqs, bucket, case):
    (e1, r1), (e2, r2) = VALID_SPLITS[case]
    u1, a1 = new_queue(sqs)
    u2, a2 = new_queue(sqs)
    configure(s3, bucket, [qc(a1, e1, r1, "one"), qc(a2, e2, r2, "two")])
    assert bodies(sqs, u1, 1)[0]["Event"] == "s3:TestEvent"
    assert bodies(sqs, u2, 1)[0]["Event"] == "s3:TestEvent"
    got = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert sorted(c["Id"] for c in got) == ["one", "two"]
    key = {"prefixes": "images/a.jpg", "suffixes": "x.jpg", "same-prefix-other-suffix": "images1.jpg",
           "same-prefix-other-event": "image/a"}[case]
    s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    rec = records(sqs, u1, 1)[0]
    assert rec["s3"]["configurationId"] == "one"
    assert_empty(sqs, u2)


def test_one_queue_in_two_non_overlapping_configurations(s3, sqs, bucket):
    url, arn = new_queue(sqs)
    configure(s3, bucket, [qc(arn, ["s3:ObjectCreated:*"], [("prefix", "a/")], "a"),
                           qc(arn, ["s3:ObjectCreated:*"], [("prefix", "b/")], "b")])
    # Drop the test event(s): how many AWS sends to a queue named twice is not documented.
    for m in h.receive_all(sqs, url, timeout=3):
        assert json.loads(m["Body"])["Event"] == "s3:TestEvent"
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    s3.put_object(Bucket=bucket, Key="a/1", Body=b"x")
    s3.put_object(Bucket=bucket, Key="b/1", Body=b"x")
    recs = records(sqs, url, 2)
    assert sorted(r["s3"]["configurationId"] for r in recs) == ["a", "b"]


def test_same_id_in_two_configurations_is_refused(s3, sqs, bucket):
    """UNSURE: AWS answers "Same ID used for multiple configurations. IDs must be unique"."""
    _, a1 = new_queue(sqs)
    _, a2 = new_queue(sqs)
    expect_invalid(lambda: configure(s3, bucket, [qc(a1, ["s3:ObjectCreated:*"], cid="dup"),
                                                  qc(a2, ["s3:ObjectRemoved:*"], cid="dup")]))


def test_put_replaces_the_whole_configuration_and_event_bridge_round_trips(s3, sqs, bucket):
    _, a1 = new_queue(sqs)
    _, a2 = new_queue(sqs)
    configure(s3, bucket, [qc(a1, ["s3:ObjectCreated:*"], [("prefix", "x/"), ("suffix", ".y")], "first")])
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [qc(a2, ["s3:ObjectRemoved:*"])], "EventBridgeConfiguration": {}})
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [c["QueueArn"] for c in got["QueueConfigurations"]] == [a2]
    assert got["QueueConfigurations"][0]["Id"]  # generated
    assert "Filter" not in got["QueueConfigurations"][0]
    assert got.get("EventBridgeConfiguration") == {}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert not any(k in got for k in ("QueueConfigurations", "TopicConfigurations",
                                      "LambdaFunctionConfigurations", "EventBridgeConfiguration"))


def test_filter_rule_names_come_back_capitalised(s3, sqs, bucket):
    """UNSURE: AWS returns FilterRule names as "Prefix"/"Suffix" whatever the case sent."""
    _, arn = new_queue(sqs)
    configure(s3, bucket, [qc(arn, ["s3:ObjectCreated:*"], [("prefix", "a/"), ("suffix", ".b")])])
    rules = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"]
    assert rules == [{"Name": "Prefix", "Value": "a/"}, {"Name": "Suffix", "Value": ".b"}]


# ---------------------------------------------------------------------------
# the test event
# ---------------------------------------------------------------------------

def test_test_event_exact_shape_to_every_queue(s3, sqs, bucket):
    u1, a1 = new_queue(sqs)
    u2, a2 = new_queue(sqs)
    r = configure(s3, bucket, [qc(a1, ["s3:ObjectCreated:*"], cid="c"), qc(a2, ["s3:ObjectRemoved:*"], cid="r")])
    for url in (u1, u2):
        ev = bodies(sqs, url, 1)[0]
        assert set(ev) == {"Service", "Event", "Time", "Bucket", "RequestId", "HostId"}, ev
        assert ev["Service"] == "Amazon S3" and ev["Event"] == "s3:TestEvent" and ev["Bucket"] == bucket
        assert ISO_MS.fullmatch(ev["Time"]), ev["Time"]
        # UNSURE: the ids are those of the PutBucketNotificationConfiguration request.
        assert (ev["RequestId"], ev["HostId"]) == req_ids(r)
        assert_empty(sqs, url)


# ---------------------------------------------------------------------------
# destination validation
# ---------------------------------------------------------------------------

def test_queue_with_the_documented_policy_is_accepted(s3, sqs, bucket, account):
    url, arn = new_queue(sqs)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": allow_s3_policy(arn, bucket, account)})
    configure(s3, bucket, [qc(arn, ["s3:ObjectCreated:*"])])
    assert bodies(sqs, url, 1)[0]["Event"] == "s3:TestEvent"


def test_queue_policy_for_another_bucket_is_refused(s3, sqs, bucket, account):
    """S3 "verifies that ... the bucket owner has permission to publish to it by sending
    a test notification": a policy that lets only another bucket send fails that."""
    url, arn = new_queue(sqs)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": allow_s3_policy(arn, "some-other-bucket", account)})
    err = expect_invalid(lambda: configure(s3, bucket, [qc(arn, ["s3:ObjectCreated:*"])]))
    assert err["Message"] == UNABLE
    assert_empty(sqs, url)


def test_queue_policy_denying_s3_is_refused(s3, sqs, bucket):
    url, arn = new_queue(sqs)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "SQS:SendMessage", "Resource": arn}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    err = expect_invalid(lambda: configure(s3, bucket, [qc(arn, ["s3:ObjectCreated:*"])]))
    assert err["Message"] == UNABLE


def test_queue_without_any_policy_is_refused(s3, sqs, bucket):
    """AWS: a queue with no policy does not let s3.amazonaws.com send (aws/aws-cli#8162:
    "Permissions on the destination queue do not allow S3 to publish notifications from
    this bucket"). nimbus is as strict: a setup that works here works on AWS."""
    url, arn = new_queue(sqs, allow_s3=False)
    err = expect_invalid(lambda: configure(s3, bucket, [qc(arn, ["s3:ObjectCreated:*"])]))
    assert err["Message"] == UNABLE


def test_refusal_names_the_destination(s3, sqs, bucket, account):
    """UNSURE (public traces, not the docs): the error carries ArgumentName1 = the ARN and
    ArgumentValue1 = the reason ("The destination queue does not exist")."""
    missing = f"arn:aws:sqs:us-east-1:{account}:{uniq('missing')}"
    err = expect_invalid(lambda: configure(s3, bucket, [qc(missing, ["s3:ObjectCreated:*"])]))
    assert err.get("ArgumentName1") == missing, err
    assert err.get("ArgumentValue1"), err


def test_deleted_queue_blocks_reconfiguration_but_an_empty_configuration_clears(s3, sqs, bucket):
    """"If you have multiple failed event notifications due to deleted destinations you
    may receive the Unable to validate the following destination configurations when
    trying to delete them" - removing them all at once works."""
    u1, a1 = new_queue(sqs)
    _, a2 = new_queue(sqs)
    configure(s3, bucket, [qc(a1, ["s3:ObjectCreated:*"], cid="doomed")])
    sqs.delete_queue(QueueUrl=u1)
    # Keeping the dead destination while adding a live one fails ...
    err = expect_invalid(lambda: configure(s3, bucket, [qc(a1, ["s3:ObjectCreated:*"], cid="doomed"),
                                                        qc(a2, ["s3:ObjectRemoved:*"], cid="live")]))
    assert err["Message"] == UNABLE
    assert [c["Id"] for c in s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]] == ["doomed"]
    # ... writes still succeed with a dead destination ...
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    # ... and dropping it works.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


def _lambda_config(fn_arn, cid="fn"):
    return {"LambdaFunctionConfigurations": [{"Id": cid, "LambdaFunctionArn": fn_arn, "Events": ["s3:ObjectCreated:*"]}]}


def test_lambda_permission_for_another_account_is_refused(s3, lam, bucket):  # noqa: F811
    """S3 "verifies that the Lambda function permissions grant Amazon S3 permission to
    invoke the function from the Amazon S3 bucket": a permission limited to another
    bucket owner (aws:SourceAccount) does not."""
    fn = create_function(lam, "def handler(event, context):\n    return None\n")
    fn_arn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    lam.add_permission(FunctionName=fn, StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                       SourceArn=f"arn:aws:s3:::{bucket}", SourceAccount="111122223333")
    err = expect_invalid(lambda: s3.put_bucket_notification_configuration(Bucket=bucket,
                                                                          NotificationConfiguration=_lambda_config(fn_arn)))
    assert err["Message"] == UNABLE


def test_lambda_permission_for_another_bucket_is_refused(s3, lam, bucket, account):  # noqa: F811
    fn = create_function(lam, "def handler(event, context):\n    return None\n")
    fn_arn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    lam.add_permission(FunctionName=fn, StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                       SourceArn="arn:aws:s3:::some-other-bucket", SourceAccount=account)
    err = expect_invalid(lambda: s3.put_bucket_notification_configuration(Bucket=bucket,
                                                                          NotificationConfiguration=_lambda_config(fn_arn)))
    assert err["Message"] == UNABLE
    # The right bucket and account validate.
    lam.add_permission(FunctionName=fn, StatementId="s3-mine", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}", SourceAccount=account)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=_lambda_config(fn_arn))


def test_topic_destination_without_sns(s3, bucket, account):
    """nimbus has no SNS: a topic ARN cannot be validated. AWS answers the same error for
    a topic that does not exist, so this is what AWS would do for a missing topic."""
    err = expect_invalid(lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": f"arn:aws:sns:us-east-1:{account}:{uniq('t')}", "Events": ["s3:ObjectCreated:*"]}]}))
    assert err["Message"] == UNABLE


# ---------------------------------------------------------------------------
# delivery semantics
# ---------------------------------------------------------------------------

def test_event_arrives_after_the_write_is_visible(s3, sqs, bucket):
    url = setup(s3, sqs, bucket, events=["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    body = b"z" * (3 * 1024 * 1024)
    s3.put_object(Bucket=bucket, Key="big", Body=body)
    rec = records(sqs, url, 1)[0]
    head = s3.head_object(Bucket=bucket, Key="big")
    assert head["ETag"].strip('"') == rec["s3"]["object"]["eTag"] and head["ContentLength"] == len(body)
    s3.delete_object(Bucket=bucket, Key="big")
    assert records(sqs, url, 1)[0]["eventName"] == "ObjectRemoved:Delete"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="big")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_failed_operations_emit_nothing(s3, sqs, bucket, endpoint):
    """"You don't receive event notifications from failed operations"."""
    s3.put_object(Bucket=bucket, Key="exists", Body=b"x")
    url = setup(s3, sqs, bucket, events=["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    bad_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError):
        s3.put_object(Bucket=bucket, Key="bad-md5", Body=b"payload", ContentMD5=bad_md5)
    with pytest.raises(ClientError):
        s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "no-such-source"})
    with pytest.raises(ClientError):
        s3.put_object(Bucket=bucket, Key="exists", Body=b"y", IfNoneMatch="*")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mpu")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="mpu", UploadId=uid, PartNumber=1, Body=b"part")
    with pytest.raises(ClientError):
        s3.complete_multipart_upload(Bucket=bucket, Key="mpu", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]})
    s3.abort_multipart_upload(Bucket=bucket, Key="mpu", UploadId=uid)
    assert_empty(sqs, url, wait=2)


def test_delete_objects_emits_one_event_per_key(s3, sqs, bucket):
    url = setup(s3, sqs, bucket, events=["s3:ObjectRemoved:*"])
    keys = [f"multi/{i}" for i in range(5)]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
    recs = records(sqs, url, 5)
    assert sorted(rec["s3"]["object"]["key"] for rec in recs) == sorted(keys)
    assert {rec["eventName"] for rec in recs} == {"ObjectRemoved:Delete"}
    # All from the one request.
    assert {rec["responseElements"]["x-amz-request-id"] for rec in recs} == {req_ids(r)[0]}
    assert_empty(sqs, url)


def test_delete_objects_in_a_versioned_bucket_reports_markers(s3, sqs, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    url = setup(s3, sqs, bucket, events=["s3:ObjectRemoved:*"])
    for k in ("m1", "m2"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "m1"}, {"Key": "m2"}]})
    markers = {d["Key"]: d["DeleteMarkerVersionId"] for d in r["Deleted"]}
    recs = records(sqs, url, 2)
    assert {rec["eventName"] for rec in recs} == {"ObjectRemoved:DeleteMarkerCreated"}
    assert {rec["s3"]["object"]["key"]: rec["s3"]["object"]["versionId"] for rec in recs} == markers
