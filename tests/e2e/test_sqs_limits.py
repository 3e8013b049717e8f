"""Quotas that need volume to reach.

Amazon SQS Developer Guide, "Amazon SQS message quotas": "For most standard queues
... there can be a maximum of approximately 120,000 in-flight messages ... If you
reach this quota, Amazon SQS returns the OverLimit error message." (API reference,
ReceiveMessage: OverLimit, HTTP 403.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

import nimbus_helpers as h

IN_FLIGHT_LIMIT = 120_000


@pytest.mark.slow
@pytest.mark.own_server
def test_in_flight_limit_gives_overlimit(nimbus_factory):
    srv = nimbus_factory(args=["--in-memory"])
    sqs = srv.client()
    url = sqs.create_queue(QueueName=h.new_name("inflight"), Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    batch = [{"Id": str(i), "MessageBody": "m"} for i in range(10)]

    def send(_):
        c = srv.client()
        for _ in range(IN_FLIGHT_LIMIT // 10 // 8 + 1):
            assert not c.send_message_batch(QueueUrl=url, Entries=batch).get("Failed")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(8)))

    def receive(_):
        c = srv.client()
        got = 0
        for _ in range(IN_FLIGHT_LIMIT // 10 // 8):
            got += len(c.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []))
        return got

    with ThreadPoolExecutor(8) as pool:
        received = sum(pool.map(receive, range(8)))
    assert received == IN_FLIGHT_LIMIT
    # Messages remain, but the queue has reached the in-flight quota.
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert int(attrs["ApproximateNumberOfMessagesNotVisible"]) == IN_FLIGHT_LIMIT
    assert int(attrs["ApproximateNumberOfMessages"]) > 0
    h.expect_client_error(lambda: sqs.receive_message(QueueUrl=url), code="OverLimit", shape="OverLimit", status=403)
