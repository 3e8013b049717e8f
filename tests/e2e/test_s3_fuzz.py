"""Bad input never breaks S3: random methods, paths, sub-resources, headers and
bodies (signed and unsigned) get a 4xx/501 with an S3 error document, never a 5xx,
a dropped connection or an error without a message (boto3 shows "Unknown" then)."""

from __future__ import annotations

import random
import re
import uuid

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SUBRESOURCES = [
    "", "acl", "tagging", "versioning", "cors", "website", "policy", "lifecycle", "notification", "uploads",
    "uploadId=zz&partNumber=1", "partNumber=0", "partNumber=abc", "versionId=", "versionId=%ff",
    "list-type=2&max-keys=-1", "list-type=2&continuation-token=%%%", "delete", "restore", "retention",
    "legal-hold", "object-lock", "select&select-type=2", "attributes", "encoding-type=bogus",
    "max-keys=999999999999999999999", "prefix=%00", "location", "publicAccessBlock", "ownershipControls",
    "policyStatus", "uploadId=" + "a" * 5000, "response-content-type=%0d%0a", "torrent", "accelerate",
    "logging", "replication", "requestPayment", "analytics&id=1",
]
HEADERS = [
    ("x-amz-copy-source", "{bucket}/k"), ("x-amz-copy-source", "%%%"), ("x-amz-copy-source", "/nob/x"),
    ("range", "bytes=9-1"), ("range", "bytes=abc"), ("range", "bytes=-0"), ("if-match", "*"),
    ("if-modified-since", "garbage"), ("content-md5", "zzz"), ("content-md5", "AAAAAAAAAAAAAAAAAAAAAA=="),
    ("x-amz-checksum-crc32", "!!"), ("x-amz-sdk-checksum-algorithm", "MD4"), ("x-amz-storage-class", "BOGUS"),
    ("x-amz-acl", "bogus"), ("x-amz-meta-" + "m" * 3000, "v"), ("x-amz-object-lock-mode", "NOPE"),
    ("x-amz-object-lock-retain-until-date", "yesterday"), ("x-amz-tagging", "a=%zz"),
    ("x-amz-website-redirect-location", "nope"), ("x-amz-server-side-encryption", "ROT13"), ("x-amz-mfa", "x"),
    ("x-amz-bypass-governance-retention", "maybe"), ("expires", "never"),
    ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("content-encoding", "aws-chunked"),
    ("x-amz-decoded-content-length", "-5"), ("x-amz-expected-bucket-owner", "1"),
    ("x-amz-copy-source-range", "bytes=5-1"),
]
BODIES = [
    b"", b"<", b"<x/>", b"<?xml version='1.0'?><Delete><Object></Object></Delete>", b"\xff" * 100,
    b"<CORSConfiguration><CORSRule></CORSRule></CORSConfiguration>", b"{", b'{"Statement":[]}',
    b"<Tagging><TagSet><Tag><Key></Key></Tag></TagSet></Tagging>", b"0\r\n\r\n", b"zz\r\nabc\r\n",
    b"<LifecycleConfiguration><Rule><Status>Enabled</Status></Rule></LifecycleConfiguration>",
    b"<CompleteMultipartUpload/>", bytes(range(256)) * 12,
]


def test_random_bad_requests_get_s3_errors(s3, endpoint):
    bucket = f"fuzz-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    paths = ["/", f"/{bucket}", f"/{bucket}/", f"/{bucket}/k", f"/{bucket}/%ff%fe", f"/{bucket}/" + "a" * 1100,
             "/FZ", f"/{bucket}/../k", "/no-such-bucket-here/k", f"/{bucket}/k%00", "/a", "/" + "b" * 70, f"/{bucket}//k"]
    creds = Credentials("test", "test")
    rng = random.Random(20261127)
    problems = []
    with requests.Session() as http:
        for _ in range(600):
            method = rng.choice(["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"])
            url = endpoint + rng.choice(paths) + ("?" + rng.choice(SUBRESOURCES) if rng.random() < 0.8 else "")
            headers = {k: v.format(bucket=bucket) for k, v in rng.sample(HEADERS, rng.randint(0, 3))}
            body = rng.choice(BODIES)
            req = AWSRequest(method=method, url=url, data=body, headers=headers)
            if rng.random() < 0.9:
                req.headers["x-amz-content-sha256"] = headers.get("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
                SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
            prepared = req.prepare()
            try:
                r = http.request(method, prepared.url, headers=dict(prepared.headers), data=body, timeout=10)
            except requests.RequestException as e:
                problems.append(f"{method} {url} {headers}: {type(e).__name__}")
                continue
            if r.status_code >= 500 and r.status_code != 501:
                problems.append(f"{method} {url} {headers}: {r.status_code} {r.text[:200]}")
            elif r.status_code >= 400 and method != "HEAD" and "<Code>" in r.text and "<Message>" not in r.text:
                found = re.search("<Code>(.*?)</Code>", r.text)
                problems.append(f"{method} {url}: {found.group(1) if found else r.text[:80]} without a message")
    assert not problems, "\n".join(problems[:20])
    # The server still works normally (the random DELETEs may have removed the bucket).
    after = f"fuzz-after-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=after)
    s3.put_object(Bucket=after, Key="k", Body=b"still here")
    assert s3.get_object(Bucket=after, Key="k")["Body"].read() == b"still here"


def test_errors_before_the_body_is_read_keep_clients_working(s3, endpoint):
    """A PUT S3 refuses before reading its body (no such bucket, bad signature) still
    gets S3's error, not a reset connection, and the client's next request works."""
    import botocore.exceptions
    import pytest

    missing = f"missing-{uuid.uuid4().hex[:10]}"
    # boto3 (it sends Expect: 100-continue for large bodies) and a body of 3 MiB.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=missing, Key="big", Body=b"x" * (3 << 20))
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"

    # A keep-alive session, bodies of several sizes and no Expect header: each answer
    # is S3's error, and the connection is either kept (the body was read) or closed
    # cleanly, never reset under the client.
    creds = Credentials("test", "test")
    with requests.Session() as http:
        for i in range(12):
            size = (3000, 60_000, 200_000)[i % 3]
            req = AWSRequest(method="PUT", url=f"{endpoint}/{missing}/k", data=b"y" * size,
                             headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
            SigV4Auth(creds if i % 2 else Credentials("test", "wrong-secret"), "s3", "us-east-1").add_auth(req)
            p = req.prepare()
            r = http.put(p.url, headers=dict(p.headers), data=b"y" * size, timeout=10)
            if i % 2:
                assert r.status_code == 404 and "<Code>NoSuchBucket</Code>" in r.text
            else:
                assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text
