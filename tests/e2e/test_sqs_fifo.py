"""FIFO queues: naming, attributes, ordering within a message group, a group
blocked while it has messages in flight, the 5-minute deduplication window
(explicit and content-based, queue or message-group scope), SequenceNumber,
ReceiveRequestAttemptId, and the high-throughput settings.

References: SQS Developer Guide "FIFO queue logic", "Exactly-once
processing", "High throughput for FIFO queues"; API Reference SendMessage,
ReceiveMessage, CreateQueue."""

from __future__ import annotations

import hashlib
import time

import pytest

import nimbus_helpers as h


@pytest.fixture
def fifo(make_queue):
    def make(prefix="fifo", **attributes):
        return make_queue(prefix, fifo=True, attributes={k: str(v) for k, v in attributes.items()})

    return make


def consume_all(sqs, url, expected, timeout=15, **kwargs):
    """The canonical FIFO consumer: receive, process in order, delete."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < expected and time.monotonic() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   AttributeNames=["All"], VisibilityTimeout=30, **kwargs).get("Messages", [])
        for m in msgs:
            got.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def send(sqs, url, body, group="g", dedup=None, **kwargs):
    params = dict(QueueUrl=url, MessageBody=body, MessageGroupId=group, **kwargs)
    params["MessageDeduplicationId"] = dedup or h.new_name("d")
    return sqs.send_message(**params)


# --------------------------------------------------------------------------
# creation and attributes
# --------------------------------------------------------------------------

def test_fifo_queue_default_attributes(sqs, fifo):
    url = fifo()
    assert url.endswith(".fifo")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    # recorded against AWS for a new FIFO queue
    assert attrs["FifoQueue"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    assert attrs["DeduplicationScope"] == "queue"
    assert attrs["FifoThroughputLimit"] == "perQueue"
    assert attrs["VisibilityTimeout"] == "30"
    assert attrs["QueueArn"].endswith(".fifo")


def test_fifo_queue_type_cannot_change(sqs, fifo):
    # Recorded against AWS: InvalidAttributeValue "Invalid value for the
    # parameter FifoQueue. Reason: Modifying queue type is not supported."
    url = fifo()
    h.expect_sqs_error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"}),
                       "InvalidAttributeValue")


def test_fifo_attributes_are_unknown_on_standard_queues(sqs, make_queue):
    url = make_queue("std")
    for attr, value in (("ContentBasedDeduplication", "true"), ("DeduplicationScope", "messageGroup"),
                        ("FifoThroughputLimit", "perMessageGroupId")):
        h.expect_sqs_error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={attr: value}),
                           "InvalidAttributeName")


def test_fifo_create_is_idempotent(sqs):
    name = h.new_name("idem", fifo=True)
    attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    first = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    assert sqs.create_queue(QueueName=name, Attributes=dict(attrs))["QueueUrl"] == first
    # Recorded against AWS: QueueAlreadyExists "... a different value for attribute ContentBasedDeduplication"
    h.expect_sqs_error(
        lambda: sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"}),
        "QueueNameExists")


def test_high_throughput_settings_are_accepted(sqs, fifo):
    url = fifo(DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DeduplicationScope", "FifoThroughputLimit"])
    assert got["Attributes"] == {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoThroughputLimit": "perQueue", "DeduplicationScope": "queue"})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DeduplicationScope", "FifoThroughputLimit"])
    assert got["Attributes"] == {"DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"}


@pytest.mark.parametrize("attrs", [
    {"DeduplicationScope": "everywhere"},
    {"FifoThroughputLimit": "unlimited"},
    {"ContentBasedDeduplication": "maybe"},
], ids=["scope", "limit", "cbd"])
def test_invalid_fifo_attribute_values(sqs, fifo, attrs):
    url = fifo()
    h.expect_sqs_error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes=attrs), "InvalidAttributeValue")


def test_per_message_group_limit_needs_message_group_scope(sqs, fifo):
    # "The perMessageGroupId value is allowed only when the value for
    # DeduplicationScope is messageGroup."
    url = fifo()
    h.expect_client_error(
        lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoThroughputLimit": "perMessageGroupId",
                                                                    "DeduplicationScope": "queue"}),
        code={"InvalidAttributeValue", "InvalidParameterValue"}, status=400)


def test_content_based_deduplication_can_be_toggled(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "false"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ContentBasedDeduplication"])["Attributes"]
    assert attrs == {"ContentBasedDeduplication": "false"}


# --------------------------------------------------------------------------
# send-side rules
# --------------------------------------------------------------------------

def test_message_group_id_is_required(sqs, fifo):
    # Recorded against AWS: MissingParameter "The request must contain the parameter MessageGroupId."
    url = fifo()
    h.expect_client_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d"),
                          code="MissingParameter", status=400)


def test_deduplication_id_is_required_without_content_based_dedup(sqs, fifo):
    # Recorded against AWS: InvalidParameterValue "The queue should either have
    # ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
    url = fifo()
    h.expect_client_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g"),
                          code="InvalidParameterValue", status=400)


def test_per_message_delay_is_rejected(sqs, fifo):
    # Recorded against AWS: InvalidParameterValue "Value 2 for parameter
    # DelaySeconds is invalid. Reason: The request include parameter that is not
    # valid for this queue type."
    url = fifo()
    h.expect_client_error(lambda: send(sqs, url, "x", DelaySeconds=2), code="InvalidParameterValue", status=400)


def test_queue_level_delay_applies_to_fifo(sqs, fifo):
    url = fifo(DelaySeconds=1)
    send(sqs, url, "delayed")
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    time.sleep(1.2)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]] == ["delayed"]


@pytest.mark.parametrize("field", ["MessageGroupId", "MessageDeduplicationId"])
def test_ids_longer_than_128_chars_are_rejected(sqs, fifo, field):
    url = fifo()
    params = {"MessageGroupId": "g", "MessageDeduplicationId": "d", field: "x" * 129}
    h.expect_client_error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x", **params),
                          code="InvalidParameterValue", status=400)
    params[field] = "y" * 128
    sqs.send_message(QueueUrl=url, MessageBody="x", **params)


def test_batch_without_group_id_is_rejected(sqs, fifo):
    # Recorded against AWS: the whole request fails, InvalidParameterValue
    url = fifo()
    h.expect_client_error(
        lambda: sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x",
                                                               "MessageDeduplicationId": "d"}]),
        code="InvalidParameterValue", status=400)


# --------------------------------------------------------------------------
# ordering and groups
# --------------------------------------------------------------------------

def test_order_within_a_group(sqs, fifo):
    url = fifo()
    for i in range(8):
        send(sqs, url, f"m{i}", group="only")
    got = consume_all(sqs, url, 8)
    assert [m["Body"] for m in got] == [f"m{i}" for i in range(8)]


def test_order_within_interleaved_groups(sqs, fifo):
    url = fifo()
    for i in range(4):
        for g in ("A", "B", "C"):
            send(sqs, url, f"{g}{i}", group=g)
    got = consume_all(sqs, url, 12)
    assert len(got) == 12
    for g in ("A", "B", "C"):
        assert [m["Body"] for m in got if m["Attributes"]["MessageGroupId"] == g] == [f"{g}{i}" for i in range(4)]


def test_group_is_blocked_while_a_message_is_in_flight(sqs, fifo):
    url = fifo()
    send(sqs, url, "A1", group="A")
    send(sqs, url, "A2", group="A")
    send(sqs, url, "B1", group="B")
    send(sqs, url, "B2", group="B")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
    assert first["Body"] in ("A1", "B1")
    g = first["Body"][0]
    other = "B" if g == "A" else "A"
    # the other group continues ...
    second = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
    assert second["Body"] == f"{other}1"
    # ... and now both groups have a message in flight: nothing else comes out
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    third = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
    assert [m["Body"] for m in third] == [f"{g}2"]


def test_in_flight_message_comes_back_before_the_rest_of_its_group(sqs, fifo):
    url = fifo()
    send(sqs, url, "first")
    send(sqs, url, "second")
    m = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"]
    assert [x["Body"] for x in m] == ["first"]
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    time.sleep(1.3)
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert [x["Body"] for x in again] == ["first"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    # ChangeMessageVisibility 0 releases the group at once
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again[0]["ReceiptHandle"], VisibilityTimeout=0)
    assert [x["Body"] for x in sqs.receive_message(QueueUrl=url)["Messages"]] == ["first"]


def test_expired_receipt_handle_on_fifo_queue(sqs, fifo):
    # AWS knowledge center (sqs-receipt-handle-error): for FIFO queues "a
    # receipt handle expires after a visibility timeout period ... An error
    # occurred (InvalidParameterValue) when calling the DeleteMessage operation:
    # Value '...' for parameter ReceiptHandle is invalid. Reason: The receipt
    # handle has expired."
    url = fifo()
    send(sqs, url, "expiring")
    m = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0]
    time.sleep(1.3)
    h.expect_client_error(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"]),
                          code="InvalidParameterValue", status=400)
    # the message was not deleted
    again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert [x["MessageId"] for x in again] == [m["MessageId"]]


def test_receive_returns_fifo_system_attributes(sqs, fifo):
    url = fifo()
    sent = sqs.send_message(QueueUrl=url, MessageBody="message-body-1", MessageGroupId="group-1",
                            MessageDeduplicationId="dedup-1")
    assert sent["SequenceNumber"].isdigit()
    m = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
    a = m["Attributes"]
    assert a["MessageGroupId"] == "group-1"
    assert a["MessageDeduplicationId"] == "dedup-1"
    assert a["SequenceNumber"] == sent["SequenceNumber"]
    assert a["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(a)


def test_sequence_numbers_increase(sqs, fifo):
    url = fifo()
    seqs = [int(send(sqs, url, f"m{i}", group="g")["SequenceNumber"]) for i in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    other = [int(send(sqs, url, f"o{i}", group="other")["SequenceNumber"]) for i in range(3)]
    assert other == sorted(other) and len(set(other)) == 3
    # "The length of SequenceNumber is 128 bits"
    assert all(s < 2**128 for s in seqs + other)


def test_fifo_batch(sqs, fifo):
    url = fifo()
    entries = [{"Id": f"e{i}", "MessageBody": f"b{i}", "MessageGroupId": "g" if i % 2 else "h",
                "MessageDeduplicationId": f"d{i}"} for i in range(6)]
    resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert resp.get("Failed", []) == []
    seq = {e["Id"]: int(e["SequenceNumber"]) for e in resp["Successful"]}
    assert seq["e1"] < seq["e3"] < seq["e5"] and seq["e0"] < seq["e2"] < seq["e4"]
    got = consume_all(sqs, url, 6)
    assert [m["Body"] for m in got if m["Attributes"]["MessageGroupId"] == "g"] == ["b1", "b3", "b5"]
    assert [m["Body"] for m in got if m["Attributes"]["MessageGroupId"] == "h"] == ["b0", "b2", "b4"]


def test_receive_request_attempt_id_returns_the_same_messages(sqs, fifo):
    # "During a visibility timeout, subsequent calls with the same
    # ReceiveRequestAttemptId return the same messages and receipt handles."
    url = fifo()
    send(sqs, url, "a", group="A")
    send(sqs, url, "b", group="B")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30,
                                ReceiveRequestAttemptId="attempt-1")["Messages"]
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30,
                                ReceiveRequestAttemptId="attempt-1")["Messages"]
    assert [(m["MessageId"], m["ReceiptHandle"]) for m in again] == \
        [(m["MessageId"], m["ReceiptHandle"]) for m in first]
    assert sorted(m["Body"] for m in first) == ["a", "b"]
    # without the attempt id nothing is left: both groups are in flight
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []


# --------------------------------------------------------------------------
# deduplication
# --------------------------------------------------------------------------

def test_explicit_deduplication(sqs, fifo):
    url = fifo()
    first = send(sqs, url, "one", dedup="same-id")
    dup = send(sqs, url, "two", dedup="same-id")
    # "any messages sent with the same MessageDeduplicationId are accepted
    # successfully but aren't delivered during the 5-minute deduplication interval"
    assert dup["MessageId"]
    got = consume_all(sqs, url, 2, timeout=3)
    assert [m["Body"] for m in got] == ["one"]
    assert got[0]["MessageId"] == first["MessageId"]


def test_deduplication_outlives_deletion(sqs, fifo):
    # "Amazon SQS continues to keep track of the message deduplication ID even
    # after the message is received and deleted."
    url = fifo()
    send(sqs, url, "once", dedup="d-1")
    assert [m["Body"] for m in consume_all(sqs, url, 1)] == ["once"]
    send(sqs, url, "once", dedup="d-1")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def test_content_based_deduplication(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    for body in ("same", "same", "different", "same"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    got = consume_all(sqs, url, 3, timeout=3)
    assert [m["Body"] for m in got] == ["same", "different"]


def test_content_based_dedup_id_is_the_sha256_of_the_body(sqs, fifo):
    # "Amazon SQS uses a SHA-256 hash to generate the MessageDeduplicationId
    # using the body of the message (but not the attributes of the message)."
    url = fifo(ContentBasedDeduplication="true")
    body = "hash me"
    digest = hashlib.sha256(body.encode()).hexdigest()
    sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g",
                     MessageAttributes={"a": {"DataType": "String", "StringValue": "1"}})
    # same body, other attributes: still a duplicate
    sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g",
                     MessageAttributes={"a": {"DataType": "String", "StringValue": "2"}})
    # "another message with a MessageDeduplicationId that is the same as the
    # one generated for the first ... the two messages are treated as duplicates"
    sqs.send_message(QueueUrl=url, MessageBody="other body", MessageGroupId="g", MessageDeduplicationId=digest)
    got = consume_all(sqs, url, 2, timeout=3)
    assert [m["Body"] for m in got] == [body]
    assert got[0]["Attributes"]["MessageDeduplicationId"] == digest


def test_explicit_id_overrides_content_based(sqs, fifo):
    url = fifo(ContentBasedDeduplication="true")
    sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g", MessageDeduplicationId="explicit")
    got = consume_all(sqs, url, 2)
    assert [m["Body"] for m in got] == ["same", "same"]
    assert got[1]["Attributes"]["MessageDeduplicationId"] == "explicit"


def test_queue_scope_deduplicates_across_groups(sqs, fifo):
    url = fifo()
    send(sqs, url, "in g1", group="g1", dedup="shared")
    send(sqs, url, "in g2", group="g2", dedup="shared")
    got = consume_all(sqs, url, 2, timeout=3)
    assert [m["Body"] for m in got] == ["in g1"]


def test_message_group_scope_deduplicates_within_group_only(sqs, fifo):
    url = fifo(DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    send(sqs, url, "in g1", group="g1", dedup="shared")
    send(sqs, url, "in g2", group="g2", dedup="shared")
    send(sqs, url, "again in g1", group="g1", dedup="shared")
    got = consume_all(sqs, url, 3, timeout=3)
    assert sorted(m["Body"] for m in got) == ["in g1", "in g2"]


def test_batch_deduplication(sqs, fifo):
    url = fifo()
    resp = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "same"},
        {"Id": "b", "MessageBody": "y", "MessageGroupId": "g", "MessageDeduplicationId": "same"},
    ])
    assert sorted(e["Id"] for e in resp["Successful"]) == ["a", "b"]
    got = consume_all(sqs, url, 2, timeout=3)
    assert [m["Body"] for m in got] == ["x"]
