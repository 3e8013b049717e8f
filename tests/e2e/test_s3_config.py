"""Bucket sub-resources end to end, from AWS's S3 API reference: bucket tagging,
bucket policy, object tagging (including the x-amz-tagging header) and CORS
(configuration, browser preflight, headers on actual responses, a presigned PUT
from another origin)."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from test_s3_basics import s3_client


def err(call):
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message")


# ---- bucket tagging -------------------------------------------------------

def test_bucket_tagging(s3, bucket):
    assert err(lambda: s3.get_bucket_tagging(Bucket=bucket))[:2] == ("NoSuchTagSet", 404)
    tags = [{"Key": "team", "Value": "core"}, {"Key": "env", "Value": ""}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "only", "Value": "1"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "only", "Value": "1"}]
    s3.delete_bucket_tagging(Bucket=bucket)
    assert err(lambda: s3.get_bucket_tagging(Bucket=bucket))[0] == "NoSuchTagSet"
    s3.delete_bucket_tagging(Bucket=bucket)  # idempotent


def test_bucket_tagging_errors(s3, bucket):
    dup = [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]
    assert err(lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": dup}))[:2] == ("InvalidTag", 400)
    assert err(lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "aws:x", "Value": "1"}]}))[0] == "InvalidTag"
    assert err(lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k" * 129, "Value": "1"}]}))[0] == "InvalidTag"
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert err(lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": many}))[0] == "InvalidTag"
    assert err(lambda: s3.get_bucket_tagging(Bucket="no-such-bucket-zz9"))[0] == "NoSuchBucket"


# ---- bucket policy --------------------------------------------------------

def policy_for(bucket):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
                       "Resource": [f"arn:aws:s3:::{bucket}/*"]}],
    })


def test_bucket_policy(s3, bucket):
    assert err(lambda: s3.get_bucket_policy(Bucket=bucket))[:2] == ("NoSuchBucketPolicy", 404)
    p = policy_for(bucket)
    # A public policy needs the bucket's Block Public Access (on by default) removed first.
    s3.delete_public_access_block(Bucket=bucket)
    r = s3.put_bucket_policy(Bucket=bucket, Policy=p)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == p
    s3.delete_bucket_policy(Bucket=bucket)
    assert err(lambda: s3.get_bucket_policy(Bucket=bucket))[0] == "NoSuchBucketPolicy"


def test_malformed_policy(s3, bucket):
    code, status, msg = err(lambda: s3.put_bucket_policy(Bucket=bucket, Policy="not json"))
    assert (code, status) == ("MalformedPolicy", 400) and msg
    assert err(lambda: s3.put_bucket_policy(Bucket=bucket, Policy='{"Version":"2012-10-17"}'))[0] == "MalformedPolicy"
    no_effect = json.dumps({"Statement": [{"Principal": "*", "Action": "s3:*", "Resource": "*"}]})
    assert err(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=no_effect))[0] == "MalformedPolicy"
    assert err(lambda: s3.get_bucket_policy(Bucket=bucket))[0] == "NoSuchBucketPolicy"


def test_config_removed_with_bucket(s3):
    name = f"gone-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.delete_public_access_block(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=policy_for(name))
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    assert err(lambda: s3.get_bucket_policy(Bucket=name))[0] == "NoSuchBucketPolicy"
    assert err(lambda: s3.get_bucket_tagging(Bucket=name))[0] == "NoSuchTagSet"


# ---- object tagging -------------------------------------------------------

def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    tags = [{"Key": "colour", "Value": "blue"}, {"Key": "size", "Value": "L"}]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tags})
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == tags
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 2
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    r = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="k")
    assert err(lambda: s3.get_object_tagging(Bucket=bucket, Key="missing"))[0] == "NoSuchKey"
    assert err(lambda: s3.put_object_tagging(Bucket=bucket, Key="missing", Tagging={"TagSet": tags}))[0] == "NoSuchKey"
    eleven = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    assert err(lambda: s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": eleven}))[:2] == ("InvalidTag", 400)


def test_tagging_header_on_put_copy_and_multipart(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="project=nimbus&note=a%20b")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "project", "Value": "nimbus"}, {"Key": "note", "Value": "a b"}]
    # Copies keep the source's tags unless TaggingDirective=REPLACE.
    s3.copy_object(Bucket=bucket, Key="c1", CopySource={"Bucket": bucket, "Key": "k"})
    assert len(s3.get_object_tagging(Bucket=bucket, Key="c1")["TagSet"]) == 2
    s3.copy_object(Bucket=bucket, Key="c2", CopySource={"Bucket": bucket, "Key": "k"},
                   TaggingDirective="REPLACE", Tagging="x=y")
    assert s3.get_object_tagging(Bucket=bucket, Key="c2")["TagSet"] == [{"Key": "x", "Value": "y"}]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="m=1")["UploadId"]
    p = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"abc")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="mp")["TagSet"] == [{"Key": "m", "Value": "1"}]
    # Overwriting an object replaces its tags.
    s3.put_object(Bucket=bucket, Key="k", Body=b"y")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    assert err(lambda: s3.put_object(Bucket=bucket, Key="bad", Body=b"x", Tagging="a=1&a=2"))[0] == "InvalidTag"


# ---- CORS -----------------------------------------------------------------

CORS = {"CORSRules": [
    {"ID": "uploads", "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT", "GET"],
     "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]},
]}


def test_cors_configuration(s3, bucket):
    assert err(lambda: s3.get_bucket_cors(Bucket=bucket))[:2] == ("NoSuchCORSConfiguration", 404)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=CORS)
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules[0] == {"ID": "uploads", "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT", "GET"],
                        "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}
    assert rules[1] == {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]}
    bad = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}
    assert err(lambda: s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=bad))[:2] == ("InvalidRequest", 400)
    s3.delete_bucket_cors(Bucket=bucket)
    assert err(lambda: s3.get_bucket_cors(Bucket=bucket))[0] == "NoSuchCORSConfiguration"


def test_preflight(s3, endpoint, bucket):
    url = f"{endpoint}/{bucket}/photo.jpg"
    pre = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
           "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"}
    r = requests.options(url, headers=pre)
    assert r.status_code == 403 and "<Code>AccessForbidden</Code>" in r.text
    assert "CORS is not enabled" in r.text
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=CORS)
    r = requests.options(url, headers=pre)
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Allow-Methods"] == "PUT, GET"
    assert r.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-date"
    assert r.headers["Access-Control-Expose-Headers"] == "ETag"
    assert r.headers["Access-Control-Max-Age"] == "600"
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in r.headers["Vary"]
    # No rule allows this origin / method / header.
    for bad in [dict(pre, Origin="https://evil.example.org"), dict(pre, **{"Access-Control-Request-Method": "DELETE"}),
                dict(pre, **{"Access-Control-Request-Headers": "authorization"})]:
        r = requests.options(url, headers=bad)
        assert r.status_code == 403 and "<Code>AccessForbidden</Code>" in r.text, bad
        assert "Access-Control-Allow-Origin" not in r.headers
    # The wildcard rule answers "*".
    r = requests.options(url, headers={"Origin": "https://any.where", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers
    # Malformed preflights.
    assert requests.options(url, headers={"Access-Control-Request-Method": "GET"}).status_code == 400
    assert requests.options(url, headers={"Origin": "https://a.b"}).status_code == 400
    r = requests.options(f"{endpoint}/no-such-bucket-zz9/k", headers=pre)
    assert r.status_code == 403


def test_presigned_put_from_another_origin(s3, endpoint, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=CORS)
    signer = s3_client(endpoint, sig="s3v4")
    url = signer.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "upload.jpg", "ContentType": "image/jpeg"})
    origin = "https://app.example.com"
    r = requests.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "PUT",
                                       "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200
    r = requests.put(url, data=b"jpeg bytes", headers={"Origin": origin, "Content-Type": "image/jpeg"})
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert r.headers["Access-Control-Expose-Headers"] == "ETag"
    assert r.headers["ETag"]
    assert s3.get_object(Bucket=bucket, Key="upload.jpg")["Body"].read() == b"jpeg bytes"
    # GET from any origin matches the wildcard rule; a disallowed method gets no CORS headers.
    get = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "upload.jpg"})
    r = requests.get(get, headers={"Origin": "https://elsewhere.example"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    r = requests.get(get)
    assert "Access-Control-Allow-Origin" not in r.headers
    dele = signer.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": "upload.jpg"})
    r = requests.delete(dele, headers={"Origin": origin})
    assert r.status_code == 204 and "Access-Control-Allow-Origin" not in r.headers


def test_request_id_headers(s3, bucket):
    r = s3.head_bucket(Bucket=bucket)
    h = r["ResponseMetadata"]["HTTPHeaders"]
    assert len(h["x-amz-request-id"]) == 16 and h["x-amz-id-2"]
