"""S3 bucket default encryption end to end, from AWS's documentation:

- the API reference of PutBucketEncryption, GetBucketEncryption and
  DeleteBucketEncryption ("By default, all buckets have a default encryption
  configuration that uses server-side encryption with Amazon S3 managed keys (SSE-S3)";
  Delete "resets the default encryption for the bucket as ... SSE-S3" and answers 204;
  KMSMasterKeyID "is allowed if and only if SSEAlgorithm is set to aws:kms or
  aws:kms:dsse"; "Amazon S3 doesn't validate the KMS key ID");
- the user guide's "Setting default server-side encryption behavior for Amazon S3
  buckets" and "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys": a write that
  names no encryption gets the bucket's default, existing objects keep theirs, and an
  `aws:kms` request without the bucket-key header takes the bucket's Bucket Key
  setting;
- S3's recorded answers (LocalStack's AWS-validated snapshots of TestS3BucketEncryption,
  2025): a never-configured bucket reads back AES256 with BucketKeyEnabled false;
  no rules or two rules are MalformedXML; AES256 with a KMSMasterKeyID is
  InvalidArgument with ArgumentName ApplyServerSideEncryptionByDefault; a missing
  bucket is NoSuchBucket even for a Put whose document is wrong; objects report their
  KMS key as an ARN in the bucket's region and account, the AWS managed key (`aws/s3`)
  when none is configured, and BucketKeyEnabled only when true. An SSEAlgorithm that is
  not an S3 value (`SSE-KMS`) is MalformedXML (aws-controllers-k8s/community#1505).
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from test_s3_basics import s3_client
from test_s3_conformance import signed

REGION = "us-east-1"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
MANAGED_KEY = re.compile(r"^arn:aws:kms:us-east-1:(\d{12}):key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"
# Since April 2026 every new bucket blocks SSE-C, and GetBucketEncryption reports it in
# each rule ("Blocking or unblocking SSE-C for a general purpose bucket", S3 User Guide;
# hashicorp/terraform-provider-aws#47320 shows a bucket configured without the element
# reading back SSE-C). test_s3_sse_c.py covers the setting itself.
BLOCKED = {"BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]}}
DEFAULT_RULES = [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False, **BLOCKED}]


def err(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response


def rules(s3, bucket):
    return s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]


def kms_default(key=None, bucket_key=None, algorithm="aws:kms"):
    by_default = {"SSEAlgorithm": algorithm}
    if key is not None:
        by_default["KMSMasterKeyID"] = key
    rule = {"ApplyServerSideEncryptionByDefault": by_default}
    if bucket_key is not None:
        rule["BucketKeyEnabled"] = bucket_key
    return {"Rules": [rule]}


def enc(r):
    """The encryption fields of an object response."""
    return {k: r[k] for k in ("ServerSideEncryption", "SSEKMSKeyId", "BucketKeyEnabled") if k in r}


# ---- the configuration ------------------------------------------------------

def test_fresh_bucket_has_sse_s3(s3, bucket, endpoint):
    assert rules(s3, bucket) == DEFAULT_RULES
    r = signed(endpoint, "GET", f"/{bucket}?encryption")
    assert r.status_code == 200
    assert "<SSEAlgorithm>AES256</SSEAlgorithm>" in r.text and "<BucketKeyEnabled>false</BucketKeyEnabled>" in r.text
    assert "KMSMasterKeyID" not in r.text


def test_put_get_round_trip(s3, bucket):
    r = s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(KEY_ID, True))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    # The key is kept as given (S3 does not validate or expand it here).
    assert rules(s3, bucket) == [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ID}, "BucketKeyEnabled": True, **BLOCKED}]
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(algorithm="aws:kms:dsse"))
    assert rules(s3, bucket) == [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms:dsse"}, "BucketKeyEnabled": False, **BLOCKED}]
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(algorithm="AES256", bucket_key=True))
    assert rules(s3, bucket) == [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True, **BLOCKED}]


def test_delete_resets_to_the_default(s3, bucket):
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default("alias/mine", True))
    assert s3.delete_bucket_encryption(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert rules(s3, bucket) == DEFAULT_RULES
    # Deleting again is not an error.
    assert s3.delete_bucket_encryption(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert rules(s3, bucket) == DEFAULT_RULES


@pytest.mark.parametrize("algorithm", ["SSE-KMS", "aes256", "AES512", "KMS"])
def test_unknown_algorithm_is_malformed_xml(s3, bucket, algorithm):
    r = err(lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(algorithm=algorithm)))
    assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]) == ("MalformedXML", 400, MALFORMED)
    assert rules(s3, bucket) == DEFAULT_RULES


def test_kms_key_with_aes256_is_invalid_argument(s3, bucket):
    r = err(lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default("randomkeyid", algorithm="AES256")))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert r["Error"]["Code"] == "InvalidArgument"
    assert r["Error"]["Message"] == "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse"
    assert r["Error"]["ArgumentName"] == "ApplyServerSideEncryptionByDefault"
    assert rules(s3, bucket) == DEFAULT_RULES


def test_exactly_one_rule(s3, bucket):
    two = {"Rules": kms_default(bucket_key=True)["Rules"] + kms_default(algorithm="AES256")["Rules"]}
    for config in ({"Rules": []}, two, {"Rules": [{"BucketKeyEnabled": True}]}):
        r = err(lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=config))
        assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == ("MalformedXML", 400), config


def test_no_such_bucket(s3):
    missing = f"missing-{uuid.uuid4().hex[:12]}"
    for call in (
        lambda: s3.get_bucket_encryption(Bucket=missing),
        lambda: s3.delete_bucket_encryption(Bucket=missing),
        lambda: s3.put_bucket_encryption(Bucket=missing, ServerSideEncryptionConfiguration=kms_default()),
        # The bucket is looked up before the document.
        lambda: s3.put_bucket_encryption(Bucket=missing, ServerSideEncryptionConfiguration=kms_default(algorithm="SSE-KMS")),
        lambda: s3.put_bucket_encryption(Bucket=missing, ServerSideEncryptionConfiguration={"Rules": []}),
    ):
        r = err(call)
        assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == ("NoSuchBucket", 404)
        assert r["Error"]["Message"] == "The specified bucket does not exist"


# ---- objects ----------------------------------------------------------------

def test_objects_report_a_kms_default(s3, bucket):
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(KEY_ID, True))
    arn = f"arn:aws:kms:{REGION}:000000000000:key/{KEY_ID}"
    want = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": arn, "BucketKeyEnabled": True}
    assert enc(s3.put_object(Bucket=bucket, Key="k", Body=b"data")) == want
    assert enc(s3.head_object(Bucket=bucket, Key="k")) == want
    g = s3.get_object(Bucket=bucket, Key="k")
    assert enc(g) == want and g["Body"].read() == b"data"
    assert enc(s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"})) == want
    assert enc(s3.head_object(Bucket=bucket, Key="copy")) == want
    mp = s3.create_multipart_upload(Bucket=bucket, Key="m")
    assert enc(mp) == want
    part = s3.upload_part(Bucket=bucket, Key="m", UploadId=mp["UploadId"], PartNumber=1, Body=b"p")
    assert enc(part) == want
    done = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=mp["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert enc(done) == want
    assert enc(s3.head_object(Bucket=bucket, Key="m")) == want


def test_browser_post_gets_the_default(s3, bucket):
    import requests

    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default("alias/post"))
    post = s3.generate_presigned_post(bucket, "posted")
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f.txt", b"form")})
    assert r.status_code == 204
    assert enc(s3.head_object(Bucket=bucket, Key="posted")) == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/post"}


def test_no_key_configured_reports_the_aws_managed_key(s3, bucket):
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default())
    r = s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    assert r["ServerSideEncryption"] == "aws:kms"
    # With BucketKeyEnabled false S3 sends no bucket-key header.
    assert "BucketKeyEnabled" not in r
    assert MANAGED_KEY.match(r["SSEKMSKeyId"])
    # One managed key per account and region: the same for every object and bucket.
    other = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=other)
    s3.put_bucket_encryption(Bucket=other, ServerSideEncryptionConfiguration=kms_default())
    assert s3.put_object(Bucket=other, Key="b", Body=b"x")["SSEKMSKeyId"] == r["SSEKMSKeyId"]
    assert enc(s3.head_object(Bucket=bucket, Key="a")) == enc(r)


def test_alias_and_arn_keys_are_reported_as_given(s3, bucket):
    arn = "arn:aws:kms:us-east-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    for key in ("alias/mine", arn):
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(key))
        assert s3.put_object(Bucket=bucket, Key="k", Body=b"x")["SSEKMSKeyId"] == key


def test_sse_s3_default_with_bucket_key_reports_none(s3, bucket):
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(algorithm="AES256", bucket_key=True))
    want = {"ServerSideEncryption": "AES256"}
    assert enc(s3.put_object(Bucket=bucket, Key="k", Body=b"x")) == want
    assert enc(s3.get_object(Bucket=bucket, Key="k")) == want


def test_dsse_default(s3, bucket):
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(KEY_ID, True, "aws:kms:dsse"))
    # Bucket Keys are not supported for DSSE-KMS.
    assert enc(s3.put_object(Bucket=bucket, Key="k", Body=b"x")) == {
        "ServerSideEncryption": "aws:kms:dsse", "SSEKMSKeyId": f"arn:aws:kms:{REGION}:000000000000:key/{KEY_ID}"}


def test_request_headers_override_the_default(s3, bucket):
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(KEY_ID, True))
    assert enc(s3.put_object(Bucket=bucket, Key="aes", Body=b"x", ServerSideEncryption="AES256")) == {"ServerSideEncryption": "AES256"}
    assert enc(s3.head_object(Bucket=bucket, Key="aes")) == {"ServerSideEncryption": "AES256"}
    # aws:kms with a key of its own; the bucket's Bucket Key setting unless the request
    # says otherwise.
    r = s3.put_object(Bucket=bucket, Key="own", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/own")
    assert enc(r) == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/own", "BucketKeyEnabled": True}
    r = s3.put_object(Bucket=bucket, Key="nobk", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/own",
                      BucketKeyEnabled=False)
    assert enc(r) == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/own"}
    # A copy named AES256 is AES256 whatever the default and the source.
    r = s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "own"}, ServerSideEncryption="AES256")
    assert enc(r) == {"ServerSideEncryption": "AES256"}
    # A KMS key without aws:kms is still refused.
    r = err(lambda: s3.put_object(Bucket=bucket, Key="bad", Body=b"x", SSEKMSKeyId="alias/own"))
    assert r["Error"]["Code"] == "InvalidArgument"


def test_copy_takes_the_destination_default(s3, bucket):
    src = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=src)
    s3.put_object(Bucket=src, Key="k", Body=b"x")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default("alias/dest"))
    r = s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": src, "Key": "k"})
    assert enc(r) == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/dest"}
    # And the other way: a KMS object copied into an SSE-S3 bucket is SSE-S3.
    r = s3.copy_object(Bucket=src, Key="back", CopySource={"Bucket": bucket, "Key": "k"})
    assert enc(r) == {"ServerSideEncryption": "AES256"}


def test_existing_objects_keep_their_encryption(s3, bucket):
    s3.put_object(Bucket=bucket, Key="before", Body=b"x")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default("alias/one", True))
    s3.put_object(Bucket=bucket, Key="during", Body=b"x")
    mp = s3.create_multipart_upload(Bucket=bucket, Key="upload")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default("alias/two"))
    assert enc(s3.head_object(Bucket=bucket, Key="before")) == {"ServerSideEncryption": "AES256"}
    during = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/one", "BucketKeyEnabled": True}
    assert enc(s3.head_object(Bucket=bucket, Key="during")) == during
    # An upload completes with the encryption it started with.
    part = s3.upload_part(Bucket=bucket, Key="upload", UploadId=mp["UploadId"], PartNumber=1, Body=b"p")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="upload", UploadId=mp["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert enc(done) == during
    s3.delete_bucket_encryption(Bucket=bucket)
    assert enc(s3.head_object(Bucket=bucket, Key="during")) == during
    assert enc(s3.put_object(Bucket=bucket, Key="after", Body=b"x")) == {"ServerSideEncryption": "AES256"}


def test_versions_keep_their_encryption(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default("alias/k"))
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=v1)["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=v2)["ServerSideEncryption"] == "aws:kms"


# ---- who may ----------------------------------------------------------------

def test_policy_decides_with_the_encryption_actions(s3, bucket):
    """Put and Delete are s3:PutEncryptionConfiguration, Get s3:GetEncryptionConfiguration
    (Actions, resources, and condition keys for Amazon S3)."""
    deny_put = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutEncryptionConfiguration", "Resource": f"arn:aws:s3:::{bucket}"}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny_put]}))
    for call in (
        lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default()),
        lambda: s3.delete_bucket_encryption(Bucket=bucket),
    ):
        r = err(call)
        assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
    assert rules(s3, bucket) == DEFAULT_RULES
    deny_get = {**deny_put, "Action": "s3:GetEncryptionConfiguration"}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny_get]}))
    r = err(lambda: s3.get_bucket_encryption(Bucket=bucket))
    assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default())
    s3.delete_bucket_policy(Bucket=bucket)
    assert rules(s3, bucket)[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms"}


def test_other_accounts_need_an_allow(endpoint, s3, bucket):
    other = s3_client(endpoint, key="111122223333")
    for call in (
        lambda: other.get_bucket_encryption(Bucket=bucket),
        lambda: other.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default()),
        lambda: other.delete_bucket_encryption(Bucket=bucket),
    ):
        r = err(call)
        assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
    allow = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "s3:GetEncryptionConfiguration", "Resource": f"arn:aws:s3:::{bucket}"}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [allow]}))
    assert rules(other, bucket) == DEFAULT_RULES
    r = err(lambda: other.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default()))
    assert r["Error"]["Code"] == "AccessDenied"


def test_anonymous_callers_are_refused(strict_server):
    import requests

    s3 = s3_client(strict_server.endpoint)
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    assert requests.get(f"{strict_server.endpoint}/{name}?encryption").status_code == 403
    assert requests.delete(f"{strict_server.endpoint}/{name}?encryption").status_code == 403
    assert rules(s3, name) == DEFAULT_RULES


# ---- durability and the CLI ---------------------------------------------------

def test_configuration_and_object_encryption_survive_a_restart(nimbus_factory):
    srv = nimbus_factory()
    s3 = s3_client(srv.endpoint)
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_default(KEY_ID, True))
    before = enc(s3.put_object(Bucket=name, Key="k", Body=b"x"))
    plain = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=plain)
    srv.restart()
    s3 = s3_client(srv.endpoint)
    assert rules(s3, name) == [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ID}, "BucketKeyEnabled": True, **BLOCKED}]
    assert enc(s3.head_object(Bucket=name, Key="k")) == before
    assert enc(s3.put_object(Bucket=name, Key="k2", Body=b"x")) == before
    assert rules(s3, plain) == DEFAULT_RULES
    s3.delete_bucket_encryption(Bucket=name)
    srv.restart()
    s3 = s3_client(srv.endpoint)
    assert rules(s3, name) == DEFAULT_RULES
    assert enc(s3.head_object(Bucket=name, Key="k")) == before


def test_aws_cli(aws_cli, s3, bucket, tmp_path):
    _, got, _ = aws_cli("s3api", "get-bucket-encryption", "--bucket", bucket)
    assert got["ServerSideEncryptionConfiguration"]["Rules"] == DEFAULT_RULES
    config = json.dumps(kms_default("alias/cli", True))
    aws_cli("s3api", "put-bucket-encryption", "--bucket", bucket, "--server-side-encryption-configuration", config)
    _, got, _ = aws_cli("s3api", "get-bucket-encryption", "--bucket", bucket)
    assert got["ServerSideEncryptionConfiguration"]["Rules"] == [{**kms_default("alias/cli", True)["Rules"][0], **BLOCKED}]
    f = tmp_path / "f.txt"
    f.write_bytes(b"hello")
    aws_cli("s3", "cp", str(f), f"s3://{bucket}/f.txt", "--only-show-errors")
    _, head, _ = aws_cli("s3api", "head-object", "--bucket", bucket, "--key", "f.txt")
    assert enc(head) == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/cli", "BucketKeyEnabled": True}
    bad = json.dumps(kms_default("k", algorithm="AES256"))
    code, _, stderr = aws_cli("s3api", "put-bucket-encryption", "--bucket", bucket,
                              "--server-side-encryption-configuration", bad, check=False)
    assert code != 0 and "InvalidArgument" in stderr
    aws_cli("s3api", "delete-bucket-encryption", "--bucket", bucket)
    _, got, _ = aws_cli("s3api", "get-bucket-encryption", "--bucket", bucket)
    assert got["ServerSideEncryptionConfiguration"]["Rules"] == DEFAULT_RULES
