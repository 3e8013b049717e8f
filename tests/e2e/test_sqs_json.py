"""The awsJson 1.0 wire format seen raw, without boto3's leniency: content
type, request ids, `__type` + message error bodies and the
`x-amzn-query-error: <legacy code>;Sender` header that lets JSON clients
recover the awsQuery codes (botocore's awsQueryCompatible handling)."""

from __future__ import annotations


import pytest

import nimbus_helpers as h


def test_success_response_headers(json_call):
    res = json_call("ListQueues", {})
    assert res.status == 200, res
    assert res.headers["Content-Type"].startswith("application/x-amz-json-1.0")
    assert res.headers.get("x-amzn-RequestId")
    assert isinstance(res.body, dict)


def test_create_and_send_raw(json_call):
    name = h.new_name("raw")
    res = json_call("CreateQueue", {"QueueName": name, "Attributes": {"VisibilityTimeout": "5"},
                                    "tags": {"a": "b"}})
    assert res.status == 200, res
    url = res.body["QueueUrl"]
    res = json_call("SendMessage", {"QueueUrl": url, "MessageBody": "raw body", "DelaySeconds": 0,
                                    "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "1"}}})
    assert res.status == 200, res
    assert res.body["MD5OfMessageBody"] == h.md5_hex("raw body")
    assert res.body["MD5OfMessageAttributes"] == h.md5_of_attributes({"n": {"DataType": "Number", "StringValue": "1"}})
    res = json_call("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1,
                                       "MessageSystemAttributeNames": ["SentTimestamp"],
                                       "MessageAttributeNames": ["All"]})
    assert res.status == 200, res
    [m] = res.body["Messages"]
    assert m["Body"] == "raw body"
    assert m["Attributes"]["SentTimestamp"].isdigit()  # strings in the map, as AWS sends them
    assert m["MessageAttributes"] == {"n": {"DataType": "Number", "StringValue": "1"}}


def test_binary_attributes_are_base64_in_json(json_call, sqs, make_queue):
    import base64

    url = make_queue("rawbin")
    raw = b"\x00\xffbinary"
    res = json_call("SendMessage", {"QueueUrl": url, "MessageBody": "b", "MessageAttributes": {
        "bin": {"DataType": "Binary", "BinaryValue": base64.b64encode(raw).decode()}}})
    assert res.status == 200, res
    assert res.body["MD5OfMessageAttributes"] == h.md5_of_attributes({"bin": {"DataType": "Binary", "BinaryValue": raw}})
    m = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1)["Messages"][0]
    assert m["MessageAttributes"]["bin"]["BinaryValue"] == raw


@pytest.mark.parametrize("operation,body,shape,legacy", [
    ("GetQueueUrl", {"QueueName": "does-not-exist-anywhere"}, "QueueDoesNotExist",
     "AWS.SimpleQueueService.NonExistentQueue"),
    ("ReceiveMessage", {"QueueUrl": "http://127.0.0.1/000000000000/does-not-exist-anywhere"}, "QueueDoesNotExist",
     "AWS.SimpleQueueService.NonExistentQueue"),
], ids=["GetQueueUrl", "ReceiveMessage"])
def test_error_body_and_query_error_header(json_call, operation, body, shape, legacy):
    res = json_call(operation, body)
    assert res.status == 400, res
    assert res.headers["Content-Type"].startswith("application/x-amz-json-1.0")
    assert res.error_type == shape, res
    assert res.query_error == f"{legacy};Sender", res
    message = res.body.get("message") or res.body.get("Message")
    assert message, res


def test_queue_already_exists_header(json_call):
    name = h.new_name("rawdup")
    assert json_call("CreateQueue", {"QueueName": name, "Attributes": {"DelaySeconds": "1"}}).status == 200
    res = json_call("CreateQueue", {"QueueName": name, "Attributes": {"DelaySeconds": "2"}})
    assert res.status == 400, res
    assert res.error_type == "QueueNameExists", res
    assert res.query_error == "QueueAlreadyExists;Sender", res


def test_batch_error_header(json_call, make_queue):
    url = make_queue("rawbatch")
    res = json_call("SendMessageBatch", {"QueueUrl": url, "Entries": []})
    assert res.status == 400, res
    assert res.error_type == "EmptyBatchRequest", res
    assert res.query_error == "AWS.SimpleQueueService.EmptyBatchRequest;Sender", res


def test_invalid_parameter_value_header(json_call, make_queue):
    url = make_queue("rawinvalid")
    res = json_call("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 11})
    assert res.status == 400, res
    assert (res.query_error or "").split(";") == ["InvalidParameterValue", "Sender"], res


def test_unknown_operation_is_400(json_call):
    res = json_call("Nope", {})
    assert res.status == 400, res
    assert res.error_type in {"UnknownOperationException", "InvalidAction"}, res


def test_wrong_target_prefix(json_call):
    res = json_call("ListQueues", {}, target="AmazonSQSX.ListQueues")
    assert 400 <= res.status < 500, res


def test_json_1_1_content_type_is_not_a_server_error(json_call):
    res = json_call("ListQueues", {}, content_type="application/x-amz-json-1.1")
    assert res.status < 500, res
