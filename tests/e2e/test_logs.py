"""CloudWatch Logs against nimbus, written from AWS's CloudWatch Logs API reference:
log groups and streams, retention, tags, PutLogEvents' batch rules and rejections,
GetLogEvents' forward/backward tokens, FilterLogEvents' patterns and pagination, the
aws CLI, durability across kill -9, and the `nimbus logs` command."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid

import pytest

import nimbus_helpers as h

HOUR = 3_600_000
DAY = 24 * HOUR
RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                  2922, 3288, 3653]
TARGET = "Logs_20140328"


def now_ms():
    return int(time.time() * 1000)


def unique(prefix="/nimbus-test/g"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def logs(endpoint):
    return h.make_client(endpoint, service="logs")


@pytest.fixture
def group(logs):
    name = unique()
    logs.create_log_group(logGroupName=name)
    return name


@pytest.fixture
def stream(logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    return group, "s1"


def put(logs, group, stream, messages, start=None, step=1):
    t0 = now_ms() - 60_000 if start is None else start
    events = [{"timestamp": t0 + i * step, "message": m} for i, m in enumerate(messages)]
    return logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def expect_logs_error(call, code, message=None):
    exc = h.expect_client_error(call, code=code, status=400)
    if message is not None:
        assert exc.response["Error"]["Message"] == message, exc.response["Error"]
    return exc


# --------------------------------------------------------------------------
# log groups
# --------------------------------------------------------------------------

def test_create_and_describe_log_group(logs, account):
    name = unique()
    before = now_ms()
    logs.create_log_group(logGroupName=name)
    [g] = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert g["logGroupName"] == name
    assert before - 1000 <= g["creationTime"] <= now_ms() + 1000
    assert g["arn"] == f"arn:aws:logs:{h.REGION}:{account}:log-group:{name}:*"
    assert g["logGroupArn"] == f"arn:aws:logs:{h.REGION}:{account}:log-group:{name}"
    assert g["storedBytes"] == 0
    assert "retentionInDays" not in g  # never expire unless a policy is set


def test_create_existing_group_fails(logs, group):
    expect_logs_error(lambda: logs.create_log_group(logGroupName=group), "ResourceAlreadyExistsException",
                      "The specified log group already exists")


@pytest.mark.parametrize("bad", ["has space", "colon:name", "star*", "x" * 513])
def test_invalid_group_names(logs, bad):
    expect_logs_error(lambda: logs.create_log_group(logGroupName=bad), "InvalidParameterException")


def test_delete_log_group(logs, group):
    logs.delete_log_group(logGroupName=group)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    expect_logs_error(lambda: logs.delete_log_group(logGroupName=group), "ResourceNotFoundException",
                      "The specified log group does not exist.")


def test_describe_log_groups_prefix_pattern_and_pages(logs):
    base = unique("/nimbus-page/app")
    names = sorted(f"{base}/{c}" for c in "edcba")
    for n in names:
        logs.create_log_group(logGroupName=n)
    logs.create_log_group(logGroupName=f"{base}-other")

    seen, token, pages = [], None, 0
    while True:
        kw = {"logGroupNamePrefix": f"{base}/", "limit": 2}
        if token:
            kw["nextToken"] = token
        out = logs.describe_log_groups(**kw)
        pages += 1
        assert len(out["logGroups"]) <= 2
        seen += [g["logGroupName"] for g in out["logGroups"]]
        token = out.get("nextToken")
        if not token:
            break
    assert seen == names  # alphabetical, each once
    assert pages == 3

    paginated = [g["logGroupName"] for page in logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=base, PaginationConfig={"PageSize": 4}) for g in page["logGroups"]]
    assert paginated == sorted(names + [f"{base}-other"])

    # logGroupNamePattern: a case-insensitive substring match
    token_part = base.rsplit("-", 1)[-1].upper()
    found = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePattern=token_part)["logGroups"]]
    assert sorted(found) == sorted(names + [f"{base}-other"])
    # logGroupIdentifiers: names or ARNs
    arn = logs.describe_log_groups(logGroupNamePrefix=names[1])["logGroups"][0]["logGroupArn"]
    picked = logs.describe_log_groups(logGroupIdentifiers=[names[0], arn])["logGroups"]
    assert [g["logGroupName"] for g in picked] == names[:2]
    expect_logs_error(lambda: logs.describe_log_groups(logGroupNamePrefix=base, logGroupNamePattern="x"),
                      "InvalidParameterException")
    expect_logs_error(lambda: logs.describe_log_groups(limit=51), "InvalidParameterException")


def test_retention_policy(logs, group):
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    [g] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert g["retentionInDays"] == 7
    for days in (2, 0, 4000):
        expect_logs_error(lambda: logs.put_retention_policy(logGroupName=group, retentionInDays=days),
                          "InvalidParameterException")
    logs.delete_retention_policy(logGroupName=group)
    [g] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert "retentionInDays" not in g
    missing = unique()
    expect_logs_error(lambda: logs.put_retention_policy(logGroupName=missing, retentionInDays=1),
                      "ResourceNotFoundException", "The specified log group does not exist.")
    expect_logs_error(lambda: logs.delete_retention_policy(logGroupName=missing), "ResourceNotFoundException")


def test_every_documented_retention_value_is_accepted(logs, group):
    for days in RETENTION_DAYS:
        logs.put_retention_policy(logGroupName=group, retentionInDays=days)
    [g] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert g["retentionInDays"] == RETENTION_DAYS[-1]


def test_retention_removes_older_events(logs, stream):
    group, s = stream
    now = now_ms()
    # two batches: one batch may not span more than 24 hours
    logs.put_log_events(logGroupName=group, logStreamName=s,
                        logEvents=[{"timestamp": now - 3 * DAY, "message": "three days old"}])
    logs.put_log_events(logGroupName=group, logStreamName=s,
                        logEvents=[{"timestamp": now - 1000, "message": "fresh"}])
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    h.wait_until(lambda: [e["message"] for e in logs.get_log_events(
        logGroupName=group, logStreamName=s, startFromHead=True)["events"]] == ["fresh"],
        timeout=90, interval=1, message="the sweeper to drop events past retention")


def test_deletion_protection(logs, group):
    name = unique()
    logs.create_log_group(logGroupName=name, deletionProtectionEnabled=True)
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    [g] = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert g["deletionProtectionEnabled"] is True
    expect_logs_error(lambda: logs.delete_log_group(logGroupName=name), "ValidationException",
                      "Cannot delete log group with deletion protection enabled. Disable deletion protection first.")
    # "deletion protection blocks all deletion operations until it is explicitly disabled"
    expect_logs_error(lambda: logs.delete_log_stream(logGroupName=name, logStreamName="s"), "ValidationException")
    logs.put_log_group_deletion_protection(logGroupIdentifier=name, deletionProtectionEnabled=False)
    logs.delete_log_group(logGroupName=name)
    # and on an existing group
    logs.put_log_group_deletion_protection(logGroupIdentifier=group, deletionProtectionEnabled=True)
    expect_logs_error(lambda: logs.delete_log_group(logGroupName=group), "ValidationException")


# --------------------------------------------------------------------------
# tags
# --------------------------------------------------------------------------

def test_tags(logs, account):
    name = unique()
    logs.create_log_group(logGroupName=name, tags={"team": "core", "env": "dev"})
    arn = f"arn:aws:logs:{h.REGION}:{account}:log-group:{name}"
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "core", "env": "dev"}
    logs.tag_resource(resourceArn=arn, tags={"env": "prod", "owner": "me"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "core", "env": "prod", "owner": "me"}
    logs.untag_resource(resourceArn=arn, tagKeys=["team", "not-there"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "prod", "owner": "me"}
    missing = f"arn:aws:logs:{h.REGION}:{account}:log-group:{unique()}"
    expect_logs_error(lambda: logs.list_tags_for_resource(resourceArn=missing), "ResourceNotFoundException")
    expect_logs_error(lambda: logs.tag_resource(resourceArn=missing, tags={"a": "b"}), "ResourceNotFoundException")


# --------------------------------------------------------------------------
# log streams
# --------------------------------------------------------------------------

def test_create_describe_delete_streams(logs, group, account):
    before = now_ms()
    logs.create_log_stream(logGroupName=group, logStreamName="2026/01/01/[$LATEST]abc")
    logs.create_log_stream(logGroupName=group, logStreamName="other")
    out = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in out] == ["2026/01/01/[$LATEST]abc", "other"]
    first = out[0]
    assert first["arn"] == f"arn:aws:logs:{h.REGION}:{account}:log-group:{group}:log-stream:2026/01/01/[$LATEST]abc"
    assert first["creationTime"] >= before - 1000
    assert "lastEventTimestamp" not in first and "firstEventTimestamp" not in first
    expect_logs_error(lambda: logs.create_log_stream(logGroupName=group, logStreamName="other"),
                      "ResourceAlreadyExistsException", "The specified log stream already exists")
    expect_logs_error(lambda: logs.create_log_stream(logGroupName=group, logStreamName="a:b"),
                      "InvalidParameterException")
    expect_logs_error(lambda: logs.create_log_stream(logGroupName=unique(), logStreamName="x"),
                      "ResourceNotFoundException", "The specified log group does not exist.")
    logs.delete_log_stream(logGroupName=group, logStreamName="other")
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]] == [
        "2026/01/01/[$LATEST]abc"]
    expect_logs_error(lambda: logs.delete_log_stream(logGroupName=group, logStreamName="other"),
                      "ResourceNotFoundException", "The specified log stream does not exist.")
    expect_logs_error(lambda: logs.describe_log_streams(logGroupName=unique()), "ResourceNotFoundException",
                      "The specified log group does not exist.")


def test_describe_streams_order_prefix_and_pages(logs, group, account):
    now = now_ms()
    # names in one order, last event times in another
    for name, age in [("a", 3000), ("b", 1000), ("c", 2000), ("d", None)]:
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        if age is not None:
            logs.put_log_events(logGroupName=group, logStreamName=name,
                                logEvents=[{"timestamp": now - age, "message": name}])
    names = lambda **kw: [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group, **kw)["logStreams"]]
    assert names() == ["a", "b", "c", "d"]
    assert names(descending=True) == ["d", "c", "b", "a"]
    assert names(orderBy="LastEventTime", descending=True)[:3] == ["b", "c", "a"]
    assert names(logStreamNamePrefix="c") == ["c"]
    expect_logs_error(lambda: logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                                        logStreamNamePrefix="a"), "InvalidParameterException")
    # by identifier (ARN) too
    arn = f"arn:aws:logs:{h.REGION}:{account}:log-group:{group}"
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupIdentifier=arn)["logStreams"]] == names()
    # pages
    got, token = [], None
    while True:
        kw = {"limit": 3} | ({"nextToken": token} if token else {})
        out = logs.describe_log_streams(logGroupName=group, **kw)
        got += [s["logStreamName"] for s in out["logStreams"]]
        token = out.get("nextToken")
        if not token:
            break
    assert got == ["a", "b", "c", "d"]
    a = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="a")["logStreams"][0]
    assert a["firstEventTimestamp"] == a["lastEventTimestamp"] == now - 3000
    assert a["lastIngestionTime"] >= now - 5000


# --------------------------------------------------------------------------
# PutLogEvents
# --------------------------------------------------------------------------

def test_put_log_events_returns_a_token_and_ignores_the_one_sent(logs, stream):
    group, s = stream
    out = put(logs, group, s, ["one", "two"])
    assert out["nextSequenceToken"]
    assert "rejectedLogEventsInfo" not in out
    # "The sequence token is now ignored": a wrong one is accepted
    out = logs.put_log_events(logGroupName=group, logStreamName=s, sequenceToken="49590302012345678901",
                              logEvents=[{"timestamp": now_ms(), "message": "three"}])
    assert out["nextSequenceToken"]
    msgs = [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=s, startFromHead=True)["events"]]
    assert msgs == ["one", "two", "three"]
    [info] = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert info["uploadSequenceToken"]


def test_put_to_missing_group_or_stream(logs, group):
    ev = [{"timestamp": now_ms(), "message": "x"}]
    expect_logs_error(lambda: logs.put_log_events(logGroupName=group, logStreamName="nope", logEvents=ev),
                      "ResourceNotFoundException", "The specified log stream does not exist.")
    expect_logs_error(lambda: logs.put_log_events(logGroupName=unique(), logStreamName="nope", logEvents=ev),
                      "ResourceNotFoundException", "The specified log group does not exist.")


def test_batch_must_be_chronological_and_valid_events_within_24_hours(logs, stream):
    group, s = stream
    now = now_ms()
    expect_logs_error(lambda: logs.put_log_events(logGroupName=group, logStreamName=s, logEvents=[
        {"timestamp": now, "message": "later"}, {"timestamp": now - 1000, "message": "earlier"}]),
        "InvalidParameterException")
    expect_logs_error(lambda: logs.put_log_events(logGroupName=group, logStreamName=s, logEvents=[
        {"timestamp": now - DAY - 60_000, "message": "a"}, {"timestamp": now, "message": "b"}]),
        "InvalidParameterException")
    assert logs.get_log_events(logGroupName=group, logStreamName=s)["events"] == []
    # "For valid events (within 14 days in the past to 2 hours in future), the time span
    # in a single batch cannot exceed 24 hours": rejected events do not count.
    out = logs.put_log_events(logGroupName=group, logStreamName=s, logEvents=[
        {"timestamp": now - 20 * DAY, "message": "too old"}, {"timestamp": now, "message": "b"}])
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}


def test_batch_size_limit_counts_26_bytes_per_event(logs, stream):
    group, s = stream
    now = now_ms()
    # 1,048,576 bytes = sum(len(message) + 26): exactly at the limit is accepted ...
    n = 8
    size = 1_048_576 // n - 26
    at_limit = [{"timestamp": now, "message": "x" * size} for _ in range(n)]
    assert sum(len(e["message"]) + 26 for e in at_limit) == 1_048_576
    logs.put_log_events(logGroupName=group, logStreamName=s, logEvents=at_limit)
    # ... one byte more is not
    over = at_limit[:-1] + [{"timestamp": now, "message": "x" * (size + 1)}]
    expect_logs_error(lambda: logs.put_log_events(logGroupName=group, logStreamName=s, logEvents=over),
                      "InvalidParameterException")


def test_at_most_10000_events(logs, stream):
    group, s = stream
    now = now_ms()
    events = [{"timestamp": now, "message": "e"} for _ in range(10_001)]
    expect_logs_error(lambda: logs.put_log_events(logGroupName=group, logStreamName=s, logEvents=events),
                      "InvalidParameterException")
    logs.put_log_events(logGroupName=group, logStreamName=s, logEvents=events[:10_000])
    [info] = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert info["lastEventTimestamp"] == now


def test_too_old_and_too_new_events_are_rejected_the_rest_kept(logs, stream):
    group, s = stream
    now = now_ms()
    out = logs.put_log_events(logGroupName=group, logStreamName=s, logEvents=[
        {"timestamp": now - 15 * DAY, "message": "too old 0"},
        {"timestamp": now - 14 * DAY - HOUR, "message": "too old 1"},
        {"timestamp": now - 1000, "message": "ok 2"},
        {"timestamp": now, "message": "ok 3"},
        {"timestamp": now + 3 * HOUR, "message": "too new 4"},
    ])
    info = out["rejectedLogEventsInfo"]
    assert info["tooOldLogEventEndIndex"] == 2  # exclusive
    assert info["tooNewLogEventStartIndex"] == 4  # inclusive
    msgs = [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=s, startFromHead=True)["events"]]
    assert msgs == ["ok 2", "ok 3"]


def test_events_before_retention_are_expired(logs, stream):
    group, s = stream
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    now = now_ms()
    out = logs.put_log_events(logGroupName=group, logStreamName=s, logEvents=[
        {"timestamp": now - 2 * DAY, "message": "expired"},
        {"timestamp": now, "message": "kept"},
    ])
    assert out["rejectedLogEventsInfo"]["expiredLogEventEndIndex"] == 1
    msgs = [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=s)["events"]]
    assert msgs == ["kept"]


def test_stored_bytes_grow(logs, stream):
    group, s = stream
    put(logs, group, s, ["x" * 100])
    [g] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert g["storedBytes"] > 0


# --------------------------------------------------------------------------
# GetLogEvents
# --------------------------------------------------------------------------

def test_get_log_events_tail_head_and_time_window(logs, stream):
    group, s = stream
    t0 = now_ms() - 60_000
    put(logs, group, s, [f"m{i}" for i in range(10)], start=t0, step=1000)
    get = lambda **kw: [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=s, **kw)["events"]]
    assert get() == [f"m{i}" for i in range(10)]
    # without a token: the newest events (still oldest first) unless startFromHead
    assert get(limit=3) == ["m7", "m8", "m9"]
    assert get(limit=3, startFromHead=True) == ["m0", "m1", "m2"]
    # startTime inclusive, endTime exclusive
    assert get(startTime=t0 + 2000, endTime=t0 + 5000, startFromHead=True) == ["m2", "m3", "m4"]
    e = logs.get_log_events(logGroupName=group, logStreamName=s, limit=1)["events"][0]
    assert set(e) == {"timestamp", "message", "ingestionTime"}
    assert e["timestamp"] == t0 + 9000


def test_get_log_events_forward_tokens_end_with_the_same_token(logs, stream):
    group, s = stream
    put(logs, group, s, [f"m{i}" for i in range(7)])
    seen, token, calls = [], None, 0
    while True:
        kw = {"nextToken": token} if token else {}
        out = logs.get_log_events(logGroupName=group, logStreamName=s, startFromHead=True, limit=3, **kw)
        calls += 1
        seen += [e["message"] for e in out["events"]]
        assert out["nextBackwardToken"]  # never null
        if out["nextForwardToken"] == token:
            assert out["events"] == []
            break
        token = out["nextForwardToken"]
        assert calls < 10
    assert seen == [f"m{i}" for i in range(7)]
    # a later event is found with the token that ended the stream
    put(logs, group, s, ["late"], start=now_ms())
    out = logs.get_log_events(logGroupName=group, logStreamName=s, nextToken=token)
    assert [e["message"] for e in out["events"]] == ["late"]


def test_get_log_events_backward_tokens(logs, stream):
    group, s = stream
    put(logs, group, s, [f"m{i}" for i in range(7)])
    out = logs.get_log_events(logGroupName=group, logStreamName=s, limit=3)
    pages = [[e["message"] for e in out["events"]]]
    token = out["nextBackwardToken"]
    while True:
        out = logs.get_log_events(logGroupName=group, logStreamName=s, limit=3, nextToken=token)
        if out["nextBackwardToken"] == token:
            assert out["events"] == []
            break
        pages.append([e["message"] for e in out["events"]])
        token = out["nextBackwardToken"]
    assert pages == [["m4", "m5", "m6"], ["m1", "m2", "m3"], ["m0"]]


def test_get_log_events_pages_hold_at_most_1_mb(logs, stream):
    # "If you don't specify a value, the maximum is as many log events as can fit in a
    # response size of 1 MB (up to 10,000 log events)."
    group, s = stream
    now = now_ms()
    size = 1_048_576 // 8 - 26
    for batch in range(2):
        logs.put_log_events(logGroupName=group, logStreamName=s, logEvents=[
            {"timestamp": now - 10_000 + batch * 100 + i, "message": f"{batch}-{i}-" + "x" * (size - 4)}
            for i in range(8)])
    out = logs.get_log_events(logGroupName=group, logStreamName=s, startFromHead=True)
    first = out["events"]
    assert 0 < len(first) < 16
    assert sum(len(e["message"]) + 26 for e in first) <= 1_048_576
    total = len(first)
    token = out["nextForwardToken"]
    while True:
        out = logs.get_log_events(logGroupName=group, logStreamName=s, startFromHead=True, nextToken=token)
        if out["nextForwardToken"] == token:
            break
        total += len(out["events"])
        token = out["nextForwardToken"]
    assert total == 16


def test_get_log_events_errors(logs, stream):
    group, s = stream
    expect_logs_error(lambda: logs.get_log_events(logGroupName=group, logStreamName="missing"),
                      "ResourceNotFoundException", "The specified log stream does not exist.")
    expect_logs_error(lambda: logs.get_log_events(logGroupName=unique(), logStreamName=s),
                      "ResourceNotFoundException", "The specified log group does not exist.")
    expect_logs_error(lambda: logs.get_log_events(logGroupName=group, logStreamName=s, nextToken="not-a-token"),
                      "InvalidParameterException")
    expect_logs_error(lambda: logs.get_log_events(logGroupName=group, logStreamName=s, limit=10_001),
                      "InvalidParameterException")


# --------------------------------------------------------------------------
# FilterLogEvents
# --------------------------------------------------------------------------

@pytest.fixture
def filled(logs, group):
    t0 = now_ms() - 60_000
    rows = {
        "web-1": [(0, "INFO started"), (4, "ERROR disk full on /dev/sda"), (8, '{"level":"ERROR","latency":250}')],
        "web-2": [(1, "WARN low memory"), (5, "ERROR Exiting now"), (9, '{"level":"INFO","latency":12}')],
        "worker": [(2, "DEBUG tick"), (6, "INFO job done")],
    }
    for stream_name, events in rows.items():
        logs.create_log_stream(logGroupName=group, logStreamName=stream_name)
        logs.put_log_events(logGroupName=group, logStreamName=stream_name,
                            logEvents=[{"timestamp": t0 + i * 1000, "message": m} for i, m in events])
    return group, t0


def filter_msgs(logs, group, **kw):
    return [e["message"] for e in logs.filter_log_events(logGroupName=group, **kw)["events"]]


def test_filter_interleaves_streams_by_time(logs, filled):
    group, t0 = filled
    out = logs.filter_log_events(logGroupName=group)
    assert [e["timestamp"] - t0 for e in out["events"]] == [0, 1000, 2000, 4000, 5000, 6000, 8000, 9000]
    e = out["events"][0]
    assert e["logStreamName"] == "web-1" and e["message"] == "INFO started"
    assert e["eventId"] and e["ingestionTime"] >= e["timestamp"]
    assert len({x["eventId"] for x in out["events"]}) == 8
    # "As of May 15, 2020, this parameter is no longer supported. This parameter returns an empty list."
    assert out["searchedLogStreams"] == []
    assert "nextToken" not in out


def test_filter_patterns(logs, filled):
    group, _ = filled
    assert filter_msgs(logs, group, filterPattern="ERROR") == [
        "ERROR disk full on /dev/sda", "ERROR Exiting now", '{"level":"ERROR","latency":250}']
    assert filter_msgs(logs, group, filterPattern="ERROR disk") == ["ERROR disk full on /dev/sda"]
    assert filter_msgs(logs, group, filterPattern='"disk full"') == ["ERROR disk full on /dev/sda"]
    assert filter_msgs(logs, group, filterPattern='"full disk"') == []
    assert filter_msgs(logs, group, filterPattern="?WARN ?DEBUG") == ["WARN low memory", "DEBUG tick"]
    assert filter_msgs(logs, group, filterPattern="ERROR -Exiting") == [
        "ERROR disk full on /dev/sda", '{"level":"ERROR","latency":250}']
    assert filter_msgs(logs, group, filterPattern="error") == []  # case-sensitive
    assert filter_msgs(logs, group, filterPattern='{ $.level = "ERROR" }') == ['{"level":"ERROR","latency":250}']
    assert filter_msgs(logs, group, filterPattern="{ $.latency < 100 }") == ['{"level":"INFO","latency":12}']
    assert filter_msgs(logs, group, filterPattern='{ $.level = "INFO" || $.latency > 200 }') == [
        '{"level":"ERROR","latency":250}', '{"level":"INFO","latency":12}']
    assert len(filter_msgs(logs, group, filterPattern="")) == 8


def test_filter_by_streams_and_time(logs, filled):
    group, t0 = filled
    assert filter_msgs(logs, group, logStreamNames=["worker"]) == ["DEBUG tick", "INFO job done"]
    assert filter_msgs(logs, group, logStreamNamePrefix="web-", filterPattern="INFO") == [
        "INFO started", '{"level":"INFO","latency":12}']
    assert filter_msgs(logs, group, startTime=t0 + 5000, endTime=t0 + 8000) == ["ERROR Exiting now", "INFO job done"]
    expect_logs_error(lambda: logs.filter_log_events(logGroupName=group, logStreamNames=["web-1"],
                                                     logStreamNamePrefix="web"), "InvalidParameterException")
    expect_logs_error(lambda: logs.filter_log_events(logGroupName=unique()), "ResourceNotFoundException",
                      "The specified log group does not exist.")
    # "You must include either logGroupIdentifier or logGroupName, but not both."
    expect_logs_error(lambda: logs.filter_log_events(logGroupName=group, logGroupIdentifier=group),
                      "InvalidParameterException")
    expect_logs_error(lambda: logs.filter_log_events(), "InvalidParameterException")


def test_filter_pagination(logs, filled):
    group, _ = filled
    seen, token = [], None
    while True:
        kw = {"limit": 3} | ({"nextToken": token} if token else {})
        out = logs.filter_log_events(logGroupName=group, **kw)
        assert len(out["events"]) <= 3
        seen += [e["eventId"] for e in out["events"]]
        token = out.get("nextToken")
        if not token:
            break
    full = [e["eventId"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    assert seen == full
    paginated = [e["eventId"] for page in logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, PaginationConfig={"PageSize": 2}) for e in page["events"]]
    assert paginated == full


# --------------------------------------------------------------------------
# the wire, the aws CLI, durability
# --------------------------------------------------------------------------

def test_awsjson_11_wire_format(endpoint):
    res = h.json_request(endpoint, None, {"logGroupName": unique()}, target=f"{TARGET}.DescribeLogStreams",
                         content_type="application/x-amz-json-1.1")
    assert res.status == 400, res
    assert res.headers["Content-Type"].startswith("application/x-amz-json-1.1")
    assert res.error_type == "ResourceNotFoundException"
    assert res.body["message"] == "The specified log group does not exist."
    res = h.json_request(endpoint, None, {}, target=f"{TARGET}.DescribeLogGroups",
                         content_type="application/x-amz-json-1.1")
    assert res.status == 200, res
    assert isinstance(res.body["logGroups"], list)
    res = h.json_request(endpoint, None, raw_body="{not json", target=f"{TARGET}.CreateLogGroup",
                         content_type="application/x-amz-json-1.1")
    assert res.status == 400, res


def test_aws_cli(aws_cli):
    group = unique("/nimbus-cli/g")
    aws_cli("logs", "create-log-group", "--log-group-name", group)
    aws_cli("logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "s")
    ts = now_ms()
    _, out, _ = aws_cli("logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "s",
                        "--log-events", f"timestamp={ts},message=hello-from-cli")
    assert out["nextSequenceToken"]
    _, out, _ = aws_cli("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "hello")
    assert [e["message"] for e in out["events"]] == ["hello-from-cli"]
    _, out, _ = aws_cli("logs", "describe-log-groups", "--log-group-name-prefix", group)
    assert [g["logGroupName"] for g in out["logGroups"]] == [group]
    rc, _, err = aws_cli("logs", "delete-log-group", "--log-group-name", unique(), check=False)
    assert rc != 0 and "ResourceNotFoundException" in err


@pytest.mark.own_server
def test_acknowledged_events_survive_kill_9(nimbus_factory):
    srv = nimbus_factory()
    c = h.make_client(srv.endpoint, service="logs")
    c.create_log_group(logGroupName="/durable")
    c.create_log_stream(logGroupName="/durable", logStreamName="s")
    now = now_ms()
    for i in range(20):
        c.put_log_events(logGroupName="/durable", logStreamName="s",
                         logEvents=[{"timestamp": now + i, "message": f"event {i}"}])
    srv.kill()
    srv2 = nimbus_factory(data_dir=srv.data_dir)
    c2 = h.make_client(srv2.endpoint, service="logs")
    msgs = [e["message"] for e in c2.get_log_events(logGroupName="/durable", logStreamName="s",
                                                     startFromHead=True)["events"]]
    assert msgs == [f"event {i}" for i in range(20)]
    [st] = c2.describe_log_streams(logGroupName="/durable")["logStreams"]
    assert st["lastEventTimestamp"] == now + 19


@pytest.mark.own_server
def test_in_memory_keeps_nothing(nimbus_factory):
    srv = nimbus_factory(args=["--in-memory"])
    h.make_client(srv.endpoint, service="logs").create_log_group(logGroupName="/mem")
    assert not (srv.data_dir / "logs.sqlite").exists()


# --------------------------------------------------------------------------
# `nimbus logs`
# --------------------------------------------------------------------------

def nimbus_logs(*args, env=None, timeout=20):
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.update(env or {})
    return subprocess.run([h.nimbus_bin(), "logs", *args], capture_output=True, text=True, timeout=timeout, env=e)


def test_nimbus_logs_shows_a_function_group(logs, endpoint):
    fn = f"fn-{uuid.uuid4().hex[:8]}"
    group = f"/aws/lambda/{fn}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2026/01/01/[$LATEST]x")
    now = now_ms()
    logs.put_log_events(logGroupName=group, logStreamName="2026/01/01/[$LATEST]x", logEvents=[
        {"timestamp": now - 2 * HOUR, "message": "too old for --since 1h"},
        {"timestamp": now - 1000, "message": "START RequestId: abc\n"},
        {"timestamp": now, "message": "hello world"},
    ])
    proc = nimbus_logs(fn, "--since", "1h", "--endpoint-url", endpoint)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2, proc.stdout
    assert lines[0].endswith(" START RequestId: abc")
    assert lines[1].endswith(" hello world")
    stamp = time.strftime("%Y-%m-%dT", time.gmtime(now / 1000))
    assert all(line.startswith(stamp) for line in lines), lines
    # a group by name, and the endpoint from $AWS_ENDPOINT_URL
    proc = nimbus_logs(group, "--since", "1h", env={"AWS_ENDPOINT_URL": endpoint})
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 2


def test_nimbus_logs_follow(logs, endpoint):
    group = unique("/nimbus-follow/g")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen([h.nimbus_bin(), "logs", group, "--follow", "--endpoint-url", endpoint],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        for i in range(3):
            logs.put_log_events(logGroupName=group, logStreamName="s",
                                logEvents=[{"timestamp": now_ms(), "message": f"followed {i}"}])
            time.sleep(0.5)
        h.wait_until(lambda: len(lines) >= 3, timeout=10, message="nimbus logs --follow to print 3 events")
        time.sleep(2.5)  # more polls must not repeat anything
        assert [line.split(" ", 1)[1].rstrip("\n") for line in lines] == [f"followed {i}" for i in range(3)]
    finally:
        proc.kill()
        proc.wait(5)


def test_nimbus_logs_errors(endpoint):
    proc = nimbus_logs(f"no-such-fn-{uuid.uuid4().hex[:6]}", "--endpoint-url", endpoint)
    assert proc.returncode != 0
    assert "does not exist" in proc.stderr
    port = h.free_port()
    proc = nimbus_logs("fn", "--endpoint-url", f"http://127.0.0.1:{port}")
    assert proc.returncode != 0
    assert "is `nimbus serve` running?" in proc.stderr.lower()


# --------------------------------------------------------------------------
# bad input is a 400, never a 5xx
# --------------------------------------------------------------------------

@pytest.mark.parametrize("operation,body", [
    ("PutLogEvents", {"logGroupName": "/g", "logStreamName": "s", "logEvents": "not a list"}),
    ("PutLogEvents", {"logGroupName": "/g", "logStreamName": "s", "logEvents": [{"timestamp": "x", "message": "m"}]}),
    ("FilterLogEvents", {"logGroupName": "/g", "filterPattern": "(" * 5000}),
    ("FilterLogEvents", {"logGroupName": "/g", "filterPattern": "{ " + "(" * 600 + "$.a = 1" + ")" * 600 + " }"}),
    ("GetLogEvents", {"logGroupName": "/g", "logStreamName": "s", "nextToken": "f/" + "9" * 56 + "/s"}),
    ("DescribeLogGroups", {"nextToken": "ff" * 30}),
    ("DescribeLogStreams", {}),
    ("CreateLogGroup", {"logGroupName": "é" * 10}),
])
def test_bad_input_is_a_client_error(endpoint, operation, body):
    res = h.json_request(endpoint, None, body, target=f"{TARGET}.{operation}",
                         content_type="application/x-amz-json-1.1")
    assert 400 <= res.status < 500, res
    assert res.error_type, res


def test_invalid_filter_patterns_are_rejected(logs, group):
    for bad in ['"unterminated', "{ $.a = }", "{ level = 1 }"]:
        expect_logs_error(lambda: logs.filter_log_events(logGroupName=group, filterPattern=bad),
                          "InvalidParameterException")
