"""Queue operations: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue,
PurgeQueue, Get/SetQueueAttributes, tags, Add/RemovePermission.

Reference: Amazon SQS API Reference (CreateQueue, SetQueueAttributes,
GetQueueAttributes, ...) as shipped in botocore's sqs/2012-11-05 model, and
the SQS Developer Guide (quotas)."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

import nimbus_helpers as h

DEFAULTS = {
    # CreateQueue: "If you don't provide a value for an attribute, the queue is
    # created with the default value for the attribute."
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",  # 1 MiB (the current default)
    "MessageRetentionPeriod": "345600",  # 4 days
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
}


def attrs_of(sqs, url, names=("All",)):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names)).get("Attributes", {})


# --------------------------------------------------------------------------
# CreateQueue
# --------------------------------------------------------------------------

def test_create_queue_returns_url_with_account_and_name(sqs, endpoint, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"{endpoint}/000000000000/{name}"


def test_new_queue_has_default_attributes(sqs, name):
    before = int(time.time())
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    after = int(time.time())
    attrs = attrs_of(sqs, url)
    for key, value in DEFAULTS.items():
        assert attrs[key] == value, key
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "0"
    # CreatedTimestamp / LastModifiedTimestamp: epoch *seconds*
    created = int(attrs["CreatedTimestamp"])
    assert before - 1 <= created <= after + 1
    assert before - 1 <= int(attrs["LastModifiedTimestamp"]) <= after + 1
    # attributes that only apply to other kinds of queue are absent
    for absent in ("FifoQueue", "ContentBasedDeduplication", "RedrivePolicy", "Policy"):
        assert absent not in attrs, absent


def test_create_queue_with_all_attributes(sqs, make_queue, queue_arn, name):
    dlq = make_queue("dlq")
    dlq_arn = queue_arn(dlq)
    policy = {
        "Version": "2012-10-17",
        "Id": "anything",
        "Statement": [
            {
                "Sid": "s1",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "sqs:SendMessage",
                "Resource": f"arn:aws:sqs:us-east-1:000000000000:{name}",
            }
        ],
    }
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 7}
    allow = {"redrivePermission": "byQueue", "sourceQueueArns": ["arn:aws:sqs:us-east-1:000000000000:src"]}
    given = {
        "DelaySeconds": "5",
        "MaximumMessageSize": "2048",
        "MessageRetentionPeriod": "86400",
        "ReceiveMessageWaitTimeSeconds": "2",
        "VisibilityTimeout": "45",
        "Policy": json.dumps(policy),
        "RedrivePolicy": json.dumps(redrive),
        "RedriveAllowPolicy": json.dumps(allow),
        "KmsMasterKeyId": "alias/aws/sqs",
        "KmsDataKeyReusePeriodSeconds": "600",
    }
    url = sqs.create_queue(QueueName=name, Attributes=given)["QueueUrl"]
    attrs = attrs_of(sqs, url)
    for key in ("DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod",
                "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "KmsMasterKeyId",
                "KmsDataKeyReusePeriodSeconds"):
        assert attrs[key] == given[key], key
    assert json.loads(attrs["Policy"]) == policy
    assert json.loads(attrs["RedrivePolicy"]) == redrive
    assert json.loads(attrs["RedriveAllowPolicy"]) == allow


def test_create_queue_with_sse_sqs(sqs, name):
    url = sqs.create_queue(QueueName=name, Attributes={"SqsManagedSseEnabled": "true"})["QueueUrl"]
    assert attrs_of(sqs, url, ["SqsManagedSseEnabled"]) == {"SqsManagedSseEnabled": "true"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "false"})
    assert attrs_of(sqs, url, ["SqsManagedSseEnabled"]) == {"SqsManagedSseEnabled": "false"}


def test_create_queue_is_idempotent_with_equal_attributes(sqs, name):
    attrs = {"VisibilityTimeout": "45", "DelaySeconds": "3"}
    first = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    second = sqs.create_queue(QueueName=name, Attributes=dict(attrs))["QueueUrl"]
    assert first == second
    plain = h.new_name("plain")
    assert sqs.create_queue(QueueName=plain)["QueueUrl"] == sqs.create_queue(QueueName=plain)["QueueUrl"]


def test_create_queue_with_different_attributes_is_queue_already_exists(sqs, name):
    sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "3"})
    exc = h.expect_sqs_error(
        lambda: sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "4"}), "QueueNameExists"
    )
    assert exc.response["Error"]["Code"] == "QueueAlreadyExists"
    # the exception class boto3 users catch
    with pytest.raises(sqs.exceptions.QueueNameExists):
        sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "5"})
    # nothing was changed
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    assert attrs_of(sqs, url, ["DelaySeconds"]) == {"DelaySeconds": "3"}


def test_create_queue_with_tags(sqs, name):
    url = sqs.create_queue(QueueName=name, tags={"team": "core", "env": "dev"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core", "env": "dev"}


@pytest.mark.parametrize(
    "bad",
    ["has space", "slash/name", "dots.in.name", "star*", "x" * 81, "ünïcode"],
    ids=["space", "slash", "dot", "star", "81chars", "unicode"],
)
def test_invalid_queue_names(sqs, bad):
    # "Queue names are limited to 80 characters. Valid values: alphanumeric
    # characters, hyphens (-), and underscores (_)."  AWS: InvalidParameterValue.
    h.expect_client_error(lambda: sqs.create_queue(QueueName=bad), code="InvalidParameterValue", status=400)


def test_longest_valid_queue_name(sqs):
    name = ("a-b_C9" * 20)[:80]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url.endswith("/" + name)


def test_queue_names_are_case_sensitive(sqs):
    base = h.new_name("Case")
    upper = sqs.create_queue(QueueName=base.upper())["QueueUrl"]
    lower = sqs.create_queue(QueueName=base.lower())["QueueUrl"]
    assert upper != lower
    sqs.send_message(QueueUrl=upper, MessageBody="upper")
    assert "Messages" not in sqs.receive_message(QueueUrl=lower)


def test_standard_queue_name_cannot_end_in_fifo(sqs):
    h.expect_client_error(
        lambda: sqs.create_queue(QueueName=h.new_name("std") + ".fifo"), code="InvalidParameterValue", status=400
    )


def test_fifo_queue_name_must_end_in_fifo(sqs):
    h.expect_client_error(
        lambda: sqs.create_queue(QueueName=h.new_name("nofifo"), Attributes={"FifoQueue": "true"}),
        code="InvalidParameterValue",
        status=400,
    )


def test_create_queue_with_unknown_attribute(sqs, name):
    h.expect_sqs_error(
        lambda: sqs.create_queue(QueueName=name, Attributes={"NoSuchAttribute": "1"}), "InvalidAttributeName"
    )


# --------------------------------------------------------------------------
# attribute validation (InvalidAttributeValue), both at create and set
# --------------------------------------------------------------------------

INVALID_VALUES = [
    ("VisibilityTimeout", "-1"),
    ("VisibilityTimeout", "43201"),
    ("VisibilityTimeout", "abc"),
    ("DelaySeconds", "901"),
    ("DelaySeconds", "-1"),
    ("MaximumMessageSize", "1023"),
    ("MaximumMessageSize", "1048577"),
    ("MessageRetentionPeriod", "59"),
    ("MessageRetentionPeriod", "1209601"),
    ("ReceiveMessageWaitTimeSeconds", "21"),
    ("KmsDataKeyReusePeriodSeconds", "59"),
    ("KmsDataKeyReusePeriodSeconds", "86401"),
]

VALID_BOUNDARIES = [
    ("VisibilityTimeout", "0"),
    ("VisibilityTimeout", "43200"),
    ("DelaySeconds", "900"),
    ("MaximumMessageSize", "1024"),
    ("MaximumMessageSize", "1048576"),
    ("MessageRetentionPeriod", "60"),
    ("MessageRetentionPeriod", "1209600"),
    ("ReceiveMessageWaitTimeSeconds", "20"),
    ("KmsDataKeyReusePeriodSeconds", "60"),
    ("KmsDataKeyReusePeriodSeconds", "86400"),
]


@pytest.mark.parametrize("attr,value", INVALID_VALUES, ids=[f"{a}={v}" for a, v in INVALID_VALUES])
def test_set_invalid_attribute_value(sqs, make_queue, attr, value):
    url = make_queue("badval")
    h.expect_sqs_error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={attr: value}),
                       "InvalidAttributeValue")


@pytest.mark.parametrize("attr,value", INVALID_VALUES[:4], ids=[f"{a}={v}" for a, v in INVALID_VALUES[:4]])
def test_create_with_invalid_attribute_value(sqs, attr, value):
    h.expect_sqs_error(lambda: sqs.create_queue(QueueName=h.new_name(), Attributes={attr: value}),
                       "InvalidAttributeValue")


@pytest.mark.parametrize("attr,value", VALID_BOUNDARIES, ids=[f"{a}={v}" for a, v in VALID_BOUNDARIES])
def test_boundary_values_are_accepted(sqs, make_queue, attr, value):
    url = make_queue("bound")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={attr: value})
    assert attrs_of(sqs, url, [attr]) == {attr: value}


def test_set_unknown_attribute_is_invalid_attribute_name(sqs, make_queue):
    url = make_queue("unknown")
    h.expect_sqs_error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"Bogus": "1"}),
                       "InvalidAttributeName")


def test_read_only_attributes_cannot_be_set(sqs, make_queue):
    url = make_queue("readonly")
    for attr in ("QueueArn", "ApproximateNumberOfMessages", "CreatedTimestamp"):
        h.expect_sqs_error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={attr: "1"}),
                           "InvalidAttributeName")


def test_fifo_queue_attribute_cannot_be_set_on_standard_queue(sqs, make_queue):
    # Recorded against AWS: InvalidAttributeName "Unknown Attribute FifoQueue."
    url = make_queue("std")
    h.expect_sqs_error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"}),
                       "InvalidAttributeName")


def test_get_unknown_attribute_is_invalid_attribute_name(sqs, make_queue):
    url = make_queue("getunknown")
    h.expect_sqs_error(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"]),
                       "InvalidAttributeName")


# --------------------------------------------------------------------------
# Get/SetQueueAttributes
# --------------------------------------------------------------------------

def test_get_queue_attributes_returns_only_requested(sqs, make_queue):
    url = make_queue("some")
    got = attrs_of(sqs, url, ["VisibilityTimeout", "DelaySeconds"])
    assert got == {"VisibilityTimeout": "30", "DelaySeconds": "0"}


def test_get_queue_attributes_without_names_is_empty(sqs, make_queue):
    # "if you don't specify values for this parameter, the request returns empty results"
    url = make_queue("none")
    assert sqs.get_queue_attributes(QueueUrl=url).get("Attributes", {}) == {}


def test_set_queue_attributes_updates_last_modified(sqs, make_queue):
    url = make_queue("modify")
    before = attrs_of(sqs, url)
    time.sleep(1.1)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5", "DelaySeconds": "1"})
    after = attrs_of(sqs, url)
    assert after["VisibilityTimeout"] == "5"
    assert after["DelaySeconds"] == "1"
    assert after["CreatedTimestamp"] == before["CreatedTimestamp"]
    assert int(after["LastModifiedTimestamp"]) > int(before["LastModifiedTimestamp"])


def test_set_queue_attributes_is_all_or_nothing(sqs, make_queue):
    url = make_queue("atomic")
    with pytest.raises(ClientError):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "7", "VisibilityTimeout": "99999"})
    assert attrs_of(sqs, url, ["DelaySeconds"]) == {"DelaySeconds": "0"}


def test_approximate_counts(sqs, make_queue):
    url = make_queue("counts")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=60)
    # The docs allow these counts to lag ("may not achieve consistency until
    # at least 1 minute after the producers stop"); a single-node emulator has
    # no reason to, so we ask for the exact numbers.
    a = attrs_of(sqs, url)
    assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"],
            a["ApproximateNumberOfMessagesDelayed"]) == ("3", "0", "1")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=60)["Messages"]
    assert len(got) == 2
    a = attrs_of(sqs, url)
    assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"],
            a["ApproximateNumberOfMessagesDelayed"]) == ("1", "2", "1")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    a = attrs_of(sqs, url)
    assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]) == ("1", "1")


# --------------------------------------------------------------------------
# RedrivePolicy / RedriveAllowPolicy
# --------------------------------------------------------------------------

def test_set_and_remove_redrive_policy(sqs, make_queue, queue_arn):
    dlq = make_queue("dlq")
    src = make_queue("src")
    policy = {"deadLetterTargetArn": queue_arn(dlq), "maxReceiveCount": 3}
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": json.dumps(policy)})
    assert json.loads(attrs_of(sqs, src, ["RedrivePolicy"])["RedrivePolicy"]) == policy
    # an empty string removes it
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in attrs_of(sqs, src)


def test_redrive_policy_with_invalid_target_arn(sqs, make_queue):
    # Recorded against AWS: InvalidParameterValue "Value {...} for parameter
    # RedrivePolicy is invalid. Reason: Invalid value for deadLetterTargetArn."
    src = make_queue("src")
    h.expect_client_error(
        lambda: sqs.set_queue_attributes(
            QueueUrl=src, Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": "dummy", "maxReceiveCount": 42})}
        ),
        code="InvalidParameterValue",
        status=400,
    )


def test_redrive_policy_to_missing_queue(sqs, make_queue):
    src = make_queue("src")
    arn = f"arn:aws:sqs:us-east-1:000000000000:{h.new_name('missing')}"
    h.expect_client_error(
        lambda: sqs.set_queue_attributes(
            QueueUrl=src, Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})}
        ),
        code={"InvalidParameterValue", "AWS.SimpleQueueService.NonExistentQueue"},
        status=400,
    )


@pytest.mark.parametrize("policy", [
    "not json",
    json.dumps({"maxReceiveCount": 3}),
    json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:x"}),
])
def test_malformed_redrive_policy(sqs, make_queue, policy):
    src = make_queue("src")
    h.expect_client_error(
        lambda: sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": policy}),
        code={"InvalidParameterValue", "InvalidAttributeValue"},
        status=400,
    )


@pytest.mark.parametrize("count", [0, 1001, "three"])
def test_max_receive_count_out_of_range(sqs, make_queue, queue_arn, count):
    # maxReceiveCount: 1 to 1,000 (SQS Developer Guide, dead-letter queues)
    dlq = make_queue("dlq")
    src = make_queue("src")
    policy = json.dumps({"deadLetterTargetArn": queue_arn(dlq), "maxReceiveCount": count})
    h.expect_client_error(
        lambda: sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": policy}),
        code={"InvalidParameterValue", "InvalidAttributeValue"},
        status=400,
    )


def test_max_receive_count_boundaries(sqs, make_queue, queue_arn):
    dlq = make_queue("dlq")
    src = make_queue("src")
    for count in (1, 1000):
        policy = {"deadLetterTargetArn": queue_arn(dlq), "maxReceiveCount": count}
        sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": json.dumps(policy)})
        got = sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["RedrivePolicy"])["Attributes"]
        assert json.loads(got["RedrivePolicy"]) == policy


def test_standard_queue_cannot_use_fifo_dead_letter_queue(sqs, make_queue, queue_arn):
    # "The dead-letter queue of a FIFO queue must also be a FIFO queue.
    # Similarly, the dead-letter queue of a standard queue must also be a standard queue."
    fifo_dlq = make_queue("dlq", fifo=True)
    src = make_queue("src")
    policy = json.dumps({"deadLetterTargetArn": queue_arn(fifo_dlq), "maxReceiveCount": 2})
    h.expect_client_error(
        lambda: sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": policy}),
        code={"InvalidParameterValue", "InvalidAttributeValue"},
        status=400,
    )


def test_fifo_queue_cannot_use_standard_dead_letter_queue(sqs, make_queue, queue_arn):
    dlq = make_queue("dlq")
    policy = json.dumps({"deadLetterTargetArn": queue_arn(dlq), "maxReceiveCount": 2})
    h.expect_client_error(
        lambda: sqs.create_queue(QueueName=h.new_name("src", fifo=True),
                                 Attributes={"FifoQueue": "true", "RedrivePolicy": policy}),
        code={"InvalidParameterValue", "InvalidAttributeValue"},
        status=400,
    )


def test_redrive_allow_policy_round_trip(sqs, make_queue, queue_arn):
    dlq = make_queue("dlq")
    for policy in (
        {"redrivePermission": "allowAll"},
        {"redrivePermission": "denyAll"},
        {"redrivePermission": "byQueue", "sourceQueueArns": [queue_arn(make_queue("s1")), queue_arn(make_queue("s2"))]},
    ):
        sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(policy)})
        assert json.loads(attrs_of(sqs, dlq, ["RedriveAllowPolicy"])["RedriveAllowPolicy"]) == policy


def test_redrive_allow_policy_deny_all_blocks_sources(sqs, make_queue, queue_arn):
    dlq = make_queue("dlq", attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})})
    src = make_queue("src")
    policy = json.dumps({"deadLetterTargetArn": queue_arn(dlq), "maxReceiveCount": 2})
    h.expect_client_error(
        lambda: sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": policy}),
        code={"InvalidParameterValue", "InvalidAttributeValue"},
        status=400,
    )


def test_redrive_allow_policy_by_queue(sqs, make_queue, queue_arn):
    allowed = make_queue("allowed")
    other = make_queue("other")
    dlq = make_queue("dlq", attributes={"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": [queue_arn(allowed)]})})
    policy = json.dumps({"deadLetterTargetArn": queue_arn(dlq), "maxReceiveCount": 2})
    sqs.set_queue_attributes(QueueUrl=allowed, Attributes={"RedrivePolicy": policy})
    h.expect_client_error(
        lambda: sqs.set_queue_attributes(QueueUrl=other, Attributes={"RedrivePolicy": policy}),
        code={"InvalidParameterValue", "InvalidAttributeValue"},
        status=400,
    )


@pytest.mark.parametrize("policy", [
    {"redrivePermission": "sometimes"},
    {"redrivePermission": "allowAll", "sourceQueueArns": ["arn:aws:sqs:us-east-1:000000000000:x"]},
    {"redrivePermission": "byQueue", "sourceQueueArns": [f"arn:aws:sqs:us-east-1:000000000000:q{i}" for i in range(11)]},
], ids=["bad-permission", "arns-without-byQueue", "eleven-arns"])
def test_invalid_redrive_allow_policy(sqs, make_queue, policy):
    dlq = make_queue("dlq")
    h.expect_client_error(
        lambda: sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(policy)}),
        code={"InvalidParameterValue", "InvalidAttributeValue"},
        status=400,
    )


# --------------------------------------------------------------------------
# Policy, AddPermission, RemovePermission
# --------------------------------------------------------------------------

def test_policy_round_trip(sqs, make_queue, queue_arn):
    url = make_queue("policy")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
                       "Resource": queue_arn(url),
                       "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:000000000000:t"}}}],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    assert json.loads(attrs_of(sqs, url, ["Policy"])["Policy"]) == policy


def test_invalid_policy_is_rejected(sqs, make_queue):
    url = make_queue("badpolicy")
    h.expect_client_error(
        lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": "{not json"}),
        code={"InvalidAttributeValue", "InvalidParameterValue"},
        status=400,
    )


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_add_permission_is_reflected_in_policy(sqs, make_queue, queue_arn):
    url = make_queue("perm")
    arn = queue_arn(url)
    sqs.add_permission(QueueUrl=url, Label="crossaccountpermission",
                       AWSAccountIds=["111111111111", "222222222222"], Actions=["ReceiveMessage"])
    policy = json.loads(attrs_of(sqs, url, ["Policy"])["Policy"])
    # Shape recorded against AWS: Version 2008-10-17, Id "<queue arn>/SQSDefaultPolicy",
    # one statement per label, "SQS:<Action>", principals as account root ARNs.
    assert policy["Version"] == "2008-10-17"
    assert policy["Id"].startswith(arn + "/")
    assert len(policy["Statement"]) == 1
    st = policy["Statement"][0]
    assert st["Sid"] == "crossaccountpermission"
    assert st["Effect"] == "Allow"
    assert sorted(_as_list(st["Principal"]["AWS"])) == [
        "arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]
    assert _as_list(st["Action"]) == ["SQS:ReceiveMessage"]
    assert st["Resource"] == arn

    sqs.add_permission(QueueUrl=url, Label="senders", AWSAccountIds=["333333333333"],
                       Actions=["SendMessage", "DeleteMessage"])
    policy = json.loads(attrs_of(sqs, url, ["Policy"])["Policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert set(by_sid) == {"crossaccountpermission", "senders"}
    assert sorted(_as_list(by_sid["senders"]["Action"])) == ["SQS:DeleteMessage", "SQS:SendMessage"]
    assert _as_list(by_sid["senders"]["Principal"]["AWS"]) == ["arn:aws:iam::333333333333:root"]

    sqs.remove_permission(QueueUrl=url, Label="crossaccountpermission")
    policy = json.loads(attrs_of(sqs, url, ["Policy"])["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["senders"]

    sqs.remove_permission(QueueUrl=url, Label="senders")
    # Recorded against AWS: once the last statement is gone there is no Policy attribute.
    assert "Policy" not in attrs_of(sqs, url)


def test_add_permission_with_existing_label(sqs, make_queue):
    url = make_queue("perm")
    sqs.add_permission(QueueUrl=url, Label="dup", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    h.expect_client_error(
        lambda: sqs.add_permission(QueueUrl=url, Label="dup", AWSAccountIds=["222222222222"], Actions=["SendMessage"]),
        code="InvalidParameterValue", status=400)


def test_remove_permission_with_unknown_label(sqs, make_queue):
    url = make_queue("perm")
    h.expect_client_error(lambda: sqs.remove_permission(QueueUrl=url, Label="nope"),
                          code="InvalidParameterValue", status=400)


def test_add_permission_wildcard_action(sqs, make_queue):
    url = make_queue("perm")
    sqs.add_permission(QueueUrl=url, Label="all", AWSAccountIds=["111111111111"], Actions=["*"])
    st = json.loads(attrs_of(sqs, url, ["Policy"])["Policy"])["Statement"][0]
    assert _as_list(st["Action"]) == ["SQS:*"]


# --------------------------------------------------------------------------
# tags
# --------------------------------------------------------------------------

def test_tag_untag_list(sqs, make_queue):
    url = make_queue("tags")
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}
    sqs.tag_queue(QueueUrl=url, Tags={"tag1": "value1", "tag2": "value2", "tag3": ""})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"tag1": "value1", "tag2": "value2", "tag3": ""}
    # "A new tag with a key identical to that of an existing tag overwrites the existing tag."
    sqs.tag_queue(QueueUrl=url, Tags={"tag1": "changed"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"]["tag1"] == "changed"
    sqs.untag_queue(QueueUrl=url, TagKeys=["tag1", "tag3", "not-there"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"tag2": "value2"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["tag2"])
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}


def test_tags_are_case_sensitive(sqs, make_queue):
    url = make_queue("tagcase")
    sqs.tag_queue(QueueUrl=url, Tags={"Env": "a", "env": "b"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"Env": "a", "env": "b"}


# --------------------------------------------------------------------------
# GetQueueUrl / ListQueues
# --------------------------------------------------------------------------

def test_get_queue_url(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="000000000000")["QueueUrl"] == url


def test_get_queue_url_of_missing_queue(sqs):
    exc = h.expect_sqs_error(lambda: sqs.get_queue_url(QueueName=h.new_name("missing")), "QueueDoesNotExist")
    assert exc.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=h.new_name("missing"))


def test_list_queues_with_prefix(sqs):
    prefix = h.new_name("lp")
    urls = sorted(sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(3))
    sqs.create_queue(QueueName=h.new_name("other"))
    assert sorted(sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"]) == urls
    assert sqs.list_queues(QueueNamePrefix=f"{prefix}-1")["QueueUrls"] == [urls[1]]
    assert sqs.list_queues(QueueNamePrefix=h.new_name("nothing")).get("QueueUrls", []) == []


def test_list_queues_without_prefix_includes_everything(sqs, make_queue):
    url = make_queue("all")
    assert url in sqs.list_queues()["QueueUrls"]


def test_list_queues_pagination(sqs):
    prefix = h.new_name("page")
    urls = {sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(5)}
    seen = []
    pages = 0
    kwargs = {"QueueNamePrefix": prefix, "MaxResults": 2}
    while True:
        resp = sqs.list_queues(**kwargs)
        pages += 1
        page = resp.get("QueueUrls", [])
        assert len(page) <= 2
        seen += page
        token = resp.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
        assert pages < 10
    assert pages == 3
    assert sorted(seen) == sorted(urls)


def test_list_queues_no_next_token_without_max_results(sqs):
    prefix = h.new_name("nt")
    for i in range(3):
        sqs.create_queue(QueueName=f"{prefix}-{i}")
    resp = sqs.list_queues(QueueNamePrefix=prefix)
    assert len(resp["QueueUrls"]) == 3
    assert not resp.get("NextToken")


def test_list_queues_paginator(sqs):
    prefix = h.new_name("pgr")
    urls = {sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(4)}
    got = []
    for page in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix, PaginationConfig={"PageSize": 3}):
        got += page.get("QueueUrls", [])
    assert sorted(got) == sorted(urls)


@pytest.mark.parametrize("max_results", [0, 1001])
def test_list_queues_max_results_out_of_range(sqs, max_results):
    h.expect_client_error(lambda: sqs.list_queues(MaxResults=max_results), code="InvalidParameterValue", status=400)


# --------------------------------------------------------------------------
# DeleteQueue / PurgeQueue
# --------------------------------------------------------------------------

def test_delete_queue(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="gone with the queue")
    sqs.delete_queue(QueueUrl=url)
    # The docs allow requests during a 60 s deletion window to "succeed";
    # an emulator deleting at once is within that.
    h.expect_sqs_error(lambda: sqs.get_queue_url(QueueName=name), "QueueDoesNotExist")
    assert url not in sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    h.expect_sqs_error(lambda: sqs.delete_queue(QueueUrl=url), "QueueDoesNotExist")


def test_recreate_recently_deleted_queue(sqs, name):
    # CreateQueue: "If you delete a queue, you must wait at least 60 seconds
    # before creating a queue with the same name." -> QueueDeletedRecently.
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    h.expect_sqs_error(lambda: sqs.create_queue(QueueName=name), "QueueDeletedRecently")


@pytest.mark.parametrize("op", ["send_message", "receive_message", "get_queue_attributes", "purge_queue",
                                "list_queue_tags", "set_queue_attributes", "send_message_batch", "tag_queue",
                                "delete_queue"])
def test_operations_on_missing_queue(sqs, endpoint, op):
    url = f"{endpoint}/000000000000/{h.new_name('missing')}"
    args = {
        "send_message": dict(MessageBody="x"),
        "receive_message": {},
        "get_queue_attributes": dict(AttributeNames=["All"]),
        "purge_queue": {},
        "delete_queue": {},
        "list_queue_tags": {},
        "set_queue_attributes": dict(Attributes={"DelaySeconds": "1"}),
        "send_message_batch": dict(Entries=[{"Id": "a", "MessageBody": "x"}]),
        "tag_queue": dict(Tags={"a": "b"}),
    }[op]
    h.expect_sqs_error(lambda: getattr(sqs, op)(QueueUrl=url, **args), "QueueDoesNotExist")


def test_purge_queue(sqs, make_queue):
    url = make_queue("purge")
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    inflight = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"]
    assert inflight
    sqs.purge_queue(QueueUrl=url)
    # "Deletes available messages in a queue (including in-flight messages)"
    time.sleep(1.3)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    a = attrs_of(sqs, url)
    assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")
    # the queue itself is still usable
    sqs.send_message(QueueUrl=url, MessageBody="after purge")


def test_second_purge_within_60_seconds(sqs, make_queue):
    # Recorded against AWS: HTTP 403, AWS.SimpleQueueService.PurgeQueueInProgress
    url = make_queue("purge2")
    sqs.purge_queue(QueueUrl=url)
    h.expect_sqs_error(lambda: sqs.purge_queue(QueueUrl=url), "PurgeQueueInProgress", status=403)
