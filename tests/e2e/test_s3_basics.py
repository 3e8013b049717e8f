"""S3 end to end with boto3, the aws CLI and plain HTTP, written from AWS's S3
API reference: buckets, objects, listings, multipart, presigned URLs, virtual
hosts, error codes and kill -9 durability."""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import subprocess
import time
import urllib.parse
import uuid

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

import nimbus_helpers as h


def s3_client(endpoint, key="test", secret="test", style="path", sig=None, region="us-east-1"):
    cfg = {"s3": {"addressing_style": style}, "retries": {"max_attempts": 1}}
    if sig:
        cfg["signature_version"] = sig
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=key,
        aws_secret_access_key=secret, config=Config(**cfg),
    )


def code(exc):
    return exc.response["Error"]["Code"]


def status(exc):
    return exc.response["ResponseMetadata"]["HTTPStatusCode"]


def test_bucket_lifecycle(s3):
    name = f"life-{uuid.uuid4().hex[:10]}"
    r = s3.create_bucket(Bucket=name)
    assert r["Location"] == f"/{name}"
    s3.head_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    # "if you re-create an existing bucket that you already own in the North Virginia
    # Region, Amazon S3 returns 200 OK" (CreateBucket, BucketAlreadyOwnedByYou).
    assert s3.create_bucket(Bucket=name)["Location"] == f"/{name}"
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert code(e.value) == "BucketNotEmpty" and status(e.value) == 409
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert status(e.value) == 404
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=name)
    assert code(e.value) == "NoSuchBucket"


def test_location_constraint(s3):
    name = f"eu-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"


def test_invalid_bucket_name(s3):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="Bad_Name")
    assert code(e.value) == "InvalidBucketName" and status(e.value) == 400
    # S3 always sends a message (boto3 shows "Unknown" when there is none).
    assert e.value.response["Error"]["Message"] == "The specified bucket is not valid."


def test_put_get_head_with_metadata(s3, bucket):
    body = os.urandom(10_000)
    r = s3.put_object(Bucket=bucket, Key="dir/file.bin", Body=body, ContentType="image/png",
                      Metadata={"Owner": "alice"}, CacheControl="max-age=60",
                      ContentDisposition="attachment", ContentEncoding="identity")
    assert r["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    g = s3.get_object(Bucket=bucket, Key="dir/file.bin")
    assert g["Body"].read() == body
    assert g["ContentType"] == "image/png"
    assert g["Metadata"] == {"owner": "alice"}
    assert g["CacheControl"] == "max-age=60"
    assert g["ContentDisposition"] == "attachment"
    assert g["ContentLength"] == len(body)
    hd = s3.head_object(Bucket=bucket, Key="dir/file.bin")
    assert hd["ETag"] == r["ETag"] and hd["ContentLength"] == len(body)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="missing")
    assert code(e.value) == "NoSuchKey" and status(e.value) == 404
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="missing")
    assert status(e.value) == 404
    # empty object
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""


def test_content_md5(s3, bucket):
    good = base64.b64encode(hashlib.md5(b"hello").digest()).decode()
    s3.put_object(Bucket=bucket, Key="ok", Body=b"hello", ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"hello", ContentMD5=bad)
    assert code(e.value) == "BadDigest" and status(e.value) == 400
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad")


def test_range_and_conditions(s3, bucket):
    body = bytes(range(256)) * 4
    etag = s3.put_object(Bucket=bucket, Key="r", Body=body)["ETag"]
    g = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["Body"].read() == body[10:20]
    assert g["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")["Body"].read() == body[-5:]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=5000-6000")
    assert code(e.value) == "InvalidRange" and status(e.value) == 416
    assert s3.get_object(Bucket=bucket, Key="r", IfMatch=etag)["Body"].read() == body
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", IfMatch='"0000"')
    assert status(e.value) == 412
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", IfNoneMatch=etag)
    assert status(e.value) == 304
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", IfModifiedSince=future)
    assert status(e.value) == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", IfUnmodifiedSince=past)
    assert status(e.value) == 412
    assert s3.get_object(Bucket=bucket, Key="r", IfModifiedSince=past)["Body"].read() == body


def test_conditional_put(s3, bucket):
    s3.put_object(Bucket=bucket, Key="once", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="once", Body=b"2", IfNoneMatch="*")
    assert code(e.value) == "PreconditionFailed" and status(e.value) == 412
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"1"


def test_delete_objects(s3, bucket):
    for k in ["a", "b", "c"]:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "nope"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["a", "b", "nope"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in r
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    s3.delete_object(Bucket=bucket, Key="never-existed")


def test_copy_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"data", ContentType="text/plain", Metadata={"a": "1"})
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(b"data").hexdigest()
    g = s3.get_object(Bucket=bucket, Key="dst")
    assert g["Body"].read() == b"data" and g["Metadata"] == {"a": "1"} and g["ContentType"] == "text/plain"
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src", MetadataDirective="REPLACE",
                   Metadata={"b": "2"}, ContentType="application/json")
    g = s3.head_object(Bucket=bucket, Key="dst2")
    assert g["Metadata"] == {"b": "2"} and g["ContentType"] == "application/json"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"})
    assert code(e.value) == "InvalidRequest"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "missing"})
    assert code(e.value) == "NoSuchKey"


def test_listings(s3, bucket):
    keys = ["a/1", "a/2", "b", "c/x/1", "c/y", "d", "e f+g"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    r = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in r["Contents"]] == sorted(keys)
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["b", "d", "e f+g"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "c/"]
    r = s3.list_objects_v2(Bucket=bucket, Prefix="c/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["c/y"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["c/x/"]
    r = s3.list_objects_v2(Bucket=bucket, StartAfter="c/y")
    assert [o["Key"] for o in r["Contents"]] == ["d", "e f+g"]
    # pagination, v2 and v1
    seen, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket=bucket, MaxKeys=2, **kw)
        seen += [o["Key"] for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert seen == sorted(keys)
    pages = s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3})
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == sorted(keys)
    r = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert r["IsTruncated"] and r["NextMarker"] == "b"
    r = s3.list_objects(Bucket=bucket, Delimiter="/", Marker="b")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["c/"]


def test_multipart_upload_and_errors(s3, bucket):
    mp = s3.create_multipart_upload(Bucket=bucket, Key="big", ContentType="application/zip")
    uid = mp["UploadId"]
    p1 = os.urandom(5 * 1024 * 1024)
    p2 = os.urandom(1000)
    e1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="big", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, len(p1)), (2, len(p2))]
    ups = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["UploadId"] for u in ups] == [uid]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 3, "ETag": e2}]})
    assert code(e.value) == "InvalidPart"
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})
    assert code(e.value) == "InvalidPartOrder"
    r = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    md5s = hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest()
    assert r["ETag"] == f'"{md5s}-2"'
    g = s3.get_object(Bucket=bucket, Key="big")
    assert g["Body"].read() == p1 + p2 and g["ContentType"] == "application/zip"
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="big", UploadId=uid)
    assert code(e.value) == "NoSuchUpload"
    # EntityTooSmall: a non-last part under 5 MiB
    uid = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    a = s3.upload_part(Bucket=bucket, Key="small", UploadId=uid, PartNumber=1, Body=b"a")["ETag"]
    b = s3.upload_part(Bucket=bucket, Key="small", UploadId=uid, PartNumber=2, Body=b"b")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": a}, {"PartNumber": 2, "ETag": b}]})
    assert code(e.value) == "EntityTooSmall"
    s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=uid)
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=uid)
    assert code(e.value) == "NoSuchUpload"


def test_upload_download_file_multipart(s3, bucket, tmp_path):
    from boto3.s3.transfer import TransferConfig
    src = tmp_path / "src.bin"
    data = os.urandom(20 * 1024 * 1024)
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(str(src), bucket, "file.bin", Config=cfg)
    assert s3.head_object(Bucket=bucket, Key="file.bin")["ETag"].endswith('-4"')
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "file.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data


def test_presigned_get_and_put(endpoint, s3, bucket):
    signer = s3_client(endpoint, sig="s3v4")
    url = signer.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up.txt"}, ExpiresIn=300)
    r = requests.put(url, data=b"uploaded")
    assert r.status_code == 200, r.text
    url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "up.txt"}, ExpiresIn=300)
    r = requests.get(url)
    assert r.status_code == 200 and r.content == b"uploaded"
    # tampering is rejected
    r = requests.get(url.replace("up.txt", "other.txt"))
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text
    # expired
    url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "up.txt"}, ExpiresIn=1)
    time.sleep(2)
    r = requests.get(url)
    assert r.status_code == 403 and "AccessDenied" in r.text
    # boto3's default presigner (SigV2) works too
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "up.txt"}, ExpiresIn=300)
    r = requests.get(url)
    assert r.status_code == 200 and r.content == b"uploaded"


def test_sigv2_bucket_requests(endpoint, s3, bucket):
    """Signature V2 signs a request to a bucket itself over `/<bucket>/` even when the
    URL is `/<bucket>` (AWS's V2 reference: a bucket root's CanonicalizedResource is
    `/bucket/`; botocore signs its auth_path `/<bucket>/` "to generate a signature
    that the server will accept"). boto3's default presigner is V2, so a presigned
    listing of a bucket made with it must work through plain HTTP."""
    s3.put_object(Bucket=bucket, Key="v2/a b+c.txt", Body=b"1")
    for op in ["list_objects", "list_objects_v2", "get_bucket_acl", "get_bucket_location"]:
        url = s3.generate_presigned_url(op, Params={"Bucket": bucket}, ExpiresIn=300)
        assert "AWSAccessKeyId=" in url and f"/{bucket}?" in url
        r = requests.get(url)
        assert r.status_code == 200, (op, r.text)
    r = requests.get(s3.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket, "Prefix": "v2/"}, ExpiresIn=300))
    # boto3 asks for EncodingType=url; it decodes keys with unquote_plus.
    keys = [urllib.parse.unquote_plus(k.split("</Key>")[0]) for k in r.text.split("<Key>")[1:]]
    assert keys == ["v2/a b+c.txt"], r.text
    # Tampering with a signed sub-resource is still caught.
    url = s3.generate_presigned_url("get_bucket_acl", Params={"Bucket": bucket}, ExpiresIn=300)
    r = requests.get(url.replace("?acl", "?policy"))
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text
    # The same requests signed in the Authorization header (signature_version "s3").
    v2 = s3_client(endpoint, sig="s3")
    assert [o["Key"] for o in v2.list_objects_v2(Bucket=bucket, Prefix="v2/")["Contents"]] == ["v2/a b+c.txt"]
    v2.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert v2.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError) as e:
        s3_client(endpoint, secret="wrong", sig="s3").list_objects_v2(Bucket=bucket)
    assert code(e.value) == "SignatureDoesNotMatch" and status(e.value) == 403


def test_wrong_secret_rejected(endpoint, bucket):
    bad = s3_client(endpoint, secret="wrong")
    with pytest.raises(ClientError) as e:
        bad.list_objects_v2(Bucket=bucket)
    assert code(e.value) == "SignatureDoesNotMatch" and status(e.value) == 403
    assert e.value.response["Error"]["Message"].startswith(
        "The request signature we calculated does not match the signature you provided."
    )


@pytest.mark.parametrize("host_fmt", ["{b}.s3.localhost:{p}", "{b}.s3.us-east-1.localhost:{p}",
                                      "{b}.s3.localhost.localstack.cloud:{p}"])
def test_virtual_host_addressing(server, s3, bucket, host_fmt):
    if server is None:
        pytest.skip("needs the local server's port")
    s3.put_object(Bucket=bucket, Key="vh/key.txt", Body=b"virtual")
    host = host_fmt.format(b=bucket, p=server.port)
    r = requests.get(f"{server.endpoint}/vh/key.txt", headers={"Host": host})
    assert r.status_code == 200 and r.content == b"virtual"
    r = requests.put(f"{server.endpoint}/vh/new.txt", data=b"n", headers={"Host": host})
    assert r.status_code == 200
    assert s3.get_object(Bucket=bucket, Key="vh/new.txt")["Body"].read() == b"n"
    r = requests.get(f"{server.endpoint}/?list-type=2", headers={"Host": host})
    assert r.status_code == 200 and "<Key>vh/key.txt</Key>" in r.text


def test_virtual_host_signed(server, bucket):
    """boto3 in virtual-host style, its connections aimed at the server."""
    if server is None:
        pytest.skip("needs the local server's port")
    c = s3_client(f"http://s3.localhost.localstack.cloud:{server.port}", style="virtual")

    def redirect(request, **kwargs):
        request.headers["Host"] = request.url.split("/")[2]
        request.url = request.url.replace(request.url.split("/")[2], f"127.0.0.1:{server.port}", 1)

    c.meta.events.register_first("before-send.s3", redirect)
    c.put_object(Bucket=bucket, Key="signed-vh", Body=b"ok")
    assert c.get_object(Bucket=bucket, Key="signed-vh")["Body"].read() == b"ok"


def test_aws_cli(endpoint, aws_env, tmp_path):
    exe = h.aws_executable()
    if not exe:
        pytest.skip("the aws CLI is not installed")
    name = f"cli-{uuid.uuid4().hex[:10]}"

    def aws(*args):
        p = subprocess.run([exe, *args, "--endpoint-url", endpoint], capture_output=True, text=True, env=aws_env, timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stdout

    aws("s3", "mb", f"s3://{name}")
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "sub" / "b.txt").write_text("B")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024))
    aws("s3", "cp", str(big), f"s3://{name}/big.bin")
    aws("s3", "sync", str(src), f"s3://{name}/tree")
    out = aws("s3", "ls", f"s3://{name}/tree/", "--recursive")
    assert "tree/a.txt" in out and "tree/sub/b.txt" in out
    aws("s3", "cp", f"s3://{name}/big.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()
    aws("s3", "rm", f"s3://{name}", "--recursive")
    assert aws("s3", "ls", f"s3://{name}", "--recursive").strip() == ""
    aws("s3", "rb", f"s3://{name}")


@pytest.mark.own_server
def test_kill9_durability(nimbus_factory):
    srv = nimbus_factory()
    c = s3_client(srv.endpoint)
    c.create_bucket(Bucket="durable")
    bodies = {f"k{i}": os.urandom(1000 + i) for i in range(50)}
    for k, v in bodies.items():
        c.put_object(Bucket="durable", Key=k, Body=v)
    uid = c.create_multipart_upload(Bucket="durable", Key="mp")["UploadId"]
    c.upload_part(Bucket="durable", Key="mp", UploadId=uid, PartNumber=1, Body=b"part")
    srv.kill()
    srv.restart()
    c = s3_client(srv.endpoint)
    for k, v in bodies.items():
        assert c.get_object(Bucket="durable", Key=k)["Body"].read() == v
    assert [p["PartNumber"] for p in c.list_parts(Bucket="durable", Key="mp", UploadId=uid)["Parts"]] == [1]
