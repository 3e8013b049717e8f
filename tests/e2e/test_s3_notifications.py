"""S3 event notifications to SQS, written from AWS's "Amazon S3 Event Notifications"
and "Event message structure" guides: configuration round trip, the s3:TestEvent,
the event JSON of uploads, copies, multipart completions and deletions, event-type
patterns, prefix/suffix filters, and destination validation."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from botocore.exceptions import ClientError

import nimbus_helpers as h
from test_s3_basics import s3_client


@pytest.fixture
def queue(sqs, make_queue, queue_arn):
    url = make_queue("s3events")
    return url, h.allow_s3_notifications(sqs, url)


def receive(sqs, url, n, timeout=10.0):
    """n message bodies, parsed, in arrival order."""
    msgs = h.receive_all(sqs, url, expected=n, timeout=timeout)
    out = [json.loads(m["Body"]) for m in msgs]
    assert len(out) == n, out
    return out


def assert_empty(sqs, url):
    r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
    assert r.get("Messages", []) == []


def configure(s3, bucket, arn, events=("s3:ObjectCreated:*",), rules=None, cid="cfg1"):
    qc = {"Id": cid, "QueueArn": arn, "Events": list(events)}
    if rules:
        qc["Filter"] = {"Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in rules]}}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [qc]})


def setup_queue(s3, sqs, bucket, queue, **kw):
    url, arn = queue
    configure(s3, bucket, arn, **kw)
    test_event = receive(sqs, url, 1)[0]
    return url, test_event


def test_configuration_round_trip_and_test_event(s3, sqs, bucket, queue):
    url, arn = queue
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    configure(s3, bucket, arn, events=["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"],
              rules=[("prefix", "images/"), ("suffix", ".jpg")])
    got = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert len(got) == 1
    assert got[0]["Id"] == "cfg1" and got[0]["QueueArn"] == arn
    assert got[0]["Events"] == ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"]
    rules = {r["Name"].lower(): r["Value"] for r in got[0]["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "images/", "suffix": ".jpg"}
    ev = receive(sqs, url, 1)[0]
    assert ev["Service"] == "Amazon S3" and ev["Event"] == "s3:TestEvent"
    assert ev["Bucket"] == bucket
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ev["Time"])
    assert ev["RequestId"] and ev["HostId"]
    # An empty configuration turns notifications off.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="images/a.jpg", Body=b"x")
    assert_empty(sqs, url)


def test_put_event_message(s3, sqs, bucket, queue):
    url, _ = setup_queue(s3, sqs, bucket, queue)
    r = s3.put_object(Bucket=bucket, Key="uploads/my photo=1.jpg", Body=b"hello world")
    rec_list = receive(sqs, url, 1)[0]["Records"]
    assert len(rec_list) == 1
    rec = rec_list[0]
    assert rec["eventVersion"] == "2.5"
    assert rec["eventSource"] == "aws:s3"
    assert rec["awsRegion"] == "us-east-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", rec["eventTime"])
    assert rec["eventName"] == "ObjectCreated:Put"
    assert rec["userIdentity"]["principalId"]
    assert rec["requestParameters"]["sourceIPAddress"] == "127.0.0.1"
    assert rec["responseElements"]["x-amz-request-id"] == r["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert rec["responseElements"]["x-amz-id-2"] == r["ResponseMetadata"]["HTTPHeaders"]["x-amz-id-2"]
    s3e = rec["s3"]
    assert s3e["s3SchemaVersion"] == "1.0"
    assert s3e["configurationId"] == "cfg1"
    assert s3e["bucket"]["name"] == bucket
    assert s3e["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert s3e["bucket"]["ownerIdentity"]["principalId"]
    obj = s3e["object"]
    assert obj["key"] == "uploads/my+photo%3D1.jpg"
    assert obj["size"] == 11
    assert obj["eTag"] == r["ETag"].strip('"')
    assert "versionId" not in obj
    assert re.fullmatch(r"[0-9A-F]+", obj["sequencer"])


def test_sequencer_increases_and_events_in_order(s3, sqs, bucket, queue):
    url, _ = setup_queue(s3, sqs, bucket, queue, events=["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    s3.put_object(Bucket=bucket, Key="k", Body=b"22")
    s3.delete_object(Bucket=bucket, Key="k")
    recs = [m["Records"][0] for m in receive(sqs, url, 3)]
    recs.sort(key=lambda r: r["s3"]["object"]["sequencer"])
    assert [r["eventName"] for r in recs] == ["ObjectCreated:Put", "ObjectCreated:Put", "ObjectRemoved:Delete"]
    assert [r["s3"]["object"].get("size") for r in recs] == [1, 2, None]
    assert "eTag" not in recs[2]["s3"]["object"]


def test_copy_multipart_and_delete_objects_events(s3, sqs, bucket, queue):
    url, _ = setup_queue(s3, sqs, bucket, queue, events=["s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload",
                                                          "s3:ObjectRemoved:Delete"])
    s3.put_object(Bucket=bucket, Key="src", Body=b"abc")  # Put is not configured
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    uid = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    p1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=1, Body=b"a" * (5 * 1024 * 1024))
    p2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=2, Body=b"b" * 10)
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]},
    )
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "src"}, {"Key": "dst"}, {"Key": "missing"}]})
    recs = [m["Records"][0] for m in receive(sqs, url, 4)]
    by_name = {}
    for r in recs:
        by_name.setdefault(r["eventName"], []).append(r["s3"]["object"])
    assert by_name["ObjectCreated:Copy"][0]["key"] == "dst"
    assert by_name["ObjectCreated:Copy"][0]["size"] == 3
    mp = by_name["ObjectCreated:CompleteMultipartUpload"][0]
    assert mp["key"] == "big" and mp["size"] == 5 * 1024 * 1024 + 10
    assert mp["eTag"] == done["ETag"].strip('"') and mp["eTag"].endswith("-2")
    assert sorted(o["key"] for o in by_name["ObjectRemoved:Delete"]) == ["dst", "src"]
    assert_empty(sqs, url)


def test_prefix_and_suffix_filters(s3, sqs, bucket, queue):
    url, _ = setup_queue(s3, sqs, bucket, queue, rules=[("Prefix", "images/"), ("Suffix", ".jpg")])
    for key in ["images/a.png", "docs/a.jpg", "a.jpg", "images/b.jpg"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    recs = receive(sqs, url, 1)
    assert recs[0]["Records"][0]["s3"]["object"]["key"] == "images/b.jpg"
    assert_empty(sqs, url)


def test_two_configurations_each_get_their_events(s3, sqs, make_queue, queue_arn, bucket):
    q1, q2 = make_queue("created"), make_queue("removed")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
        {"Id": "created", "QueueArn": h.allow_s3_notifications(sqs, q1), "Events": ["s3:ObjectCreated:Put"]},
        {"Id": "removed", "QueueArn": h.allow_s3_notifications(sqs, q2), "Events": ["s3:ObjectRemoved:*"]},
    ]})
    assert receive(sqs, q1, 1)[0]["Event"] == "s3:TestEvent"
    assert receive(sqs, q2, 1)[0]["Event"] == "s3:TestEvent"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k")
    created = receive(sqs, q1, 1)[0]["Records"][0]
    removed = receive(sqs, q2, 1)[0]["Records"][0]
    assert created["eventName"] == "ObjectCreated:Put" and created["s3"]["configurationId"] == "created"
    assert removed["eventName"] == "ObjectRemoved:Delete" and removed["s3"]["configurationId"] == "removed"
    assert_empty(sqs, q1)
    assert_empty(sqs, q2)


def test_generated_configuration_id(s3, sqs, bucket, queue):
    url, arn = queue
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    cid = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"][0]["Id"]
    assert cid
    receive(sqs, url, 1)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert receive(sqs, url, 1)[0]["Records"][0]["s3"]["configurationId"] == cid


def invalid(call):
    with pytest.raises(ClientError) as e:
        call()
    assert e.value.response["Error"]["Code"] == "InvalidArgument", e.value.response
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return e.value.response["Error"]["Message"]


def test_destination_validation(s3, bucket, queue, account, make_queue, queue_arn):
    _, arn = queue
    missing = f"arn:aws:sqs:us-east-1:{account}:no-such-queue-{uuid.uuid4().hex[:6]}"
    msg = invalid(lambda: configure(s3, bucket, missing))
    assert msg == "Unable to validate the following destination configurations"
    # No SNS or Lambda service answers for these ARNs yet.
    for key, dest in [("TopicConfigurations", ("TopicArn", f"arn:aws:sns:us-east-1:{account}:t")),
                      ("LambdaFunctionConfigurations", ("LambdaFunctionArn", f"arn:aws:lambda:us-east-1:{account}:function:f"))]:
        msg = invalid(lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            key: [{dest[0]: dest[1], "Events": ["s3:ObjectCreated:*"]}]}))
        assert msg == "Unable to validate the following destination configurations"
    # A queue ARN in a topic configuration, a FIFO queue, garbage.
    invalid(lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": arn, "Events": ["s3:ObjectCreated:*"]}]}))
    fifo = queue_arn(make_queue("s3fifo", fifo=True))
    invalid(lambda: configure(s3, bucket, fifo))
    invalid(lambda: configure(s3, bucket, "not-an-arn"))
    # Nothing was stored by the failed attempts.
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    # SkipDestinationValidation stores it anyway (and sends no test event).
    s3.put_bucket_notification_configuration(Bucket=bucket, SkipDestinationValidation=True, NotificationConfiguration={
        "TopicConfigurations": [{"Id": "t", "TopicArn": f"arn:aws:sns:us-east-1:{account}:t", "Events": ["s3:ObjectCreated:*"]}]})
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["TopicConfigurations"][0]["TopicArn"] == f"arn:aws:sns:us-east-1:{account}:t"
    # Uploads still succeed when a destination can't be reached.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")


def test_configuration_validation(s3, bucket, queue):
    _, arn = queue
    assert invalid(lambda: configure(s3, bucket, arn, events=["s3:ObjectCreated:Nope"])) == \
        "The event is not supported for notifications"
    invalid(lambda: configure(s3, bucket, arn, rules=[("prefix", "a"), ("prefix", "b")]))
    invalid(lambda: configure(s3, bucket, arn, rules=[("middle", "a")]))
    msg = invalid(lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [
            {"Id": "a", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "images/"}]}}},
            {"Id": "b", "QueueArn": arn, "Events": ["s3:ObjectCreated:Put"]},
        ]}))
    assert msg.startswith("Configurations overlap")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket="no-such-bucket-zz9", NotificationConfiguration={})
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"


def test_presigned_post_event(s3, sqs, bucket, queue):
    import requests

    url, _ = setup_queue(s3, sqs, bucket, queue)
    post = s3.generate_presigned_post(bucket, "form/up load.txt")
    r = requests.post(post["url"], data=post["fields"], files={"file": ("up load.txt", b"posted")})
    assert r.status_code in (200, 204), r.text
    rec = receive(sqs, url, 1)[0]["Records"][0]
    assert rec["eventName"] == "ObjectCreated:Post"
    assert rec["s3"]["object"]["key"] == "form/up+load.txt"
    assert rec["s3"]["object"]["size"] == 6


def test_configuration_survives_restart(nimbus_factory):
    srv = nimbus_factory()
    s3c = s3_client(srv.endpoint)
    sqsc = srv.client()
    url = sqsc.create_queue(QueueName="events")["QueueUrl"]
    arn = h.allow_s3_notifications(sqsc, url)
    s3c.create_bucket(Bucket="persist")
    configure(s3c, "persist", arn, rules=[("suffix", ".txt")])
    s3c.put_bucket_tagging(Bucket="persist", Tagging={"TagSet": [{"Key": "team", "Value": "core"}]})
    s3c.delete_public_access_block(Bucket="persist")  # POLICY is public
    s3c.put_bucket_policy(Bucket="persist", Policy=POLICY)
    s3c.put_bucket_cors(Bucket="persist", CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]})
    s3c.put_object(Bucket="persist", Key="t", Body=b"x", Tagging="a=1")
    srv.restart()
    s3c = s3_client(srv.endpoint)
    sqsc = srv.client()
    got = s3c.get_bucket_notification_configuration(Bucket="persist")["QueueConfigurations"]
    assert got[0]["QueueArn"] == arn
    assert s3c.get_bucket_tagging(Bucket="persist")["TagSet"] == [{"Key": "team", "Value": "core"}]
    assert json.loads(s3c.get_bucket_policy(Bucket="persist")["Policy"]) == json.loads(POLICY)
    assert s3c.get_bucket_cors(Bucket="persist")["CORSRules"][0]["AllowedMethods"] == ["GET"]
    assert s3c.get_object_tagging(Bucket="persist", Key="t")["TagSet"] == [{"Key": "a", "Value": "1"}]
    h.receive_all(sqsc, url, expected=1, timeout=5)  # the test event, from before the restart
    s3c.put_object(Bucket="persist", Key="after.txt", Body=b"x")
    msgs = h.receive_all(sqsc, url, expected=1, timeout=10)
    bodies = [json.loads(m["Body"]) for m in msgs]
    assert any(b.get("Records", [{}])[0].get("s3", {}).get("object", {}).get("key") == "after.txt" for b in bodies)


POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                   "Resource": "arn:aws:s3:::persist/*"}],
})
