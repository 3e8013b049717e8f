"""The awsQuery protocol, as older SDKs speak it: signed form POSTs
(`Action=...&Version=2012-11-05`), XML responses in the
http://queue.amazonaws.com/doc/2012-11-05/ namespace, and <ErrorResponse>
errors.  Reference: the SQS API Reference's "Making Query API requests" and
the request/response examples of each action."""

from __future__ import annotations

import base64
import json


import nimbus_helpers as h

NS = "{%s}" % h.QUERY_NS


def ok(res, action):
    assert res.status == 200, res
    assert res.root is not None, res
    assert res.root.tag == f"{NS}{action}Response", res.root.tag
    assert res.findtext("ResponseMetadata/RequestId"), res
    return res


def create(query, name=None, params=None):
    name = name or h.new_name("query")
    res = ok(query("CreateQueue", dict({"QueueName": name}, **(params or {}))), "CreateQueue")
    return name, res.findtext("CreateQueueResult/QueueUrl")


def test_create_queue_with_attributes_and_tags(query, sqs):
    name, url = create(query, params={
        "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "45",
        "Attribute.2.Name": "DelaySeconds", "Attribute.2.Value": "2",
        "Tag.1.Key": "team", "Tag.1.Value": "core",
    })
    assert url.endswith(f"/000000000000/{name}")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "DelaySeconds"])
    assert attrs["Attributes"] == {"VisibilityTimeout": "45", "DelaySeconds": "2"}
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}


def test_get_queue_url_and_attributes(query):
    name, url = create(query, params={"Attribute.1.Name": "MaximumMessageSize", "Attribute.1.Value": "2048"})
    res = ok(query("GetQueueUrl", {"QueueName": name}), "GetQueueUrl")
    assert res.findtext("GetQueueUrlResult/QueueUrl") == url
    res = ok(query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "All"}), "GetQueueAttributes")
    attrs = {res.findtext("Name", a): res.findtext("Value", a) for a in res.findall("GetQueueAttributesResult/Attribute")}
    assert attrs["MaximumMessageSize"] == "2048"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    res = ok(query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "VisibilityTimeout",
                                          "AttributeName.2": "DelaySeconds"}), "GetQueueAttributes")
    names = sorted(res.findtext("Name", a) for a in res.findall("GetQueueAttributesResult/Attribute"))
    assert names == ["DelaySeconds", "VisibilityTimeout"]


def test_set_queue_attributes(query, sqs):
    _, url = create(query)
    ok(query("SetQueueAttributes", {"QueueUrl": url, "Attribute.1.Name": "VisibilityTimeout",
                                    "Attribute.1.Value": "7"}), "SetQueueAttributes")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "7"}


def test_send_message_with_attributes(query, sqs):
    _, url = create(query)
    body = "<hello & 'welcome'> ✓"
    res = ok(query("SendMessage", {
        "QueueUrl": url, "MessageBody": body,
        "MessageAttribute.1.Name": "city", "MessageAttribute.1.Value.DataType": "String",
        "MessageAttribute.1.Value.StringValue": "Any City",
        "MessageAttribute.2.Name": "count", "MessageAttribute.2.Value.DataType": "Number",
        "MessageAttribute.2.Value.StringValue": "42",
        "MessageAttribute.3.Name": "blob", "MessageAttribute.3.Value.DataType": "Binary",
        "MessageAttribute.3.Value.BinaryValue": base64.b64encode(b"\x00\x01binary").decode(),
    }), "SendMessage")
    attrs = {
        "city": {"DataType": "String", "StringValue": "Any City"},
        "count": {"DataType": "Number", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01binary"},
    }
    assert res.findtext("SendMessageResult/MD5OfMessageBody") == h.md5_hex(body)
    assert res.findtext("SendMessageResult/MD5OfMessageAttributes") == h.md5_of_attributes(attrs)
    message_id = res.findtext("SendMessageResult/MessageId")
    # the same message seen through awsJson
    m = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1)["Messages"][0]
    assert m["MessageId"] == message_id
    assert m["Body"] == body
    assert m["MessageAttributes"] == attrs


def test_receive_message_xml_shape(query, sqs):
    _, url = create(query)
    attrs = {"color": {"DataType": "String", "StringValue": "blue"},
             "raw": {"DataType": "Binary", "BinaryValue": b"\xff\x00"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="a & b < c", MessageAttributes=attrs)
    res = ok(query("ReceiveMessage", {"QueueUrl": url, "AttributeName.1": "All", "MessageAttributeName.1": "All",
                                      "WaitTimeSeconds": "1", "MaxNumberOfMessages": "10"}), "ReceiveMessage")
    msgs = res.findall("ReceiveMessageResult/Message")
    assert len(msgs) == 1
    m = msgs[0]
    assert res.findtext("MessageId", m) == sent["MessageId"]
    assert res.findtext("Body", m) == "a & b < c"
    assert res.findtext("MD5OfBody", m) == h.md5_hex("a & b < c")
    assert res.findtext("ReceiptHandle", m)
    assert res.findtext("MD5OfMessageAttributes", m) == h.md5_of_attributes(attrs)
    system = {res.findtext("Name", a): res.findtext("Value", a) for a in res.findall("Attribute", m)}
    assert system["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(system)
    user = {}
    for a in res.findall("MessageAttribute", m):
        value = res.find("Value", a)
        entry = {"DataType": res.findtext("DataType", value)}
        if res.find("StringValue", value) is not None:
            entry["StringValue"] = res.findtext("StringValue", value)
        if res.find("BinaryValue", value) is not None:
            entry["BinaryValue"] = base64.b64decode(res.findtext("BinaryValue", value))
        user[res.findtext("Name", a)] = entry
    assert user == attrs
    # delete it via query with the receipt handle from the XML
    ok(query("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": res.findtext("ReceiptHandle", m)}), "DeleteMessage")
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


def test_receive_on_empty_queue(query):
    _, url = create(query)
    res = ok(query("ReceiveMessage", {"QueueUrl": url}), "ReceiveMessage")
    assert res.find("ReceiveMessageResult") is not None
    assert res.findall("ReceiveMessageResult/Message") == []


def test_send_message_batch(query, sqs):
    _, url = create(query)
    params = {"QueueUrl": url}
    for i in range(1, 4):
        params[f"SendMessageBatchRequestEntry.{i}.Id"] = f"msg_{i}"
        params[f"SendMessageBatchRequestEntry.{i}.MessageBody"] = f"body {i}"
    params["SendMessageBatchRequestEntry.2.DelaySeconds"] = "1"
    params["SendMessageBatchRequestEntry.3.MessageAttribute.1.Name"] = "k"
    params["SendMessageBatchRequestEntry.3.MessageAttribute.1.Value.DataType"] = "String"
    params["SendMessageBatchRequestEntry.3.MessageAttribute.1.Value.StringValue"] = "v"
    res = ok(query("SendMessageBatch", params), "SendMessageBatch")
    entries = res.findall("SendMessageBatchResult/SendMessageBatchResultEntry")
    by_id = {res.findtext("Id", e): e for e in entries}
    assert sorted(by_id) == ["msg_1", "msg_2", "msg_3"]
    for i in range(1, 4):
        assert res.findtext("MD5OfMessageBody", by_id[f"msg_{i}"]) == h.md5_hex(f"body {i}")
        assert res.findtext("MessageId", by_id[f"msg_{i}"])
    assert res.findtext("MD5OfMessageAttributes", by_id["msg_3"]) == h.md5_of_attributes(
        {"k": {"DataType": "String", "StringValue": "v"}})
    assert res.findall("SendMessageBatchResult/BatchResultErrorEntry") == []
    got = h.receive_all(sqs, url, expected=3)
    assert sorted(m["Body"] for m in got) == ["body 1", "body 2", "body 3"]


def test_delete_and_change_visibility_batch(query, sqs):
    _, url = create(query)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
    msgs = h.receive_all(sqs, url, expected=3)
    params = {"QueueUrl": url}
    for i, m in enumerate(msgs[:2], start=1):
        params[f"ChangeMessageVisibilityBatchRequestEntry.{i}.Id"] = f"c{i}"
        params[f"ChangeMessageVisibilityBatchRequestEntry.{i}.ReceiptHandle"] = m["ReceiptHandle"]
        params[f"ChangeMessageVisibilityBatchRequestEntry.{i}.VisibilityTimeout"] = "120"
    res = ok(query("ChangeMessageVisibilityBatch", params), "ChangeMessageVisibilityBatch")
    assert sorted(res.findtext("Id", e) for e in res.findall(
        "ChangeMessageVisibilityBatchResult/ChangeMessageVisibilityBatchResultEntry")) == ["c1", "c2"]
    params = {"QueueUrl": url}
    for i, m in enumerate(msgs, start=1):
        params[f"DeleteMessageBatchRequestEntry.{i}.Id"] = f"d{i}"
        params[f"DeleteMessageBatchRequestEntry.{i}.ReceiptHandle"] = m["ReceiptHandle"]
    params["DeleteMessageBatchRequestEntry.4.Id"] = "bad"
    params["DeleteMessageBatchRequestEntry.4.ReceiptHandle"] = "garbage"
    res = ok(query("DeleteMessageBatch", params), "DeleteMessageBatch")
    assert sorted(res.findtext("Id", e) for e in res.findall(
        "DeleteMessageBatchResult/DeleteMessageBatchResultEntry")) == ["d1", "d2", "d3"]
    failed = res.findall("DeleteMessageBatchResult/BatchResultErrorEntry")
    assert [(res.findtext("Id", f), res.findtext("Code", f), res.findtext("SenderFault", f)) for f in failed] == [
        ("bad", "ReceiptHandleIsInvalid", "true")]


def test_change_message_visibility(query, sqs):
    _, url = create(query)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    m = sqs.receive_message(QueueUrl=url, VisibilityTimeout=60)["Messages"][0]
    ok(query("ChangeMessageVisibility", {"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"],
                                         "VisibilityTimeout": "0"}), "ChangeMessageVisibility")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["MessageId"] == m["MessageId"]


def test_list_queues(query):
    prefix = h.new_name("qlist")
    urls = sorted(create(query, name=f"{prefix}-{i}")[1] for i in range(3))
    res = ok(query("ListQueues", {"QueueNamePrefix": prefix}), "ListQueues")
    assert sorted(e.text for e in res.findall("ListQueuesResult/QueueUrl")) == urls
    res = ok(query("ListQueues", {"QueueNamePrefix": prefix, "MaxResults": "2"}), "ListQueues")
    assert len(res.findall("ListQueuesResult/QueueUrl")) == 2
    token = res.findtext("ListQueuesResult/NextToken")
    assert token
    res = ok(query("ListQueues", {"QueueNamePrefix": prefix, "MaxResults": "2", "NextToken": token}), "ListQueues")
    assert len(res.findall("ListQueuesResult/QueueUrl")) == 1


def test_tags(query):
    _, url = create(query)
    ok(query("TagQueue", {"QueueUrl": url, "Tag.1.Key": "a", "Tag.1.Value": "1",
                          "Tag.2.Key": "b", "Tag.2.Value": "2"}), "TagQueue")
    ok(query("UntagQueue", {"QueueUrl": url, "TagKey.1": "a"}), "UntagQueue")
    res = ok(query("ListQueueTags", {"QueueUrl": url}), "ListQueueTags")
    tags = {res.findtext("Key", t): res.findtext("Value", t) for t in res.findall("ListQueueTagsResult/Tag")}
    assert tags == {"b": "2"}


def test_add_and_remove_permission(query, sqs):
    _, url = create(query)
    ok(query("AddPermission", {"QueueUrl": url, "Label": "p1", "AWSAccountId.1": "111111111111",
                               "AWSAccountId.2": "222222222222", "ActionName.1": "SendMessage",
                               "ActionName.2": "ReceiveMessage"}), "AddPermission")
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    st = policy["Statement"][0]
    assert st["Sid"] == "p1"
    assert sorted(st["Action"] if isinstance(st["Action"], list) else [st["Action"]]) == [
        "SQS:ReceiveMessage", "SQS:SendMessage"]
    ok(query("RemovePermission", {"QueueUrl": url, "Label": "p1"}), "RemovePermission")
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_purge_and_delete_queue(query, sqs):
    name, url = create(query)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    ok(query("PurgeQueue", {"QueueUrl": url}), "PurgeQueue")
    ok(query("DeleteQueue", {"QueueUrl": url}), "DeleteQueue")
    h.expect_sqs_error(lambda: sqs.get_queue_url(QueueName=name), "QueueDoesNotExist")


def test_dead_letter_source_queues(query, sqs, queue_arn):
    _, dlq = create(query)
    _, src = create(query, params={"Attribute.1.Name": "RedrivePolicy", "Attribute.1.Value": json.dumps(
        {"deadLetterTargetArn": queue_arn(dlq), "maxReceiveCount": 3})})
    res = ok(query("ListDeadLetterSourceQueues", {"QueueUrl": dlq}), "ListDeadLetterSourceQueues")
    assert [e.text for e in res.findall("ListDeadLetterSourceQueuesResult/QueueUrl")] == [src]


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------

def assert_error(res, code, status=400):
    allowed = {status} if isinstance(status, int) else set(status)
    assert res.status in allowed, res
    assert res.root is not None and res.root.tag == f"{NS}ErrorResponse", res
    assert res.findtext("Error/Type") == "Sender", res
    assert res.findtext("Error/Code") == code, res
    assert res.findtext("Error/Message"), res
    assert res.findtext("RequestId"), res


def test_error_for_missing_queue(query):
    res = query("GetQueueUrl", {"QueueName": h.new_name("missing")})
    assert_error(res, "AWS.SimpleQueueService.NonExistentQueue")


def test_error_for_existing_queue_with_other_attributes(query):
    name, _ = create(query, params={"Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "1"})
    res = query("CreateQueue", {"QueueName": name, "Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "2"})
    assert_error(res, "QueueAlreadyExists")


def test_error_for_batch_problems(query):
    _, url = create(query)
    res = query("SendMessageBatch", {"QueueUrl": url,
                                     "SendMessageBatchRequestEntry.1.Id": "same",
                                     "SendMessageBatchRequestEntry.1.MessageBody": "a",
                                     "SendMessageBatchRequestEntry.2.Id": "same",
                                     "SendMessageBatchRequestEntry.2.MessageBody": "b"})
    assert_error(res, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct")
    res = query("SendMessageBatch", {"QueueUrl": url})
    assert_error(res, "AWS.SimpleQueueService.EmptyBatchRequest")
    params = {"QueueUrl": url}
    for i in range(1, 12):
        params[f"SendMessageBatchRequestEntry.{i}.Id"] = f"e{i}"
        params[f"SendMessageBatchRequestEntry.{i}.MessageBody"] = "x"
    assert_error(query("SendMessageBatch", params), "AWS.SimpleQueueService.TooManyEntriesInBatchRequest")


def test_error_for_invalid_attribute(query):
    _, url = create(query)
    res = query("SetQueueAttributes", {"QueueUrl": url, "Attribute.1.Name": "VisibilityTimeout",
                                       "Attribute.1.Value": "99999"})
    assert_error(res, "InvalidAttributeValue")
    res = query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "Nope"})
    assert_error(res, "InvalidAttributeName")


def test_error_for_invalid_receipt_handle(query):
    _, url = create(query)
    assert_error(query("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": "garbage"}), "ReceiptHandleIsInvalid",
                 status=h.DEFAULT_STATUS["ReceiptHandleIsInvalid"])


def test_error_for_invalid_message_contents(query):
    _, url = create(query)
    assert_error(query("SendMessage", {"QueueUrl": url, "MessageBody": "bad \x01 char"}), "InvalidMessageContents")


def test_error_for_unknown_action(query):
    assert_error(query("FlyToTheMoon", {}), "InvalidAction")


def test_purge_in_progress_is_403(query):
    _, url = create(query)
    ok(query("PurgeQueue", {"QueueUrl": url}), "PurgeQueue")
    assert_error(query("PurgeQueue", {"QueueUrl": url}), "AWS.SimpleQueueService.PurgeQueueInProgress", status=403)


# --------------------------------------------------------------------------
# request forms
# --------------------------------------------------------------------------

def test_get_request_with_query_string(query, sqs):
    name, url = create(query)
    res = ok(query("GetQueueUrl", {"QueueName": name}, method="GET"), "GetQueueUrl")
    assert res.findtext("GetQueueUrlResult/QueueUrl") == url


def test_action_posted_to_queue_path(query, sqs):
    _, url = create(query)
    ok(query("SendMessage", {"MessageBody": "posted to path"}, url=url), "SendMessage")
    res = ok(query("ReceiveMessage", {"WaitTimeSeconds": "1"}, url=url), "ReceiveMessage")
    assert [res.findtext("Body", m) for m in res.findall("ReceiveMessageResult/Message")] == ["posted to path"]


def test_fifo_over_query(query, sqs):
    name = h.new_name("qfifo", fifo=True)
    _, url = create(query, name=name, params={"Attribute.1.Name": "FifoQueue", "Attribute.1.Value": "true"})
    res = ok(query("SendMessage", {"QueueUrl": url, "MessageBody": "f", "MessageGroupId": "g",
                                   "MessageDeduplicationId": "d"}), "SendMessage")
    seq = res.findtext("SendMessageResult/SequenceNumber")
    assert seq and seq.isdigit()
    res = query("SendMessage", {"QueueUrl": url, "MessageBody": "f", "MessageDeduplicationId": "d2"})
    assert_error(res, "MissingParameter")
