"""SSE-C (server-side encryption with customer-provided keys) and the bucket setting
that blocks it, end to end. Where each expectation comes from:

- [BLOCK] "Blocking or unblocking SSE-C for a general purpose bucket" (S3 User Guide,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/blocking-unblocking-s3-c-encryption-gpb.html)
  and the "Default SSE-C setting for new buckets FAQ": since April 2026 new buckets
  block SSE-C; a blocked bucket answers PutObject, CopyObject, PostObject and multipart
  uploads that specify SSE-C with 403 AccessDenied; existing SSE-C objects stay
  readable with their key; `BlockedEncryptionTypes` `NONE` allows SSE-C, `SSE-C`
  blocks it; a rule may hold only `BlockedEncryptionTypes`.
- [403-MSG] "Troubleshoot Access Denied (403 Forbidden) errors" (S3 User Guide): the
  message "... because this bucket has blocked upload requests that specify Server
  Side Encryption with Customer provided keys (SSE-C). ...".
- [KEEP] hashicorp/terraform-provider-aws#47320 (maintainers' acceptance run,
  2026-04-08) and trussworks/terraform-aws-logs#333: a PutBucketEncryption without
  `BlockedEncryptionTypes` leaves the setting as it was, and GetBucketEncryption
  always reports it (`SSE-C` or `NONE`).
- [SSEC] "Using server-side encryption with customer-provided keys (SSE-C)" and
  "Specifying server-side encryption with customer-provided keys" (S3 User Guide):
  the three headers, the same key on every read, on each UploadPart of an SSE-C
  upload, and the copy-source trio for a copy from an SSE-C object; responses echo the
  algorithm and the key's MD5.
- [LS] LocalStack's S3 tests, snapshot-recorded against AWS (`validate_sse_c` and its
  GetObject checks): the write checks and their order, the read errors (no key 400
  InvalidRequest, wrong key 403 AccessDenied, a key for a plain object 400
  InvalidRequest), ArgumentName `x-amz-server-side-encryption`, and no
  `x-amz-server-side-encryption` header on an SSE-C PutObject's answer.
- [PART] aws-sdk-ruby#1084 (S3's answer to an UploadPart without the upload's key)
  and the same messages in MinIO's and other S3 servers' error tables: "The multipart
  upload initiate requested encryption. Subsequent part requests must include the
  appropriate encryption parameters." and, for another key, "The provided encryption
  parameters did not match the ones used originally."

nimbus keeps only the algorithm and the key's MD5; it does not encrypt at rest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from test_s3_basics import s3_client
from test_s3_conformance import signed

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))
BLOCKED_MSG = ("because this bucket has blocked upload requests that specify Server Side Encryption with "
               "Customer provided keys (SSE-C). Please specify a different server-side encryption type")
NO_KEY_MSG = ("The object was stored using a form of Server Side Encryption. "
              "The correct parameters must be provided to retrieve the object.")
WRONG_KEY_MSG = "Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key."
ALLOW = {"BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}
BLOCK = {"BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]}}


def md5_b64(key):
    return base64.b64encode(hashlib.md5(key).digest()).decode()


def ssec(key=KEY):
    """boto3's SSE-C parameters (it base64-encodes the key and adds its MD5)."""
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def copy_ssec(key=KEY):
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key}


def raw_ssec(key=KEY, algorithm="AES256", md5=None):
    """The three headers as sent on the wire (for requests boto3 would not build)."""
    headers = {"x-amz-server-side-encryption-customer-algorithm": algorithm,
               "x-amz-server-side-encryption-customer-key": base64.b64encode(key).decode(),
               "x-amz-server-side-encryption-customer-key-MD5": md5 if md5 is not None else md5_b64(key)}
    return {k: v for k, v in headers.items() if v is not None}


def err(call):
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response


def rule(s3, bucket):
    [r] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    return r


def allow_sse_c(s3, bucket, **default):
    r = dict(ALLOW)
    if default:
        r["ApplyServerSideEncryptionByDefault"] = default
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [r]})


@pytest.fixture
def open_bucket(s3, bucket):
    """A bucket that takes SSE-C writes (BlockedEncryptionTypes NONE)."""
    allow_sse_c(s3, bucket, SSEAlgorithm="AES256")
    return bucket


def xml_error(r):
    from xml.etree import ElementTree

    root = ElementTree.fromstring(r.content)
    return {child.tag: child.text for child in root}


# ---- BlockedEncryptionTypes -----------------------------------------------------

def test_a_new_bucket_blocks_sse_c(s3, bucket):
    # [BLOCK] new buckets have SSE-C blocked; [KEEP] GetBucketEncryption reports it.
    assert rule(s3, bucket) == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                "BucketKeyEnabled": False, **BLOCK}
    r = err(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", **ssec()))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert r["Error"]["Code"] == "AccessDenied"
    # [403-MSG] names the caller, the action and the object.
    assert r["Error"]["Message"].startswith("User: arn:aws:iam::")
    assert f'is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::{bucket}/k" ' in r["Error"]["Message"]
    assert r["Error"]["Message"].endswith(BLOCKED_MSG)
    # [BLOCK] refused before the key is looked at: even a bad algorithm gets the 403.
    bad = signed(s3.meta.endpoint_url, "PUT", f"/{bucket}/k2", headers=raw_ssec(algorithm="AES128"), data=b"x")
    assert bad.status_code == 403 and xml_error(bad)["Code"] == "AccessDenied"
    # Plain writes are unaffected; nothing was written by the refused ones.
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["plain"]


def test_a_blocked_bucket_refuses_every_sse_c_write(s3, bucket, endpoint):
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    # [BLOCK] CopyObject, CreateMultipartUpload and POST that specify SSE-C: 403.
    for call in (
        lambda: s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"}, **ssec()),
        lambda: s3.create_multipart_upload(Bucket=bucket, Key="mp", **ssec()),
    ):
        r = err(call)
        assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]) == (403, "AccessDenied")
        assert r["Error"]["Message"].endswith(BLOCKED_MSG)
    fields = {"x-amz-server-side-encryption-customer-algorithm": "AES256",
              "x-amz-server-side-encryption-customer-key": base64.b64encode(KEY).decode(),
              "x-amz-server-side-encryption-customer-key-MD5": md5_b64(KEY)}
    post = s3.generate_presigned_post(bucket, "posted", Fields=fields, Conditions=[{k: v} for k, v in fields.items()])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f.bin", b"form")})
    assert r.status_code == 403 and xml_error(r)["Code"] == "AccessDenied", r.text
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["src"]


def test_unblocking_and_blocking_again(s3, bucket):
    # [BLOCK] NONE allows SSE-C writes...
    allow_sse_c(s3, bucket, SSEAlgorithm="AES256")
    assert rule(s3, bucket)["BlockedEncryptionTypes"] == {"EncryptionType": ["NONE"]}
    put = s3.put_object(Bucket=bucket, Key="secret", Body=b"hidden", **ssec())
    assert (put["SSECustomerAlgorithm"], put["SSECustomerKeyMD5"]) == ("AES256", md5_b64(KEY))
    # ... and a rule holding only BlockedEncryptionTypes SSE-C blocks them again (its
    # default encryption is then SSE-S3).
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [BLOCK]})
    assert rule(s3, bucket) == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                "BucketKeyEnabled": False, **BLOCK}
    r = err(lambda: s3.put_object(Bucket=bucket, Key="secret2", Body=b"x", **ssec()))
    assert r["Error"]["Code"] == "AccessDenied"
    # [BLOCK] existing SSE-C objects stay readable with their key.
    assert s3.get_object(Bucket=bucket, Key="secret", **ssec())["Body"].read() == b"hidden"
    assert s3.head_object(Bucket=bucket, Key="secret", **ssec())["SSECustomerKeyMD5"] == md5_b64(KEY)


def test_a_configuration_without_the_element_keeps_the_setting(s3, bucket):
    # [KEEP] blocked stays blocked...
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/k"}}]})
    assert rule(s3, bucket)["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}
    # ... and allowed stays allowed.
    allow_sse_c(s3, bucket, SSEAlgorithm="AES256")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]})
    got = rule(s3, bucket)
    assert got["BlockedEncryptionTypes"] == {"EncryptionType": ["NONE"]}
    assert got["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms"}
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", **ssec())


def test_encryption_types_s3_does_not_have_are_malformed(s3, bucket):
    # [BLOCK] valid values are NONE and SSE-C only (BlockedEncryptionTypes API reference).
    r = err(lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"BlockedEncryptionTypes": {"EncryptionType": ["SSE-KMS"]}}]}))
    assert r["Error"]["Code"] == "MalformedXML"
    assert rule(s3, bucket)["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}


def test_the_setting_survives_a_restart(nimbus_factory):
    srv = nimbus_factory()
    s3 = s3_client(srv.endpoint)
    opened, closed = f"b-{uuid.uuid4().hex[:12]}", f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=opened)
    s3.create_bucket(Bucket=closed)
    allow_sse_c(s3, opened)
    s3.put_object(Bucket=opened, Key="secret", Body=b"kept", **ssec())
    srv.restart()
    s3 = s3_client(srv.endpoint)
    assert rule(s3, opened)["BlockedEncryptionTypes"] == {"EncryptionType": ["NONE"]}
    assert rule(s3, closed)["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}
    # The object still needs its key, and only its key ([SSEC]).
    assert err(lambda: s3.get_object(Bucket=opened, Key="secret"))["Error"]["Code"] == "InvalidRequest"
    assert s3.get_object(Bucket=opened, Key="secret", **ssec())["Body"].read() == b"kept"
    assert err(lambda: s3.put_object(Bucket=closed, Key="k", Body=b"x", **ssec()))["Error"]["Code"] == "AccessDenied"


# ---- SSE-C writes -------------------------------------------------------------------

@pytest.mark.parametrize("headers, code, message, value", [
    ({**raw_ssec(), "x-amz-server-side-encryption": "AES256"}, "InvalidArgument",
     "Server Side Encryption with Customer provided key is incompatible with the encryption method specified", "AES256"),
    ({k: v for k, v in raw_ssec().items() if not k.endswith("algorithm")}, "InvalidArgument",
     "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.", None),
    ({"x-amz-server-side-encryption-customer-algorithm": "AES256"}, "InvalidArgument",
     "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.", None),
    (raw_ssec(algorithm="AES128"), "InvalidEncryptionAlgorithmError",
     "The Encryption request you specified is not valid. Supported value: AES256.", "AES128"),
    (raw_ssec(key=bytes(10)), "InvalidArgument", "The secret key was invalid for the specified algorithm.", None),
    (raw_ssec(md5=md5_b64(OTHER)), "InvalidArgument",
     "The calculated MD5 hash of the key did not match the hash that was provided.", None),
    ({k: v for k, v in raw_ssec().items() if not k.endswith("MD5")}, "InvalidArgument",
     "The calculated MD5 hash of the key did not match the hash that was provided.", None),
])
def test_write_headers_are_checked(s3, open_bucket, headers, code, message, value):
    # [LS] validate_sse_c: each case, its code, message and ArgumentName.
    r = signed(s3.meta.endpoint_url, "PUT", f"/{open_bucket}/k", headers=headers, data=b"x")
    assert r.status_code == 400, r.text
    e = xml_error(r)
    assert (e["Code"], e["Message"], e.get("ArgumentName")) == (code, message, "x-amz-server-side-encryption")
    assert e.get("ArgumentValue") == value
    assert "Contents" not in s3.list_objects_v2(Bucket=open_bucket)


def test_a_write_echoes_the_key_and_keeps_only_its_md5(s3, open_bucket, local_server):
    # A random key: the shared server's data directory holds other tests' bodies.
    key = os.urandom(32)
    put = s3.put_object(Bucket=open_bucket, Key="k", Body=b"secret body", **ssec(key))
    # [SSEC] the algorithm and the key's MD5 come back; [LS] no x-amz-server-side-encryption.
    assert (put["SSECustomerAlgorithm"], put["SSECustomerKeyMD5"]) == ("AES256", md5_b64(key))
    assert "ServerSideEncryption" not in put
    # The key itself is nowhere in the data directory (S3 "does not store the
    # encryption key that you provide").
    key_b64 = base64.b64encode(key)
    for root, _, files in os.walk(local_server.data_dir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                data = fh.read()
            assert key not in data and key_b64 not in data, f


# ---- SSE-C reads ---------------------------------------------------------------------

@pytest.fixture
def secret(s3, open_bucket):
    s3.put_object(Bucket=open_bucket, Key="secret", Body=b"hidden", **ssec())
    s3.put_object(Bucket=open_bucket, Key="plain", Body=b"open")
    return open_bucket


def test_a_read_needs_the_key(s3, secret):
    # [LS]/[SSEC] no key: 400 InvalidRequest.
    r = err(lambda: s3.get_object(Bucket=secret, Key="secret"))
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]) == (400, "InvalidRequest", NO_KEY_MSG)
    # A HEAD error has no body: botocore only sees the status.
    r = err(lambda: s3.head_object(Bucket=secret, Key="secret"))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 400
    # [LS] another key: 403 AccessDenied.
    r = err(lambda: s3.get_object(Bucket=secret, Key="secret", **ssec(OTHER)))
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]) == (403, "AccessDenied", WRONG_KEY_MSG)
    assert err(lambda: s3.head_object(Bucket=secret, Key="secret", **ssec(OTHER)))["ResponseMetadata"]["HTTPStatusCode"] == 403
    # [LS] a key for an object that has none: 400 InvalidRequest.
    r = err(lambda: s3.get_object(Bucket=secret, Key="plain", **ssec()))
    assert (r["Error"]["Code"], r["Error"]["Message"]) == ("InvalidRequest", "The encryption parameters are not applicable to this object.")
    assert err(lambda: s3.head_object(Bucket=secret, Key="plain", **ssec()))["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_read_with_the_key(s3, secret, endpoint):
    got = s3.get_object(Bucket=secret, Key="secret", **ssec())
    assert got["Body"].read() == b"hidden"
    # [SSEC] the response confirms the algorithm and the key's MD5.
    assert (got["SSECustomerAlgorithm"], got["SSECustomerKeyMD5"]) == ("AES256", md5_b64(KEY))
    assert "ServerSideEncryption" not in got
    head = s3.head_object(Bucket=secret, Key="secret", **ssec())
    assert (head["SSECustomerAlgorithm"], head["SSECustomerKeyMD5"], head["ContentLength"]) == ("AES256", md5_b64(KEY), 6)
    assert s3.get_object(Bucket=secret, Key="secret", Range="bytes=1-2", **ssec())["Body"].read() == b"id"
    # Raw HEAD without the key: 400 and no body.
    r = signed(endpoint, "HEAD", f"/{secret}/secret")
    assert r.status_code == 400 and r.content == b""
    # Plain objects read as before.
    assert s3.get_object(Bucket=secret, Key="plain")["Body"].read() == b"open"


def test_deleting_and_listing_need_no_key(s3, secret):
    assert {o["Key"] for o in s3.list_objects_v2(Bucket=secret)["Contents"]} == {"plain", "secret"}
    s3.delete_object(Bucket=secret, Key="secret")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=secret)["Contents"]] == ["plain"]


# ---- copies --------------------------------------------------------------------------

def test_copy_from_an_sse_c_object_needs_its_key(s3, secret):
    src = {"Bucket": secret, "Key": "secret"}
    # [SSEC] "you must provide the necessary encryption information in your request so
    # that Amazon S3 can decrypt the object for copying"; the read errors apply.
    r = err(lambda: s3.copy_object(Bucket=secret, Key="c", CopySource=src))
    assert (r["Error"]["Code"], r["Error"]["Message"]) == ("InvalidRequest", NO_KEY_MSG)
    r = err(lambda: s3.copy_object(Bucket=secret, Key="c", CopySource=src, **copy_ssec(OTHER)))
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]) == (403, "AccessDenied")
    # With the key, and no SSE-C for the copy: a plain (SSE-S3) object [LS].
    out = s3.copy_object(Bucket=secret, Key="c", CopySource=src, **copy_ssec())
    assert "SSECustomerAlgorithm" not in out
    assert s3.get_object(Bucket=secret, Key="c")["Body"].read() == b"hidden"
    # Onto itself with a new key (key rotation): the object now needs the new one.
    out = s3.copy_object(Bucket=secret, Key="secret", CopySource=src, **copy_ssec(), **ssec(OTHER))
    assert out["SSECustomerKeyMD5"] == md5_b64(OTHER)
    assert s3.get_object(Bucket=secret, Key="secret", **ssec(OTHER))["Body"].read() == b"hidden"
    assert err(lambda: s3.get_object(Bucket=secret, Key="secret", **ssec()))["Error"]["Code"] == "AccessDenied"
    # A plain source with a copy-source key: not applicable.
    r = err(lambda: s3.copy_object(Bucket=secret, Key="c2", CopySource={"Bucket": secret, "Key": "plain"}, **copy_ssec()))
    assert r["Error"]["Code"] == "InvalidRequest"


# ---- multipart -----------------------------------------------------------------------

def test_multipart_upload_with_sse_c(s3, open_bucket):
    part1, part2 = os.urandom(5 * 1024 * 1024), b"tail"
    created = s3.create_multipart_upload(Bucket=open_bucket, Key="mp", **ssec())
    assert (created["SSECustomerAlgorithm"], created["SSECustomerKeyMD5"]) == ("AES256", md5_b64(KEY))
    uid = created["UploadId"]
    # [PART] each part must carry the upload's key.
    r = err(lambda: s3.upload_part(Bucket=open_bucket, Key="mp", UploadId=uid, PartNumber=1, Body=part1))
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]) == (
        400, "InvalidRequest",
        "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.")
    r = err(lambda: s3.upload_part(Bucket=open_bucket, Key="mp", UploadId=uid, PartNumber=1, Body=part1, **ssec(OTHER)))
    assert (r["Error"]["Code"], r["Error"]["Message"]) == (
        "InvalidRequest", "The provided encryption parameters did not match the ones used originally.")
    p1 = s3.upload_part(Bucket=open_bucket, Key="mp", UploadId=uid, PartNumber=1, Body=part1, **ssec())
    assert p1["SSECustomerKeyMD5"] == md5_b64(KEY)
    p2 = s3.upload_part(Bucket=open_bucket, Key="mp", UploadId=uid, PartNumber=2, Body=part2, **ssec())
    s3.complete_multipart_upload(Bucket=open_bucket, Key="mp", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
    # The completed object is SSE-C.
    assert err(lambda: s3.head_object(Bucket=open_bucket, Key="mp"))["ResponseMetadata"]["HTTPStatusCode"] == 400
    got = s3.get_object(Bucket=open_bucket, Key="mp", **ssec())
    assert got["Body"].read() == part1 + part2 and got["SSECustomerKeyMD5"] == md5_b64(KEY)


def test_parts_of_a_plain_upload_take_no_key(s3, open_bucket):
    uid = s3.create_multipart_upload(Bucket=open_bucket, Key="mp")["UploadId"]
    # [PART] SSE-C on a part of an upload started without it.
    r = err(lambda: s3.upload_part(Bucket=open_bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"x", **ssec()))
    assert r["Error"]["Code"] == "InvalidRequest"
    s3.abort_multipart_upload(Bucket=open_bucket, Key="mp", UploadId=uid)


def test_upload_part_copy_from_an_sse_c_object(s3, secret):
    created = s3.create_multipart_upload(Bucket=secret, Key="mp", **ssec(OTHER))
    uid = created["UploadId"]
    src = {"Bucket": secret, "Key": "secret"}
    # The source needs its key; the part needs the upload's.
    r = err(lambda: s3.upload_part_copy(Bucket=secret, Key="mp", UploadId=uid, PartNumber=1, CopySource=src, **ssec(OTHER)))
    assert (r["Error"]["Code"], r["Error"]["Message"]) == ("InvalidRequest", NO_KEY_MSG)
    r = err(lambda: s3.upload_part_copy(Bucket=secret, Key="mp", UploadId=uid, PartNumber=1, CopySource=src, **copy_ssec()))
    assert r["Error"]["Code"] == "InvalidRequest"
    part = s3.upload_part_copy(Bucket=secret, Key="mp", UploadId=uid, PartNumber=1, CopySource=src, **copy_ssec(), **ssec(OTHER))
    s3.complete_multipart_upload(Bucket=secret, Key="mp", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=secret, Key="mp", **ssec(OTHER))["Body"].read() == b"hidden"


def test_a_blocked_bucket_refuses_parts_with_sse_c(s3, open_bucket):
    uid = s3.create_multipart_upload(Bucket=open_bucket, Key="mp", **ssec())["UploadId"]
    s3.put_bucket_encryption(Bucket=open_bucket, ServerSideEncryptionConfiguration={"Rules": [BLOCK]})
    # UploadPart API reference: with SSE-C blocked, "you will get an HTTP 403 Access
    # Denied error when you specify the SSE-C request headers".
    r = err(lambda: s3.upload_part(Bucket=open_bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"x", **ssec()))
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]) == (403, "AccessDenied")
    s3.abort_multipart_upload(Bucket=open_bucket, Key="mp", UploadId=uid)


# ---- the aws CLI ---------------------------------------------------------------------

def test_aws_cli_sse_c(aws_cli, s3, bucket, tmp_path):
    key_file = tmp_path / "key.bin"
    key_file.write_bytes(KEY)
    src = tmp_path / "f.txt"
    src.write_bytes(b"cli secret")
    sse_c = ["--sse-c", "AES256", "--sse-c-key", f"fileb://{key_file}"]
    # [BLOCK] a new bucket refuses it.
    code, _, stderr = aws_cli("s3", "cp", str(src), f"s3://{bucket}/f.txt", *sse_c, "--only-show-errors", check=False)
    assert code != 0 and "AccessDenied" in stderr
    config = json.dumps({"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, **ALLOW}]})
    aws_cli("s3api", "put-bucket-encryption", "--bucket", bucket, "--server-side-encryption-configuration", config)
    _, got, _ = aws_cli("s3api", "get-bucket-encryption", "--bucket", bucket)
    assert got["ServerSideEncryptionConfiguration"]["Rules"][0]["BlockedEncryptionTypes"] == {"EncryptionType": ["NONE"]}
    aws_cli("s3", "cp", str(src), f"s3://{bucket}/f.txt", *sse_c, "--only-show-errors")
    out = tmp_path / "out.txt"
    aws_cli("s3", "cp", f"s3://{bucket}/f.txt", str(out), *sse_c, "--only-show-errors")
    assert out.read_bytes() == b"cli secret"
    code, _, stderr = aws_cli("s3", "cp", f"s3://{bucket}/f.txt", str(tmp_path / "no.txt"), "--only-show-errors", check=False)
    assert code != 0 and "400" in stderr
    _, head, _ = aws_cli("s3api", "head-object", "--bucket", bucket, "--key", "f.txt",
                         "--sse-customer-algorithm", "AES256", "--sse-customer-key", f"fileb://{key_file}")
    assert head["SSECustomerKeyMD5"] == md5_b64(KEY)
