"""S3 storage classes end to end, written from AWS's S3 API reference (PutObject,
CopyObject, CreateMultipartUpload x-amz-storage-class; GetObject/HeadObject
x-amz-storage-class and x-amz-restore; RestoreObject; the Transition and
NoncurrentVersionTransition lifecycle actions) and the User Guide's "Working with
archived objects" and "Transitioning objects using Amazon S3 Lifecycle".

Restores complete after NIMBUS_S3_RESTORE_SECONDS (default 0: at once); a restored
copy lasts its Days, each a lifecycle day (NIMBUS_S3_LIFECYCLE_DAY_SECONDS)."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

import nimbus_helpers as h
from test_s3_basics import s3_client

CLASSES = ["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
           "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR"]
RESTORE = {"Days": 1, "GlacierJobParameters": {"Tier": "Standard"}}


def code(exc):
    return exc.response["Error"]["Code"]


def status(exc):
    return exc.response["ResponseMetadata"]["HTTPStatusCode"]


def http_status(resp):
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def eventually(check, timeout=15.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def test_every_class_is_stored_and_reported(s3, bucket):
    for c in CLASSES:
        s3.put_object(Bucket=bucket, Key=f"k-{c}", Body=b"data", StorageClass=c)
    s3.put_object(Bucket=bucket, Key="k-default", Body=b"data")
    for c in CLASSES:
        head = s3.head_object(Bucket=bucket, Key=f"k-{c}")
        # S3 sends x-amz-storage-class only for classes other than STANDARD.
        if c == "STANDARD":
            assert "StorageClass" not in head
        else:
            assert head["StorageClass"] == c
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="k-default")
    want = {f"k-{c}": c for c in CLASSES} | {"k-default": "STANDARD"}
    assert {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]} == want
    assert {o["Key"]: o["StorageClass"] for o in s3.list_objects(Bucket=bucket)["Contents"]} == want
    assert {v["Key"]: v["StorageClass"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]} == want
    got = s3.get_object(Bucket=bucket, Key="k-STANDARD_IA")
    assert got["StorageClass"] == "STANDARD_IA" and got["Body"].read() == b"data"


@pytest.mark.parametrize("cls", ["NOPE", "glacier", "EXPRESS_ONEZONE", "OUTPOSTS", "SNOW"])
def test_invalid_storage_class(s3, bucket, cls):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass=cls)
    assert code(e.value) == "InvalidStorageClass" and status(e.value) == 400
    # S3's list of error codes gives this text (there with a final period); LocalStack,
    # whose S3 tests are recorded against AWS, answers it without one, as nimbus does.
    assert e.value.response["Error"]["Message"] == "The storage class you specified is not valid"
    # ... and names the class asked for in StorageClassRequested.
    assert e.value.response["Error"]["StorageClassRequested"] == cls
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="k", StorageClass=cls)
    assert code(e.value) == "InvalidStorageClass"


@pytest.mark.parametrize("cls", ["GLACIER", "DEEP_ARCHIVE"])
def test_archived_objects_cannot_be_read(s3, bucket, cls):
    s3.put_object(Bucket=bucket, Key="cold", Body=b"frozen", StorageClass=cls)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="cold")
    assert code(e.value) == "InvalidObjectState" and status(e.value) == 403
    assert e.value.response["Error"]["Message"] == "The operation is not valid for the object's storage class"
    assert e.value.response["Error"]["StorageClass"] == cls
    # HEAD works and shows the class; there is no restore yet.
    head = s3.head_object(Bucket=bucket, Key="cold")
    assert head["StorageClass"] == cls and head["ContentLength"] == 6 and "Restore" not in head
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "cold"})
    assert code(e.value) == "InvalidObjectState" and status(e.value) == 403


def test_glacier_ir_and_infrequent_access_are_readable(s3, bucket):
    for c in ["GLACIER_IR", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING"]:
        s3.put_object(Bucket=bucket, Key=c, Body=b"warm", StorageClass=c)
        assert s3.get_object(Bucket=bucket, Key=c)["Body"].read() == b"warm"


def test_restore_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="hot", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=bucket, Key="hot", RestoreRequest=RESTORE)
    assert code(e.value) == "InvalidObjectState" and status(e.value) == 403
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=bucket, Key="missing", RestoreRequest=RESTORE)
    assert code(e.value) == "NoSuchKey"
    s3.put_object(Bucket=bucket, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    r = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest=RESTORE)
    assert http_status(r) == 202
    # Restores complete at once by default.
    head = s3.head_object(Bucket=bucket, Key="cold")
    assert head["StorageClass"] == "GLACIER"
    assert head["Restore"].startswith('ongoing-request="false", expiry-date="')
    assert head["Restore"].endswith(' GMT"')
    got = s3.get_object(Bucket=bucket, Key="cold")
    assert got["Body"].read() == b"frozen" and got["StorageClass"] == "GLACIER" and "Restore" in got
    # ListObjectsV2 reports RestoreStatus when asked for it.
    listed = s3.list_objects_v2(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])["Contents"]
    status_of = {o["Key"]: o.get("RestoreStatus") for o in listed}
    assert status_of["hot"] is None
    assert status_of["cold"]["IsRestoreInProgress"] is False and "RestoreExpiryDate" in status_of["cold"]
    assert all("RestoreStatus" not in o for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    # Restoring a restored object extends it: 200.
    r = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 5})
    assert http_status(r) == 200
    # A restored object can be copied; the copy is STANDARD and not "restored".
    s3.copy_object(Bucket=bucket, Key="thawed", CopySource={"Bucket": bucket, "Key": "cold"})
    head = s3.head_object(Bucket=bucket, Key="thawed")
    assert "StorageClass" not in head and "Restore" not in head
    assert s3.get_object(Bucket=bucket, Key="thawed")["Body"].read() == b"frozen"


def test_restore_request_validation(s3, bucket):
    s3.put_object(Bucket=bucket, Key="cold", Body=b"x", StorageClass="DEEP_ARCHIVE")
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"GlacierJobParameters": {"Tier": "Bulk"}})
    assert status(e.value) == 400


def test_copy_onto_itself_changes_the_class(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", Metadata={"a": "1"})
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"})
    assert code(e.value) == "InvalidRequest"
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"}, StorageClass="STANDARD_IA")
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["StorageClass"] == "STANDARD_IA" and head["Metadata"] == {"a": "1"}
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"}, StorageClass="STANDARD")
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="k2", CopySource={"Bucket": bucket, "Key": "k"}, StorageClass="BOGUS")
    assert code(e.value) == "InvalidStorageClass"


def test_multipart_upload_storage_class(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", StorageClass="ONEZONE_IA")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=b"part")["ETag"]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["StorageClass"]) for u in uploads] == [("mp", "ONEZONE_IA")]
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=up)["StorageClass"] == "ONEZONE_IA"
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.head_object(Bucket=bucket, Key="mp")["StorageClass"] == "ONEZONE_IA"
    up2 = s3.create_multipart_upload(Bucket=bucket, Key="plain")["UploadId"]
    assert s3.list_parts(Bucket=bucket, Key="plain", UploadId=up2)["StorageClass"] == "STANDARD"


def test_aws_cli_storage_class_and_restore(aws_cli, bucket, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("archived with the CLI")
    aws_cli("s3", "cp", str(src), f"s3://{bucket}/cli.txt", "--storage-class", "GLACIER", "--only-show-errors")
    _, head, _ = aws_cli("s3api", "head-object", "--bucket", bucket, "--key", "cli.txt")
    assert head["StorageClass"] == "GLACIER" and "Restore" not in head
    rc, _, err = aws_cli("s3api", "get-object", "--bucket", bucket, "--key", "cli.txt", str(tmp_path / "o"), check=False)
    assert rc != 0 and "InvalidObjectState" in err
    aws_cli("s3api", "restore-object", "--bucket", bucket, "--key", "cli.txt",
            "--restore-request", json.dumps(RESTORE))
    _, head, _ = aws_cli("s3api", "head-object", "--bucket", bucket, "--key", "cli.txt")
    assert head["Restore"].startswith('ongoing-request="false"')
    aws_cli("s3api", "get-object", "--bucket", bucket, "--key", "cli.txt", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "archived with the CLI"
    _, listing, _ = aws_cli("s3api", "list-objects-v2", "--bucket", bucket)
    assert [(o["Key"], o["StorageClass"]) for o in listing["Contents"]] == [("cli.txt", "GLACIER")]


@pytest.mark.parametrize("rule, message", [
    ({"Transitions": [{"Days": 29, "StorageClass": "STANDARD_IA"}]},
     "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"),
    ({"Transitions": [{"Days": 1, "StorageClass": "ONEZONE_IA"}]},
     "'Days' in Transition action must be greater than or equal to 30 for storageClass 'ONEZONE_IA'"),
    ({"NoncurrentVersionTransitions": [{"NoncurrentDays": 10, "StorageClass": "STANDARD_IA"}]},
     "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"),
    ({"Transitions": [{"Days": -1, "StorageClass": "GLACIER"}]},
     "'Days' in Transition action must be nonnegative"),
    ({"Transitions": [{"Days": 60, "StorageClass": "GLACIER"}], "Expiration": {"Days": 60}},
     "'Days' in the Expiration action for filter '(prefix=)' must be greater than 'Days' in the Transition action"),
])
def test_transition_constraints(s3, bucket, rule, message):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "t", "Filter": {"Prefix": ""}, "Status": "Enabled", **rule}]})
    assert code(e.value) == "InvalidArgument" and status(e.value) == 400
    assert e.value.response["Error"]["Message"] == message


def test_valid_transitions_round_trip(s3, bucket):
    rules = [{"ID": "t", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
              "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 0, "StorageClass": "GLACIER"},
                              {"Days": 365, "StorageClass": "DEEP_ARCHIVE"}],
              "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "ONEZONE_IA"}]}]
    r = s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    assert r["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["Rules"] == rules and got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules},
                                          TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"


@pytest.fixture
def slow_restores(nimbus_factory):
    """A server whose restores take 2 s and whose lifecycle day lasts 2 s."""
    srv = nimbus_factory(env={"NIMBUS_S3_RESTORE_SECONDS": "2", "NIMBUS_S3_LIFECYCLE_DAY_SECONDS": "2"})
    return srv, s3_client(srv.endpoint)


@pytest.mark.own_server
def test_restore_in_progress_then_done_then_expired(slow_restores):
    srv, c = slow_restores
    sqs = h.make_client(srv.endpoint)
    url = sqs.create_queue(QueueName="restore-events")["QueueUrl"]
    arn = h.allow_s3_notifications(sqs, url)
    c.create_bucket(Bucket="thaw")
    c.put_bucket_notification_configuration(Bucket="thaw", NotificationConfiguration={"QueueConfigurations": [
        {"Id": "r", "QueueArn": arn, "Events": ["s3:ObjectRestore:*"]}]})
    c.put_object(Bucket="thaw", Key="cold", Body=b"frozen", StorageClass="GLACIER")
    assert http_status(c.restore_object(Bucket="thaw", Key="cold", RestoreRequest=RESTORE)) == 202
    assert c.head_object(Bucket="thaw", Key="cold")["Restore"] == 'ongoing-request="true"'
    with pytest.raises(ClientError) as e:
        c.restore_object(Bucket="thaw", Key="cold", RestoreRequest=RESTORE)
    assert code(e.value) == "RestoreAlreadyInProgress" and status(e.value) == 409
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket="thaw", Key="cold")
    assert code(e.value) == "InvalidObjectState"
    eventually(lambda: c.head_object(Bucket="thaw", Key="cold")["Restore"].startswith('ongoing-request="false"'))
    assert c.get_object(Bucket="thaw", Key="cold")["Body"].read() == b"frozen"
    # The restored copy lasts one (2 s) day, to the day boundary after: then it is gone.
    eventually(lambda: "Restore" not in c.head_object(Bucket="thaw", Key="cold"), timeout=10)
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket="thaw", Key="cold")
    assert code(e.value) == "InvalidObjectState"
    records = []

    def got_events():
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", []):
            records.extend(json.loads(m["Body"]).get("Records", []))
        return len(records) >= 2

    eventually(got_events, timeout=10)
    records.sort(key=lambda r: r["s3"]["object"]["sequencer"])
    assert [r["eventName"] for r in records] == ["ObjectRestore:Post", "ObjectRestore:Completed"]
    assert all(r["s3"]["object"]["key"] == "cold" for r in records)


@pytest.fixture
def fast_days(nimbus_factory):
    srv = nimbus_factory(env={"NIMBUS_S3_LIFECYCLE_DAY_SECONDS": "1"})
    return srv, s3_client(srv.endpoint)


def classes(c, bucket):
    return {o["Key"]: o["StorageClass"] for o in c.list_objects_v2(Bucket=bucket).get("Contents", [])}


@pytest.mark.own_server
def test_lifecycle_transitions(fast_days):
    srv, c = fast_days
    big = b"x" * (128 * 1024)
    c.create_bucket(Bucket="tiers")
    c.put_object(Bucket="tiers", Key="data/big", Body=big)
    c.put_object(Bucket="tiers", Key="data/small", Body=b"tiny")
    c.put_object(Bucket="tiers", Key="other/big", Body=big)
    c.put_bucket_lifecycle_configuration(Bucket="tiers", LifecycleConfiguration={"Rules": [
        {"ID": "archive", "Filter": {"Prefix": "data/"}, "Status": "Enabled",
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]}]})
    eventually(lambda: classes(c, "tiers")["data/big"] == "GLACIER", timeout=10)
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket="tiers", Key="data/big")
    assert code(e.value) == "InvalidObjectState"
    assert c.head_object(Bucket="tiers", Key="data/big")["StorageClass"] == "GLACIER"
    # Objects under 128 KiB are not transitioned by default; other prefixes not at all.
    assert classes(c, "tiers")["data/small"] == "STANDARD" and classes(c, "tiers")["other/big"] == "STANDARD"
    # varies_by_storage_class lets small objects go to GLACIER.
    c.put_bucket_lifecycle_configuration(Bucket="tiers", LifecycleConfiguration={"Rules": [
        {"ID": "archive", "Filter": {"Prefix": "data/"}, "Status": "Enabled",
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]}]},
        TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    eventually(lambda: classes(c, "tiers")["data/small"] == "GLACIER", timeout=10)


@pytest.mark.own_server
def test_noncurrent_version_transitions(fast_days):
    srv, c = fast_days
    sqs = h.make_client(srv.endpoint)
    url = sqs.create_queue(QueueName="transition-events")["QueueUrl"]
    arn = h.allow_s3_notifications(sqs, url)
    c.create_bucket(Bucket="vtiers")
    c.put_bucket_versioning(Bucket="vtiers", VersioningConfiguration={"Status": "Enabled"})
    c.put_bucket_notification_configuration(Bucket="vtiers", NotificationConfiguration={"QueueConfigurations": [
        {"Id": "t", "QueueArn": arn, "Events": ["s3:LifecycleTransition"]}]})
    c.put_bucket_lifecycle_configuration(Bucket="vtiers", LifecycleConfiguration={"Rules": [
        {"ID": "old", "Filter": {}, "Status": "Enabled",
         "NoncurrentVersionTransitions": [{"NoncurrentDays": 1, "StorageClass": "DEEP_ARCHIVE"}]}]},
        TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    v1 = c.put_object(Bucket="vtiers", Key="k", Body=b"one")["VersionId"]
    v2 = c.put_object(Bucket="vtiers", Key="k", Body=b"two")["VersionId"]

    def version_classes():
        return {v["VersionId"]: v["StorageClass"] for v in c.list_object_versions(Bucket="vtiers")["Versions"]}

    eventually(lambda: version_classes() == {v1: "DEEP_ARCHIVE", v2: "STANDARD"}, timeout=10)
    assert c.get_object(Bucket="vtiers", Key="k")["Body"].read() == b"two"
    with pytest.raises(ClientError) as e:
        c.get_object(Bucket="vtiers", Key="k", VersionId=v1)
    assert code(e.value) == "InvalidObjectState"
    records = []

    def got_events():
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", []):
            records.extend(json.loads(m["Body"]).get("Records", []))
        return len(records) >= 1

    eventually(got_events, timeout=10)
    assert [(r["eventName"], r["s3"]["object"]["versionId"]) for r in records] == [("LifecycleTransition", v1)]


@pytest.mark.own_server
def test_storage_class_survives_restart(nimbus_factory):
    srv = nimbus_factory()
    c = s3_client(srv.endpoint)
    c.create_bucket(Bucket="keep")
    c.put_object(Bucket="keep", Key="cold", Body=b"x", StorageClass="DEEP_ARCHIVE")
    c.put_object(Bucket="keep", Key="ia", Body=b"y", StorageClass="STANDARD_IA")
    c.restore_object(Bucket="keep", Key="cold", RestoreRequest=RESTORE)
    srv.kill()  # kill -9
    srv.restart()
    c2 = s3_client(srv.endpoint)
    assert classes(c2, "keep") == {"cold": "DEEP_ARCHIVE", "ia": "STANDARD_IA"}
    assert c2.head_object(Bucket="keep", Key="cold")["Restore"].startswith('ongoing-request="false"')
    assert c2.get_object(Bucket="keep", Key="cold")["Body"].read() == b"x"
