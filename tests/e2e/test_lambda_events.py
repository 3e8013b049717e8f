"""Lambda event sources and asynchronous invocation, written from AWS's Lambda developer
guide ("Using Lambda with Amazon SQS", "Asynchronous invocation", "Lambda resource
policies", "Using AWS Lambda with Amazon S3"): SQS event source mappings with batches,
filters and partial batch responses ending in a dead-letter queue; Event invokes with
retries, destinations and a dead-letter queue; function policies; S3 uploads that
invoke a function."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

import nimbus_helpers as h
from lambda_helpers import create, invoke, lam  # noqa: F401  (lam is a fixture)
from test_s3_basics import s3_client

# Forwards every SQS record it gets to the queue named by OUT (as JSON), fails the
# records whose body is "bad" with a partial batch response.
FORWARDER = '''
import json, os, boto3
sqs = boto3.client("sqs")

def handler(event, context):
    failures = []
    for r in event.get("Records", []):
        sqs.send_message(QueueUrl=os.environ["OUT"], MessageBody=json.dumps(r))
        if r.get("body") == "bad":
            failures.append({"itemIdentifier": r["messageId"]})
    return {"batchItemFailures": failures}
'''

# Fails when the event says so; counts attempts per event id in /tmp.
FLAKY = '''
import json

def handler(event, context):
    if event.get("fail"):
        raise RuntimeError("failing on purpose")
    return {"ok": True, "got": event}
'''

# Sends the whole event it was invoked with to OUT.
RECORDER = '''
import json, os, boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["OUT"], MessageBody=json.dumps(event))
    return "done"
'''


def messages(sqs, url, n, timeout=20.0):
    msgs = h.receive_all(sqs, url, expected=n, timeout=timeout)
    assert len(msgs) >= n, f"expected {n} messages, got {len(msgs)}"
    return msgs


def counts(sqs, url):
    a = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def test_sqs_mapping_delivers_aws_records_and_deletes_the_batch(lam, sqs, make_queue, queue_arn):
    src, out = make_queue("esm-src"), make_queue("esm-out")
    fn = create(lam, FORWARDER, Timeout=10, Environment={"Variables": {"OUT": out}})
    m = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=queue_arn(src), BatchSize=5)
    assert m["State"] == "Creating" and m["BatchSize"] == 5
    assert m["FunctionArn"].endswith(f":function:{fn}")
    sqs.send_message(
        QueueUrl=src,
        MessageBody="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}},
    )
    got = messages(sqs, out, 1)
    record = json.loads(got[0]["Body"])
    assert record["body"] == "hello"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue_arn(src)
    assert record["awsRegion"] == h.REGION
    assert record["md5OfBody"] == h.md5_hex("hello")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert set(record["attributes"]) >= {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"}
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "greeting", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }
    assert record["receiptHandle"] and record["messageId"]
    # Success deletes the batch.
    h.wait_until(lambda: counts(sqs, src) == (0, 0), timeout=10, message="the source queue to drain")
    assert lam.get_event_source_mapping(UUID=m["UUID"])["State"] == "Enabled"
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_partial_batch_failures_return_only_failed_messages_until_the_dlq(lam, sqs, make_queue, queue_arn):
    dlq = make_queue("esm-dlq")
    src = make_queue(
        "esm-partial",
        attributes={
            "VisibilityTimeout": "2",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn(dlq), "maxReceiveCount": "2"}),
        },
    )
    out = make_queue("esm-partial-out")
    fn = create(lam, FORWARDER, Timeout=2, Environment={"Variables": {"OUT": out}})
    lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=queue_arn(src),
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    sqs.send_message_batch(
        QueueUrl=src,
        Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(["good-1", "bad", "good-2"])],
    )
    dead = messages(sqs, dlq, 1, timeout=30)
    assert [m["Body"] for m in dead] == ["bad"]
    seen = [json.loads(m["Body"]) for m in h.receive_all(sqs, out, timeout=3)]
    bodies = sorted(r["body"] for r in seen)
    # The good messages were processed once; the bad one once per receive (2) before the DLQ.
    assert bodies.count("good-1") == 1 and bodies.count("good-2") == 1, bodies
    assert bodies.count("bad") == 2, bodies
    h.wait_until(lambda: counts(sqs, src) == (0, 0), timeout=10, message="the source queue to drain")


def test_filter_criteria_let_matching_messages_through_and_drop_the_rest(lam, sqs, make_queue, queue_arn):
    src, out = make_queue("esm-filter"), make_queue("esm-filter-out")
    fn = create(lam, FORWARDER, Timeout=10, Environment={"Variables": {"OUT": out}})
    pattern = json.dumps({"body": {"kind": ["image"], "size": [{"numeric": [">", 10]}]}})
    m = lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=queue_arn(src), FilterCriteria={"Filters": [{"Pattern": pattern}]}
    )
    assert m["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}
    for body in ({"kind": "image", "size": 50}, {"kind": "text", "size": 50}, {"kind": "image", "size": 1}, "plain"):
        sqs.send_message(QueueUrl=src, MessageBody=json.dumps(body) if isinstance(body, dict) else body)
    got = messages(sqs, out, 1)
    time.sleep(1.5)
    got = h.receive_all(sqs, out, timeout=2) + got
    bodies = {json.loads(m["Body"])["body"] for m in got}
    assert bodies == {json.dumps({"kind": "image", "size": 50})}
    # Filtered-out messages are deleted, not left in the queue.
    h.wait_until(lambda: counts(sqs, src) == (0, 0), timeout=10, message="the source queue to drain")


def test_mapping_api_and_validation(lam, sqs, make_queue, queue_arn):
    src, out = make_queue("esm-api"), make_queue("esm-api-out")
    fn = create(lam, RECORDER, Timeout=5, Environment={"Variables": {"OUT": out}})
    arn = queue_arn(src)
    missing = arn.rsplit(":", 1)[0] + ":does-not-exist"
    h.expect_client_error(
        lambda: lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=missing),
        "InvalidParameterValueException",
    )
    h.expect_client_error(
        lambda: lam.create_event_source_mapping(FunctionName="no-such-fn-" + uuid.uuid4().hex[:6], EventSourceArn=arn),
        "ResourceNotFoundException",
        status=404,
    )
    # A batch larger than 10 needs a batching window.
    h.expect_client_error(
        lambda: lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, BatchSize=100),
        "InvalidParameterValueException",
    )
    slow = create(lam, RECORDER, Timeout=60, Environment={"Variables": {"OUT": out}})
    err = h.expect_client_error(
        lambda: lam.create_event_source_mapping(FunctionName=slow, EventSourceArn=arn),
        "InvalidParameterValueException",
    )
    assert "visibility timeout" in err.response["Error"]["Message"]

    m = lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, Enabled=False, BatchSize=100, MaximumBatchingWindowInSeconds=1,
        ScalingConfig={"MaximumConcurrency": 2},
    )
    uuid_ = m["UUID"]
    assert m["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert m["EventSourceMappingArn"].endswith(f":event-source-mapping:{uuid_}")
    h.expect_client_error(
        lambda: lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn), "ResourceConflictException", status=409
    )
    got = lam.get_event_source_mapping(UUID=uuid_)
    assert got["State"] == "Disabled" and got["MaximumBatchingWindowInSeconds"] == 1
    listed = lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]
    assert [x["UUID"] for x in listed] == [uuid_]
    assert [x["UUID"] for x in lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]] == [uuid_]

    # Disabled: messages stay in the queue.
    sqs.send_message(QueueUrl=src, MessageBody="waiting")
    time.sleep(1.5)
    assert counts(sqs, src) == (1, 0)
    up = lam.update_event_source_mapping(UUID=uuid_, Enabled=True, BatchSize=10, MaximumBatchingWindowInSeconds=0)
    assert up["State"] == "Enabling" and up["BatchSize"] == 10
    event = json.loads(messages(sqs, out, 1)[0]["Body"])
    assert [r["body"] for r in event["Records"]] == ["waiting"]
    h.wait_until(lambda: counts(sqs, src) == (0, 0), timeout=10, message="the source queue to drain")
    deleted = lam.delete_event_source_mapping(UUID=uuid_)
    assert deleted["State"] == "Deleting"
    h.expect_client_error(lambda: lam.get_event_source_mapping(UUID=uuid_), "ResourceNotFoundException", status=404)


def test_async_invoke_destinations_on_success_and_failure(lam, sqs, make_queue, queue_arn):
    ok_q, fail_q = make_queue("dest-ok"), make_queue("dest-fail")
    fn = create(lam, FLAKY)
    h.expect_client_error(lambda: lam.get_function_event_invoke_config(FunctionName=fn), "ResourceNotFoundException", status=404)
    cfg = lam.put_function_event_invoke_config(
        FunctionName=fn,
        MaximumRetryAttempts=1,
        DestinationConfig={
            "OnSuccess": {"Destination": queue_arn(ok_q)},
            "OnFailure": {"Destination": queue_arn(fail_q)},
        },
    )
    assert cfg["FunctionArn"].endswith(f":function:{fn}:$LATEST")
    assert cfg["MaximumRetryAttempts"] == 1
    assert lam.get_function_event_invoke_config(FunctionName=fn)["DestinationConfig"]["OnFailure"] == {
        "Destination": queue_arn(fail_q)
    }

    r = lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps({"n": 1}))
    assert r["StatusCode"] == 202
    success = json.loads(messages(sqs, ok_q, 1)[0]["Body"])
    assert success["version"] == "1.0"
    assert success["requestContext"]["condition"] == "Success"
    assert success["requestContext"]["requestId"] == r["ResponseMetadata"]["RequestId"]
    assert success["requestContext"]["approximateInvokeCount"] == 1
    assert success["requestContext"]["functionArn"].endswith(f":function:{fn}:$LATEST")
    assert success["requestPayload"] == {"n": 1}
    assert success["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert success["responsePayload"] == {"ok": True, "got": {"n": 1}}

    lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps({"fail": True}))
    failure = json.loads(messages(sqs, fail_q, 1, timeout=20)[0]["Body"])
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2  # one retry
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["responsePayload"]["errorType"] == "RuntimeError"
    assert failure["requestPayload"] == {"fail": True}

    up = lam.update_function_event_invoke_config(FunctionName=fn, MaximumEventAgeInSeconds=120)
    assert up["MaximumRetryAttempts"] == 1 and up["MaximumEventAgeInSeconds"] == 120
    assert len(lam.list_function_event_invoke_configs(FunctionName=fn)["FunctionEventInvokeConfigs"]) == 1
    h.expect_client_error(
        lambda: lam.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=3), "ValidationException"
    )
    lam.delete_function_event_invoke_config(FunctionName=fn)
    h.expect_client_error(lambda: lam.get_function_event_invoke_config(FunctionName=fn), "ResourceNotFoundException")


def test_async_failures_go_to_the_dead_letter_queue(lam, sqs, make_queue, queue_arn):
    dlq = make_queue("fn-dlq")
    fn = create(lam, FLAKY, DeadLetterConfig={"TargetArn": queue_arn(dlq)})
    assert lam.get_function_configuration(FunctionName=fn)["DeadLetterConfig"] == {"TargetArn": queue_arn(dlq)}
    lam.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=0)
    r = lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps({"fail": True, "id": 7}))
    got = h.receive_all(sqs, dlq, expected=1, timeout=15, MessageAttributeNames=["All"])
    assert len(got) == 1
    assert json.loads(got[0]["Body"]) == {"fail": True, "id": 7}
    attrs = got[0]["MessageAttributes"]
    assert attrs["RequestID"]["StringValue"] == r["ResponseMetadata"]["RequestId"]
    assert attrs["ErrorMessage"]["StringValue"] == "failing on purpose"
    assert "ErrorCode" in attrs


def test_resource_policy(lam):
    fn = create(lam, FLAKY)
    h.expect_client_error(lambda: lam.get_policy(FunctionName=fn), "ResourceNotFoundException", status=404)
    out = lam.add_permission(
        FunctionName=fn,
        StatementId="s3invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::my-bucket",
        SourceAccount="000000000000",
    )
    statement = json.loads(out["Statement"])
    assert statement["Sid"] == "s3invoke" and statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"]["ArnLike"] == {"AWS:SourceArn": "arn:aws:s3:::my-bucket"}
    assert statement["Resource"].endswith(f":function:{fn}")
    h.expect_client_error(
        lambda: lam.add_permission(FunctionName=fn, StatementId="s3invoke", Action="lambda:InvokeFunction",
                                   Principal="s3.amazonaws.com"),
        "ResourceConflictException",
        status=409,
    )
    policy = json.loads(lam.get_policy(FunctionName=fn)["Policy"])
    assert policy["Version"] == "2012-10-17" and [s["Sid"] for s in policy["Statement"]] == ["s3invoke"]
    lam.remove_permission(FunctionName=fn, StatementId="s3invoke")
    h.expect_client_error(lambda: lam.remove_permission(FunctionName=fn, StatementId="s3invoke"), "ResourceNotFoundException")
    h.expect_client_error(lambda: lam.get_policy(FunctionName=fn), "ResourceNotFoundException")


def test_s3_upload_invokes_a_function_its_policy_allows(lam, sqs, make_queue, endpoint):
    s3 = s3_client(endpoint)
    bucket = f"n-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    out = make_queue("s3-lambda-out")
    fn = create(lam, RECORDER, Timeout=10, Environment={"Variables": {"OUT": out}})
    fn_arn = lam.get_function_configuration(FunctionName=fn)["FunctionArn"]
    config = {
        "LambdaFunctionConfigurations": [
            {
                "Id": "thumbs",
                "LambdaFunctionArn": fn_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}},
            }
        ]
    }
    # Without a resource policy that lets S3 invoke it, the destination does not validate.
    err = h.expect_client_error(
        lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config),
        "InvalidArgument",
    )
    assert "Unable to validate" in err.response["Error"]["Message"]
    lam.add_permission(FunctionName=fn, StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert got[0]["LambdaFunctionArn"] == fn_arn

    s3.put_object(Bucket=bucket, Key="other/skip.txt", Body=b"no")
    s3.put_object(Bucket=bucket, Key="uploads/cat photo.png", Body=b"meow")
    event = json.loads(messages(sqs, out, 1)[0]["Body"])
    record = event["Records"][0]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == "uploads/cat+photo.png"
    assert record["s3"]["object"]["size"] == 4
    assert record["s3"]["configurationId"] == "thumbs"
    # Only the upload under the prefix invoked the function (the first event is still
    # invisible from the receive above).
    assert h.receive_all(sqs, out, timeout=2) == []
