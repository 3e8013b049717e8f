"""The aws CLI against nimbus: the commands a user types from the docs."""

from __future__ import annotations

import json

import nimbus_helpers as h


def test_queue_lifecycle_with_the_cli(aws_cli, endpoint):
    name = h.new_name("cli")
    _, out, _ = aws_cli("sqs", "create-queue", "--queue-name", name,
                        "--attributes", "VisibilityTimeout=40,DelaySeconds=0",
                        "--tags", "team=core")
    url = out["QueueUrl"]
    assert url == f"{endpoint}/000000000000/{name}"
    _, out, _ = aws_cli("sqs", "get-queue-url", "--queue-name", name)
    assert out["QueueUrl"] == url
    _, out, _ = aws_cli("sqs", "list-queues", "--queue-name-prefix", name)
    assert out["QueueUrls"] == [url]
    _, out, _ = aws_cli("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "All")
    attrs = out["Attributes"]
    assert attrs["VisibilityTimeout"] == "40"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    aws_cli("sqs", "set-queue-attributes", "--queue-url", url, "--attributes", "VisibilityTimeout=5")
    _, out, _ = aws_cli("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "VisibilityTimeout")
    assert out["Attributes"] == {"VisibilityTimeout": "5"}
    _, out, _ = aws_cli("sqs", "list-queue-tags", "--queue-url", url)
    assert out["Tags"] == {"team": "core"}
    aws_cli("sqs", "delete-queue", "--queue-url", url)
    rc, _, err = aws_cli("sqs", "get-queue-url", "--queue-name", name, check=False)
    assert rc != 0
    assert "AWS.SimpleQueueService.NonExistentQueue" in err or "QueueDoesNotExist" in err


def test_send_receive_delete_with_the_cli(aws_cli, sqs):
    url = sqs.create_queue(QueueName=h.new_name("clim"))["QueueUrl"]
    attrs = {"color": {"DataType": "String", "StringValue": "blue"},
             "size": {"DataType": "Number", "StringValue": "3"}}
    _, sent, _ = aws_cli("sqs", "send-message", "--queue-url", url, "--message-body", "hello from the cli",
                         "--message-attributes", json.dumps(attrs))
    assert sent["MD5OfMessageBody"] == h.md5_hex("hello from the cli")
    assert sent["MD5OfMessageAttributes"] == h.md5_of_attributes(attrs)
    _, got, _ = aws_cli("sqs", "receive-message", "--queue-url", url, "--attribute-names", "All",
                        "--message-attribute-names", "All", "--wait-time-seconds", "2",
                        "--max-number-of-messages", "10")
    [m] = got["Messages"]
    assert m["MessageId"] == sent["MessageId"]
    assert m["Body"] == "hello from the cli"
    assert m["MessageAttributes"] == attrs
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    aws_cli("sqs", "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


def test_batches_and_purge_with_the_cli(aws_cli, sqs):
    url = sqs.create_queue(QueueName=h.new_name("clib"))["QueueUrl"]
    entries = [{"Id": f"m{i}", "MessageBody": f"batch {i}"} for i in range(3)]
    _, out, _ = aws_cli("sqs", "send-message-batch", "--queue-url", url, "--entries", json.dumps(entries))
    assert sorted(e["Id"] for e in out["Successful"]) == ["m0", "m1", "m2"]
    _, out, _ = aws_cli("sqs", "get-queue-attributes", "--queue-url", url,
                        "--attribute-names", "ApproximateNumberOfMessages")
    assert out["Attributes"] == {"ApproximateNumberOfMessages": "3"}
    aws_cli("sqs", "purge-queue", "--queue-url", url)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def test_fifo_with_the_cli(aws_cli, sqs):
    name = h.new_name("clififo", fifo=True)
    _, out, _ = aws_cli("sqs", "create-queue", "--queue-name", name,
                        "--attributes", "FifoQueue=true,ContentBasedDeduplication=true")
    url = out["QueueUrl"]
    seqs = []
    for body in ("one", "two", "one"):
        _, sent, _ = aws_cli("sqs", "send-message", "--queue-url", url, "--message-body", body,
                             "--message-group-id", "g")
        seqs.append(sent.get("SequenceNumber"))
    assert seqs[0] and int(seqs[0]) < int(seqs[1])
    _, got, _ = aws_cli("sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "10",
                        "--wait-time-seconds", "1", "--attribute-names", "All")
    first = got["Messages"][0]
    assert first["Body"] == "one" and first["Attributes"]["MessageGroupId"] == "g"
    bodies = [m["Body"] for m in got["Messages"]]
    for m in got["Messages"]:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    bodies += [m["Body"] for m in h.receive_all(sqs, url)]
    assert bodies == ["one", "two"]  # the second "one" was a content-based duplicate


def test_cli_errors_carry_aws_codes(aws_cli, sqs):
    url = sqs.create_queue(QueueName=h.new_name("clierr"))["QueueUrl"]
    rc, _, err = aws_cli("sqs", "set-queue-attributes", "--queue-url", url, "--attributes",
                         "VisibilityTimeout=99999", check=False)
    assert rc != 0 and "InvalidAttributeValue" in err
    rc, _, err = aws_cli("sqs", "delete-message", "--queue-url", url, "--receipt-handle", "nope", check=False)
    assert rc != 0 and "ReceiptHandleIsInvalid" in err
