"""Durability: acknowledged writes survive `kill -9` (default durability) and
`--durability strict`; queues, attributes and messages survive a clean
restart; `--in-memory` keeps nothing.

Each test starts its own servers on its own data directory."""

from __future__ import annotations

import itertools
import json
import signal
import threading
import time

import pytest

import nimbus_helpers as h

pytestmark = [pytest.mark.own_server]


def _hammer(srv, url, total, threads, kill_after, batch_threads=0):
    """Send from `threads` threads until `kill_after` messages were
    acknowledged, then kill -9 the server mid-stream.  Returns {MessageId: body}
    of every acknowledged message."""
    acked = {}
    lock = threading.Lock()
    counter = itertools.count()
    errors = []

    def single(_):
        c = h.make_client(srv.endpoint, read_timeout=10, connect_timeout=2)
        while True:
            n = next(counter)
            if n >= total:
                return
            body = f"durable-{n}-" + "x" * (n % 50)
            try:
                r = c.send_message(QueueUrl=url, MessageBody=body)
            except Exception as exc:  # the server went away: stop
                errors.append(exc)
                return
            assert r["MD5OfMessageBody"] == h.md5_hex(body)
            with lock:
                acked[r["MessageId"]] = body

    def batched(_):
        c = h.make_client(srv.endpoint, read_timeout=10, connect_timeout=2)
        while True:
            ns = [next(counter) for _ in range(10)]
            ns = [n for n in ns if n < total]
            if not ns:
                return
            entries = [{"Id": f"e{n}", "MessageBody": f"durable-{n}-batch"} for n in ns]
            try:
                r = c.send_message_batch(QueueUrl=url, Entries=entries)
            except Exception as exc:
                errors.append(exc)
                return
            bodies = {e["Id"]: e["MessageBody"] for e in entries}
            with lock:
                for ok in r.get("Successful", []):
                    acked[ok["MessageId"]] = bodies[ok["Id"]]

    workers = [threading.Thread(target=batched if i < batch_threads else single, args=(i,), daemon=True)
               for i in range(threads)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with lock:
            n = len(acked)
        if n >= kill_after or not any(w.is_alive() for w in workers):
            break
        time.sleep(0.005)
    still_sending = any(w.is_alive() for w in workers)
    srv.kill()
    for w in workers:
        w.join(30)
    with lock:
        return dict(acked), still_sending


def _drain(client, url, timeout=60):
    seen = {}
    empties = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and empties < 2:
        msgs = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600,
                                      WaitTimeSeconds=1).get("Messages", [])
        if not msgs:
            empties += 1
            continue
        empties = 0
        for m in msgs:
            seen[m["MessageId"]] = m["Body"]
    return seen


def _crash_and_audit(nimbus_factory, args, total, threads, kill_after, batch_threads):
    srv = nimbus_factory(args=args)
    c = srv.client()
    name = h.new_name("crash")
    url = c.create_queue(QueueName=name)["QueueUrl"]
    acked, still_sending = _hammer(srv, url, total, threads, kill_after, batch_threads)
    assert still_sending, "the server was not killed mid-stream (all sends finished first)"
    assert len(acked) >= kill_after
    srv2 = nimbus_factory(args=args, data_dir=srv.data_dir)
    c2 = srv2.client()
    url2 = c2.get_queue_url(QueueName=name)["QueueUrl"]
    visible = int(c2.get_queue_attributes(QueueUrl=url2, AttributeNames=["ApproximateNumberOfMessages"])
                  ["Attributes"]["ApproximateNumberOfMessages"])
    assert visible >= len(acked)
    received = _drain(c2, url2)
    missing = [mid for mid in acked if mid not in received]
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged messages lost after kill -9, e.g. {missing[:5]}"
    wrong = [mid for mid, body in acked.items() if received[mid] != body]
    assert not wrong, f"{len(wrong)} messages came back with another body"
    return srv2


@pytest.mark.slow
def test_acknowledged_sends_survive_kill_9(nimbus_factory):
    _crash_and_audit(nimbus_factory, [], total=2000, threads=8, kill_after=1000, batch_threads=2)


@pytest.mark.slow
def test_acknowledged_sends_survive_kill_9_strict(nimbus_factory):
    _crash_and_audit(nimbus_factory, ["--durability", "strict"], total=400, threads=4, kill_after=200,
                     batch_threads=1)


def test_acknowledged_deletes_survive_kill_9(nimbus_factory):
    srv = nimbus_factory()
    c = srv.client()
    name = h.new_name("deletes")
    url = c.create_queue(QueueName=name)["QueueUrl"]
    for start in range(0, 100, 10):
        c.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"}
                                                    for i in range(start, start + 10)])
    msgs = h.receive_all(c, url, expected=100, visibility=1)
    assert len(msgs) == 100
    deleted = msgs[:50]
    kept = {m["MessageId"] for m in msgs[50:]}
    for i in range(0, 50, 10):
        r = c.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(j), "ReceiptHandle": m["ReceiptHandle"]}
                                                          for j, m in enumerate(deleted[i:i + 10])])
        assert len(r["Successful"]) == 10
    time.sleep(1.2)  # the kept ones are visible again
    srv.kill()
    srv2 = nimbus_factory(data_dir=srv.data_dir)
    c2 = srv2.client()
    url2 = c2.get_queue_url(QueueName=name)["QueueUrl"]
    after = set(_drain(c2, url2))
    assert after == kept


def test_queues_and_messages_survive_a_clean_restart(nimbus_factory):
    srv = nimbus_factory()
    c = srv.client()
    dlq = c.create_queue(QueueName=h.new_name("dlq"))["QueueUrl"]
    dlq_arn = c.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = h.new_name("restart")
    attrs = {"VisibilityTimeout": "45", "DelaySeconds": "0", "MaximumMessageSize": "4096",
             "MessageRetentionPeriod": "7200", "ReceiveMessageWaitTimeSeconds": "1",
             "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})}
    url = c.create_queue(QueueName=name, Attributes=attrs, tags={"keep": "me"})["QueueUrl"]
    c.add_permission(QueueUrl=url, Label="p", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    before = c.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    mattrs = {"k": {"DataType": "String", "StringValue": "v"}, "b": {"DataType": "Binary", "BinaryValue": b"\x01"}}
    sent = c.send_message(QueueUrl=url, MessageBody="survivor", MessageAttributes=mattrs)
    first = c.receive_message(QueueUrl=url, VisibilityTimeout=1, AttributeNames=["All"])["Messages"][0]
    c.send_message(QueueUrl=url, MessageBody="delayed survivor", DelaySeconds=2)

    fifo_name = h.new_name("restart", fifo=True)
    fifo = c.create_queue(QueueName=fifo_name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    seq = [c.send_message(QueueUrl=fifo, MessageBody=f"f{i}", MessageGroupId="g",
                          MessageDeduplicationId=f"d{i}")["SequenceNumber"] for i in range(3)]
    # a second queue in another account and region
    other = h.make_client(srv.endpoint, region="eu-west-1", key="123456789012", secret="x")
    other_url = other.create_queue(QueueName=name)["QueueUrl"]
    other.send_message(QueueUrl=other_url, MessageBody="elsewhere")

    assert any(srv.data_dir.iterdir()), "nothing was written to the data directory"
    assert srv.stop(signal.SIGTERM) == 0
    srv2 = nimbus_factory(data_dir=srv.data_dir)
    c = srv2.client()
    url = c.get_queue_url(QueueName=name)["QueueUrl"]
    after = c.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    for key in ("VisibilityTimeout", "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod",
                "ReceiveMessageWaitTimeSeconds", "QueueArn", "CreatedTimestamp", "LastModifiedTimestamp"):
        assert after[key] == before[key], key
    assert json.loads(after["RedrivePolicy"]) == json.loads(before["RedrivePolicy"])
    assert json.loads(after["Policy"]) == json.loads(before["Policy"])
    assert c.list_queue_tags(QueueUrl=url)["Tags"] == {"keep": "me"}
    assert url in c.list_dead_letter_source_queues(QueueUrl=c.get_queue_url(QueueName=dlq.rsplit("/", 1)[1])
                                                   ["QueueUrl"])["queueUrls"]
    time.sleep(2.1)
    msgs = {m["Body"]: m for m in h.receive_all(c, url, expected=2, MessageAttributeNames=["All"],
                                                   AttributeNames=["All"])}
    assert set(msgs) == {"survivor", "delayed survivor"}
    m = msgs["survivor"]
    assert m["MessageId"] == sent["MessageId"]
    assert m["MessageAttributes"] == mattrs
    assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert m["Attributes"]["SentTimestamp"] == first["Attributes"]["SentTimestamp"]
    assert m["Attributes"]["ApproximateFirstReceiveTimestamp"] == first["Attributes"]["ApproximateFirstReceiveTimestamp"]
    assert m["Attributes"]["ApproximateReceiveCount"] == "2"

    fifo = c.get_queue_url(QueueName=fifo_name)["QueueUrl"]
    # deduplication and sequence numbers carry on across the restart
    dup = c.send_message(QueueUrl=fifo, MessageBody="f0 again", MessageGroupId="g", MessageDeduplicationId="d0")
    assert dup["MessageId"]
    later = c.send_message(QueueUrl=fifo, MessageBody="f3", MessageGroupId="g", MessageDeduplicationId="d3")
    assert int(later["SequenceNumber"]) > max(int(s) for s in seq)
    bodies = []
    for _ in range(10):
        got = c.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for x in got:
            bodies.append(x["Body"])
            c.delete_message(QueueUrl=fifo, ReceiptHandle=x["ReceiptHandle"])
        if len(bodies) >= 4:
            break
    assert bodies == ["f0", "f1", "f2", "f3"]

    other = h.make_client(srv2.endpoint, region="eu-west-1", key="123456789012", secret="x")
    other_url = other.get_queue_url(QueueName=name)["QueueUrl"]
    assert "/123456789012/" in other_url
    assert [x["Body"] for x in other.receive_message(QueueUrl=other_url, WaitTimeSeconds=1)["Messages"]] == [
        "elsewhere"]


def test_deleted_queue_stays_deleted_after_restart(nimbus_factory):
    srv = nimbus_factory()
    c = srv.client()
    name = h.new_name("gone")
    url = c.create_queue(QueueName=name)["QueueUrl"]
    c.send_message(QueueUrl=url, MessageBody="x")
    c.delete_queue(QueueUrl=url)
    srv.kill()
    srv2 = nimbus_factory(data_dir=srv.data_dir)
    h.expect_sqs_error(lambda: srv2.client().get_queue_url(QueueName=name), "QueueDoesNotExist")


def test_in_memory_keeps_nothing(nimbus_factory, tmp_path):
    data_dir = tmp_path / "should-stay-empty"
    srv = nimbus_factory(args=["--in-memory"], data_dir=data_dir)
    c = srv.client()
    name = h.new_name("mem")
    url = c.create_queue(QueueName=name)["QueueUrl"]
    c.send_message(QueueUrl=url, MessageBody="ephemeral")
    assert c.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"] == "ephemeral"
    assert srv.stop(signal.SIGTERM) == 0
    assert not data_dir.exists() or not any(data_dir.rglob("*")), list(data_dir.rglob("*"))
    srv2 = nimbus_factory(args=["--in-memory"], data_dir=data_dir)
    h.expect_sqs_error(lambda: srv2.client().get_queue_url(QueueName=name), "QueueDoesNotExist")
    assert srv2.client().list_queues().get("QueueUrls", []) == []
