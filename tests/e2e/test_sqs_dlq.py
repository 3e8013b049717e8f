"""Dead-letter queues and redrive: maxReceiveCount moves messages,
ListDeadLetterSourceQueues, StartMessageMoveTask / ListMessageMoveTasks /
CancelMessageMoveTask.

References: CreateQueue (RedrivePolicy: "When the ReceiveCount for a message
exceeds the maxReceiveCount for a queue, Amazon SQS moves the message to the
dead-letter-queue"), ListDeadLetterSourceQueues, StartMessageMoveTask,
ListMessageMoveTasks, CancelMessageMoveTask in the SQS API Reference."""

from __future__ import annotations

import json
import time

import pytest

import nimbus_helpers as h


@pytest.fixture
def redrive(sqs, make_queue, queue_arn):
    """redrive(max_receive_count, fifo=False) -> (source_url, dlq_url)."""

    def make(max_receive_count=2, fifo=False, source_attrs=None, dlq=None):
        dlq_url = dlq or make_queue("dlq", fifo=fifo)
        attrs = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn(dlq_url),
                                               "maxReceiveCount": max_receive_count})}
        attrs.update(source_attrs or {})
        src = make_queue("src", fifo=fifo, attributes=attrs)
        return src, dlq_url

    return make


def approx(sqs, url):
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


def drive_to_dlq(sqs, src, dlq, n, timeout=15):
    """Receive from `src` with VisibilityTimeout=0 until all n messages have
    exceeded their maxReceiveCount and sit in the DLQ."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)
        if approx(sqs, dlq) >= n:
            return
    raise AssertionError(f"only {approx(sqs, dlq)} of {n} messages reached the DLQ")


def test_message_moves_after_max_receive_count(sqs, redrive):
    src, dlq = redrive(max_receive_count=2)
    attrs = {"trace": {"DataType": "String", "StringValue": "abc"}}
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison", MessageAttributes=attrs)
    deliveries = 0
    sent_ts = None
    for _ in range(5):
        msgs = sqs.receive_message(QueueUrl=src, VisibilityTimeout=0,
                                   AttributeNames=["ApproximateReceiveCount", "SentTimestamp"]).get("Messages", [])
        if msgs:
            deliveries += 1
            assert msgs[0]["Attributes"]["ApproximateReceiveCount"] == str(deliveries)
            sent_ts = msgs[0]["Attributes"]["SentTimestamp"]
    # delivered exactly maxReceiveCount times from the source, then moved
    assert deliveries == 2
    assert approx(sqs, src) == 0
    moved = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=2, MessageAttributeNames=["All"],
                                AttributeNames=["All"])["Messages"]
    assert len(moved) == 1
    m = moved[0]
    assert m["Body"] == "poison"
    assert m["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert m["MessageAttributes"] == attrs
    assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert m["MessageId"] == sent["MessageId"]
    # Developer Guide (dead-letter queues): "When a message is moved to a
    # dead-letter queue, the enqueue timestamp is unchanged."
    assert m["Attributes"]["SentTimestamp"] == sent_ts


def test_deleted_messages_never_reach_the_dlq(sqs, redrive):
    src, dlq = redrive(max_receive_count=1)
    sqs.send_message(QueueUrl=src, MessageBody="handled")
    m = sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)["Messages"][0]
    sqs.delete_message(QueueUrl=src, ReceiptHandle=m["ReceiptHandle"])
    assert sqs.receive_message(QueueUrl=src).get("Messages", []) == []
    assert approx(sqs, dlq) == 0


def test_messages_expire_into_dlq_through_visibility_timeouts(sqs, redrive):
    src, dlq = redrive(max_receive_count=1, source_attrs={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=src, MessageBody="slow consumer")
    assert sqs.receive_message(QueueUrl=src)["Messages"][0]["Body"] == "slow consumer"
    time.sleep(1.3)
    # the next receive finds the receive count exceeded
    assert sqs.receive_message(QueueUrl=src, WaitTimeSeconds=1).get("Messages", []) == []
    assert sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=2)["Messages"][0]["Body"] == "slow consumer"


def test_fifo_dead_letter_queue(sqs, redrive):
    src, dlq = redrive(max_receive_count=1, fifo=True)
    sqs.send_message(QueueUrl=src, MessageBody="first", MessageGroupId="g", MessageDeduplicationId="1")
    sqs.send_message(QueueUrl=src, MessageBody="second", MessageGroupId="g", MessageDeduplicationId="2")
    first = sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)["Messages"]
    assert [m["Body"] for m in first] == ["first"]
    # "first" is now over its limit: it goes to the DLQ and "second" is next
    nxt = sqs.receive_message(QueueUrl=src, VisibilityTimeout=30, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in nxt] == ["second"]
    moved = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=2, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in moved] == ["first"]
    assert moved[0]["Attributes"]["MessageGroupId"] == "g"


def test_list_dead_letter_source_queues(sqs, make_queue, redrive):
    src1, dlq = redrive()
    src2, _ = redrive(dlq=dlq)
    make_queue("unrelated")
    got = sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]
    assert sorted(got) == sorted([src1, src2])
    # pagination: "You must set MaxResults to receive a value for NextToken"
    page1 = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1)
    assert len(page1["queueUrls"]) == 1 and page1.get("NextToken")
    page2 = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1, NextToken=page1["NextToken"])
    assert sorted(page1["queueUrls"] + page2["queueUrls"]) == sorted([src1, src2])
    assert not page2.get("NextToken")
    # a queue that is nobody's DLQ has no sources
    assert sqs.list_dead_letter_source_queues(QueueUrl=src1)["queueUrls"] == []


def test_list_dead_letter_source_queues_of_missing_queue(sqs, endpoint):
    url = f"{endpoint}/000000000000/{h.new_name('missing')}"
    h.expect_sqs_error(lambda: sqs.list_dead_letter_source_queues(QueueUrl=url), "QueueDoesNotExist")


def test_removing_redrive_policy_removes_the_source(sqs, redrive):
    src, dlq = redrive()
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": ""})
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == []


# --------------------------------------------------------------------------
# message move tasks
# --------------------------------------------------------------------------

def wait_for_task(sqs, source_arn, status, timeout=20):
    def check():
        results = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=10).get("Results", [])
        return results[0] if results and results[0]["Status"] == status else None

    return h.wait_until(check, timeout=timeout, interval=0.2, message=f"move task {status}")


def test_redrive_back_to_original_source(sqs, redrive, queue_arn):
    src, dlq = redrive(max_receive_count=1)
    bodies = [f"m{i}" for i in range(3)]
    for b in bodies:
        sqs.send_message(QueueUrl=src, MessageBody=b)
    drive_to_dlq(sqs, src, dlq, 3)
    dlq_arn = queue_arn(dlq)
    task = sqs.start_message_move_task(SourceArn=dlq_arn)
    assert task["TaskHandle"]
    done = wait_for_task(sqs, dlq_arn, "COMPLETED")
    # Shape recorded against AWS for a default-destination task
    assert done["SourceArn"] == dlq_arn
    assert "DestinationArn" not in done
    assert "MaxNumberOfMessagesPerSecond" not in done
    assert done["ApproximateNumberOfMessagesMoved"] == 3
    assert done["ApproximateNumberOfMessagesToMove"] == 3
    assert isinstance(done["StartedTimestamp"], int)
    assert abs(done["StartedTimestamp"] - int(time.time() * 1000)) < 60_000  # epoch milliseconds
    assert "TaskHandle" not in done  # only populated while RUNNING
    assert approx(sqs, dlq) == 0
    back = h.receive_all(sqs, src, expected=3)
    assert sorted(m["Body"] for m in back) == bodies


def test_redrive_to_multiple_original_sources(sqs, redrive, queue_arn):
    src1, dlq = redrive(max_receive_count=1)
    src2, _ = redrive(max_receive_count=1, dlq=dlq)
    sqs.send_message(QueueUrl=src1, MessageBody="from 1")
    sqs.send_message(QueueUrl=src2, MessageBody="from 2")
    drive_to_dlq(sqs, src1, dlq, 1)
    drive_to_dlq(sqs, src2, dlq, 2)
    dlq_arn = queue_arn(dlq)
    sqs.start_message_move_task(SourceArn=dlq_arn)
    done = wait_for_task(sqs, dlq_arn, "COMPLETED")
    assert done["ApproximateNumberOfMessagesMoved"] == 2
    assert [m["Body"] for m in h.receive_all(sqs, src1, expected=1)] == ["from 1"]
    assert [m["Body"] for m in h.receive_all(sqs, src2, expected=1)] == ["from 2"]


def test_redrive_to_a_chosen_destination(sqs, redrive, make_queue, queue_arn):
    src, dlq = redrive(max_receive_count=1)
    dest = make_queue("dest")
    for i in range(2):
        sqs.send_message(QueueUrl=src, MessageBody=f"d{i}",
                         MessageAttributes={"n": {"DataType": "Number", "StringValue": str(i)}})
    drive_to_dlq(sqs, src, dlq, 2)
    dlq_arn = queue_arn(dlq)
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=queue_arn(dest))
    done = wait_for_task(sqs, dlq_arn, "COMPLETED")
    assert done["DestinationArn"] == queue_arn(dest)
    assert done["ApproximateNumberOfMessagesMoved"] == 2
    moved = h.receive_all(sqs, dest, expected=2, MessageAttributeNames=["All"])
    assert sorted(m["Body"] for m in moved) == ["d0", "d1"]
    assert all(m["MessageAttributes"]["n"]["DataType"] == "Number" for m in moved)
    assert approx(sqs, src) == 0


def test_move_task_source_must_be_a_dlq(sqs, make_queue, queue_arn):
    # Recorded against AWS: InvalidParameterValue "Source queue must be configured as a Dead Letter Queue."
    plain = make_queue("plain")
    h.expect_client_error(lambda: sqs.start_message_move_task(SourceArn=queue_arn(plain)),
                          code="InvalidParameterValue", status=400)


def test_move_task_destination_must_exist(sqs, redrive, queue_arn):
    # Recorded against AWS: ResourceNotFoundException (HTTP 404)
    _, dlq = redrive()
    missing = f"arn:aws:sqs:us-east-1:000000000000:{h.new_name('missing')}"
    h.expect_client_error(lambda: sqs.start_message_move_task(SourceArn=queue_arn(dlq), DestinationArn=missing),
                          code="ResourceNotFoundException", status=404)


def test_move_task_source_must_exist(sqs):
    missing = f"arn:aws:sqs:us-east-1:000000000000:{h.new_name('missing')}"
    h.expect_client_error(lambda: sqs.start_message_move_task(SourceArn=missing),
                          code="ResourceNotFoundException", status=404)


def test_only_one_active_task_per_source(sqs, redrive, queue_arn):
    src, dlq = redrive(max_receive_count=1)
    for i in range(5):
        sqs.send_message(QueueUrl=src, MessageBody=f"m{i}")
    drive_to_dlq(sqs, src, dlq, 5)
    dlq_arn = queue_arn(dlq)
    sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=1)
    # Recorded against AWS: InvalidParameterValue "There is already a task running.
    # Only one active task is allowed for a source queue arn at a given time."
    h.expect_client_error(lambda: sqs.start_message_move_task(SourceArn=dlq_arn),
                          code="InvalidParameterValue", status=400)


def test_cancel_move_task(sqs, redrive, queue_arn):
    src, dlq = redrive(max_receive_count=1)
    for i in range(10):
        sqs.send_message(QueueUrl=src, MessageBody=f"m{i}")
    drive_to_dlq(sqs, src, dlq, 10)
    dlq_arn = queue_arn(dlq)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    running = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert len(running) == 1
    r = running[0]
    assert r["Status"] == "RUNNING"
    assert r["TaskHandle"] == handle
    assert r["MaxNumberOfMessagesPerSecond"] == 1
    assert r["ApproximateNumberOfMessagesToMove"] == 10
    cancelled = sqs.cancel_message_move_task(TaskHandle=handle)
    assert 0 <= cancelled["ApproximateNumberOfMessagesMoved"] < 10
    final = wait_for_task(sqs, dlq_arn, "CANCELLED")
    moved = final["ApproximateNumberOfMessagesMoved"]
    assert moved < 10
    time.sleep(1.5)
    # "Cancelling a message movement task does not revert the messages that
    # have already been moved. It can only stop the messages that have not been moved yet."
    assert approx(sqs, src) == moved
    assert approx(sqs, dlq) == 10 - moved
    # cancelling a finished task is refused
    h.expect_client_error(lambda: sqs.cancel_message_move_task(TaskHandle=handle), status=None)


def test_cancel_with_invalid_task_handle(sqs):
    # Recorded against AWS: InvalidParameterValue "Value for parameter TaskHandle is invalid."
    h.expect_client_error(lambda: sqs.cancel_message_move_task(TaskHandle="not-a-task-handle"),
                          code={"InvalidParameterValue", "ResourceNotFoundException"})


def test_list_message_move_tasks_history(sqs, redrive, queue_arn):
    src, dlq = redrive(max_receive_count=1)
    dlq_arn = queue_arn(dlq)
    assert sqs.list_message_move_tasks(SourceArn=dlq_arn).get("Results", []) == []
    for round_ in range(2):
        sqs.send_message(QueueUrl=src, MessageBody=f"r{round_}")
        drive_to_dlq(sqs, src, dlq, 1)
        sqs.start_message_move_task(SourceArn=dlq_arn)
        wait_for_task(sqs, dlq_arn, "COMPLETED")
        h.receive_all(sqs, src, expected=1)  # leaves them in flight
    # "The default is 1, which provides the most recent message movement task."
    assert len(sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]) == 1
    both = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert len(both) == 2
    assert both[0]["StartedTimestamp"] >= both[1]["StartedTimestamp"]  # most recent first
