"""S3 authentication and addressing variants that real clients produce, end to end.

Each test drives a real client (boto3, the aws CLI, curl) or hand-built requests
whose signatures follow AWS's published algorithms, and asserts what AWS does:

* Signature V2 in the Authorization header (boto3 ``signature_version="s3"``,
  s3cmd-style ``x-amz-date``, hand-signed requests from the V2 reference's own
  examples) across object, multipart and bucket sub-resource operations, in path
  and virtual-hosted style, with keys that need escaping.
* Signature V2 query authentication (boto3's default presigner in this botocore,
  ``aws s3 presign``), including session credentials (``x-amz-security-token``)
  and other ``x-amz-*`` values botocore moves into the query string.
* Signature V4 presigned URLs (bucket operations, special keys, response-*
  overrides, virtual hosts, multipart, the JS SDK v3 layout), session tokens,
  unsigned ``x-amz-*`` headers, and the streaming (aws-chunked) signed payloads
  with and without a signed trailer.
* curl's ``--aws-sigv4``.

Sources: the V2 reference ("Signing and authenticating REST requests",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html,
quoted from awsdocs/amazon-s3-developer-guide doc_source/RESTAuthentication.md),
the V4 references (sig-v4-header-based-auth.html, sigv4-query-string-auth.html,
sigv4-streaming.html, sigv4-streaming-trailers.html) and botocore's signers
(botocore/auth.py HmacV1Auth / HmacV1QueryAuth / S3SigV4Auth / S3SigV4QueryAuth,
botocore/handlers.py set_operation_specific_signer and the authPath handling).
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import hashlib
import hmac
import http.client
import json
import os
import shutil
import struct
import subprocess
import time
import urllib.parse
import uuid
import zlib

import boto3
import pytest
import requests
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

import nimbus_helpers as h

SECRET = "test"
REGION = "us-east-1"
# A session token shaped like STS's (base64 with '/', '+' and '='), so that its
# encoding in a query string matters.
STS_TOKEN = "IQoJb3JpZ2luX2VjEPT//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+abc/def+ghi=="
# Keys that need escaping, or that a normalizing server would mangle.
SPECIAL_KEYS = [
    "a b.txt",
    "a+b.txt",
    "t~ilde",
    "uni-\u00e9\u4e2d.txt",
    "pct%41.txt",
    "a//b.txt",
    "/leading.txt",
    "sp ace/+/~%/\u00e9",
    "a/./b",
    "a/../c",
    "q?x=1#h",
    "semi;colon&amp=x",
    "star*(paren)!'",
    "equals=a,b:c@d$",
    "trailing/",
]
RESPONSE_OVERRIDES = {
    "ResponseContentDisposition": 'attachment; filename="a b+c.txt"',
    "ResponseContentType": "text/x+y; charset=utf-8",
    "ResponseCacheControl": "no-cache",
    "ResponseContentLanguage": "en",
    "ResponseExpires": "Thu, 01 Dec 1994 16:00:00 GMT",
    "ResponseContentEncoding": "identity",
}


# --------------------------------------------------------------------------
# clients and raw requests
# --------------------------------------------------------------------------

def client(endpoint, sig=None, style="path", token=None, key="test"):
    cfg = {"s3": {"addressing_style": style}, "retries": {"max_attempts": 1}}
    if sig:
        cfg["signature_version"] = sig
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key,
        aws_secret_access_key=SECRET, aws_session_token=token, config=Config(**cfg),
    )


def vhost_client(server, sig=None, token=None):
    """boto3 in virtual-hosted style (Host `<bucket>.s3.localhost:<port>`), its
    connections aimed at the server (as test_s3_basics.test_virtual_host_signed)."""
    if server is None:
        pytest.skip("needs the local server's port")
    c = client(f"http://s3.localhost:{server.port}", sig=sig, style="virtual", token=token)

    def redirect(request, **kwargs):
        netloc = request.url.split("/")[2]
        request.headers["Host"] = netloc
        request.url = request.url.replace(netloc, f"127.0.0.1:{server.port}", 1)

    c.meta.events.register_first("before-send.s3", redirect)
    return c


def make_client(endpoint, server, style, sig=None, token=None):
    return vhost_client(server, sig, token) if style == "virtual" else client(endpoint, sig=sig, token=token)


def presigner(endpoint, server, style, sig=None, token=None):
    """A client whose generate_presigned_url makes URLs in `style`."""
    if style == "virtual":
        if server is None:
            pytest.skip("needs the local server's port")
        return client(f"http://s3.localhost:{server.port}", sig=sig, style="virtual", token=token)
    return client(endpoint, sig=sig, token=token)


def fetch(url, method="GET", endpoint=None, data=None, headers=None):
    """Send a presigned URL as is (no re-quoting). A URL on a virtual host is sent to
    `endpoint` with the virtual host in the Host header."""
    hdrs = dict(headers or {})
    parts = urllib.parse.urlsplit(url)
    if endpoint and parts.hostname not in ("127.0.0.1", "localhost"):
        hdrs["Host"] = parts.netloc
        url = url.replace(parts.netloc, urllib.parse.urlsplit(endpoint).netloc, 1)
    prepared = requests.Request(method, url, data=data, headers=hdrs).prepare()
    prepared.url = url
    with requests.Session() as s:
        return s.send(prepared, timeout=30)


def raw(endpoint, method, path, headers, body=b""):
    """One HTTP/1.1 request with exactly these headers (repeats allowed); returns
    (status, headers, body)."""
    netloc = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(netloc.hostname, netloc.port, timeout=30)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    names = {k.lower() for k, _ in headers}
    if "host" not in names:
        conn.putheader("Host", netloc.netloc)
    for k, v in headers:
        conn.putheader(k, v)
    if "content-length" not in names:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    out = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    conn.close()
    return out


def http_date(offset=0):
    return email.utils.formatdate(time.time() + offset, usegmt=True)


def v2_string_to_sign(method, headers, resource, date_line=None):
    """The V2 reference's StringToSign: verb, Content-MD5, Content-Type, Date (empty
    when x-amz-date is present), CanonicalizedAmzHeaders (lower-cased, sorted,
    repeats joined with ',', values trimmed), CanonicalizedResource."""
    lower = [(k.lower(), v) for k, v in headers]
    first = lambda name: next((v for k, v in lower if k == name), "")
    if date_line is None:
        date_line = "" if any(k == "x-amz-date" for k, _ in lower) else first("date")
    amz = {}
    for k, v in lower:
        if k.startswith("x-amz-"):
            amz.setdefault(k, []).append(v.strip())
    canon = "".join(f"{k}:{','.join(amz[k])}\n" for k in sorted(amz))
    return f"{method}\n{first('content-md5')}\n{first('content-type')}\n{date_line}\n{canon}{resource}"


def v2_signature(string_to_sign, secret=SECRET):
    return base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()


def v2_request(endpoint, method, path, headers, body=b"", resource=None, host=None):
    """A V2 header-signed request. `resource` defaults to the path with the
    sub-resources botocore signs; pass it for anything else."""
    if resource is None:
        resource = path
    hdrs = list(headers)
    if host:
        hdrs.insert(0, ("Host", host))
    sts = v2_string_to_sign(method, headers, resource)
    hdrs.append(("Authorization", f"AWS test:{v2_signature(sts)}"))
    return raw(endpoint, method, path, hdrs, body)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _v4_key(date, secret=SECRET):
    k = ("AWS4" + secret).encode()
    for part in (date, REGION, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def v4_sign_headers(method, path, headers, payload_hash, now=None):
    """SigV4 Authorization header over `headers` (all signed), the path as sent and
    no query; returns (headers, seed signature, amz date, scope)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz = now.strftime("%Y%m%dT%H%M%SZ")
    hdrs = dict(headers)
    hdrs["x-amz-date"] = amz
    hdrs["x-amz-content-sha256"] = payload_hash
    names = sorted(hdrs)
    canon = "".join(f"{n}:{' '.join(str(hdrs[n]).split())}\n" for n in names)
    creq = "\n".join([method, path, "", canon, ";".join(names), payload_hash])
    scope = f"{amz[:8]}/{REGION}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, _sha256(creq.encode())])
    sig = hmac.new(_v4_key(amz[:8]), sts.encode(), hashlib.sha256).hexdigest()
    hdrs["authorization"] = f"AWS4-HMAC-SHA256 Credential=test/{scope}, SignedHeaders={';'.join(names)}, Signature={sig}"
    return hdrs, sig, amz, scope


def error_code(body: bytes):
    text = body.decode("utf-8", "replace")
    if "<Code>" not in text:
        return None
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0]


def ok(resp, *statuses):
    statuses = statuses or (200,)
    assert resp.status_code in statuses, f"{resp.request.method} {resp.url} -> {resp.status_code}: {resp.text[:400]}"
    return resp


@pytest.fixture
def v2(endpoint):
    return client(endpoint, sig="s3")


# ==========================================================================
# Signature V2, Authorization header (boto3 signature_version="s3")
# ==========================================================================

@pytest.mark.parametrize("style", ["path", "virtual"])
def test_sigv2_header_object_operations_with_special_keys(endpoint, server, s3, bucket, style):
    """botocore's HmacV1Auth signs the request path as sent (quote(key, safe='/~'))
    and the V2 reference says elements from the Request-URI "should be signed
    literally as they appear in the HTTP request, including URL-Encoding meta
    characters"; in virtual-hosted style the CanonicalizedResource still starts
    with /<bucket> (botocore's auth_path). Every key, in both styles, works for
    PUT, GET, HEAD, copy, tagging, ACL and DELETE."""
    c = make_client(endpoint, server, style, sig="s3")
    for key in SPECIAL_KEYS:
        c.put_object(Bucket=bucket, Key=key, Body=b"v2:" + key.encode(), Metadata={"Mixed-Case": " v a l "})
        got = c.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == b"v2:" + key.encode(), key
        assert c.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(b"v2:" + key.encode())
        c.copy_object(Bucket=bucket, Key=key + ".copy", CopySource={"Bucket": bucket, "Key": key})
        c.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": "k", "Value": "v w"}]})
        assert c.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] == [{"Key": "k", "Value": "v w"}]
        assert c.get_object_acl(Bucket=bucket, Key=key)["Grants"]
        c.delete_object(Bucket=bucket, Key=key + ".copy")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == set(SPECIAL_KEYS)


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_sigv2_header_response_overrides_and_version_id(endpoint, server, s3, bucket, style):
    """response-* parameters and versionId are sub-resources V2 signs (the V2
    reference's CanonicalizedResource step 4; botocore HmacV1Auth.QSAOfInterest),
    with their values unencoded ("When signing, you do not encode these values")."""
    c = make_client(endpoint, server, style, sig="s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = c.put_object(Bucket=bucket, Key="doc.txt", Body=b"one")["VersionId"]
    c.put_object(Bucket=bucket, Key="doc.txt", Body=b"two")
    got = c.get_object(Bucket=bucket, Key="doc.txt", VersionId=v1, **RESPONSE_OVERRIDES)
    assert got["Body"].read() == b"one"
    assert got["ContentDisposition"] == RESPONSE_OVERRIDES["ResponseContentDisposition"]
    assert got["ContentType"] == RESPONSE_OVERRIDES["ResponseContentType"]
    assert got["CacheControl"] == "no-cache"
    assert c.head_object(Bucket=bucket, Key="doc.txt", VersionId=v1)["ContentLength"] == 3
    assert c.get_object_tagging(Bucket=bucket, Key="doc.txt", VersionId=v1)["TagSet"] == []
    versions = c.list_object_versions(Bucket=bucket, Prefix="doc")["Versions"]
    assert len(versions) == 2
    c.delete_object(Bucket=bucket, Key="doc.txt", VersionId=v1)
    assert len(s3.list_object_versions(Bucket=bucket, Prefix="doc")["Versions"]) == 1


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_sigv2_header_multipart(endpoint, server, s3, bucket, style):
    """uploads, uploadId and partNumber are signed sub-resources (V2 reference step 4)."""
    c = make_client(endpoint, server, style, sig="s3")
    key = "multi part+\u00e9.bin"
    s3.put_object(Bucket=bucket, Key="src", Body=b"s" * (5 * 1024 * 1024))
    up = c.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    p1 = c.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=b"a" * (5 * 1024 * 1024))
    p2 = c.upload_part_copy(Bucket=bucket, Key=key, UploadId=up, PartNumber=2, CopySource={"Bucket": bucket, "Key": "src"})
    assert [p["PartNumber"] for p in c.list_parts(Bucket=bucket, Key=key, UploadId=up)["Parts"]] == [1, 2]
    assert [u["UploadId"] for u in c.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [up]
    c.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 10 * 1024 * 1024
    up2 = c.create_multipart_upload(Bucket=bucket, Key="aborted")["UploadId"]
    c.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=up2)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_sigv2_header_bucket_subresources(endpoint, server, s3, bucket, account, style):
    """Bucket requests sign /<bucket>/ plus the sub-resource (V2 reference: "Note the
    trailing slash on the CanonicalizedResource"; botocore handlers.py: "the auth_path
    must be terminated with a '/' character"). acl, tagging, versioning, cors, policy,
    lifecycle, website, notification, location, versions, uploads and delete are all
    in botocore's QSAOfInterest; encryption/ownershipControls/publicAccessBlock are
    not, so they are signed as plain bucket requests."""
    c = make_client(endpoint, server, style, sig="s3")
    c.put_object(Bucket=bucket, Key="x/y z", Body=b"1")
    assert [o["Key"] for o in c.list_objects(Bucket=bucket)["Contents"]] == ["x/y z"]
    assert [o["Key"] for o in c.list_objects_v2(Bucket=bucket, Prefix="x/", Delimiter="/")["Contents"]] == ["x/y z"]
    c.head_bucket(Bucket=bucket)
    assert c.get_bucket_location(Bucket=bucket)["LocationConstraint"] in (None, "")
    c.put_bucket_acl(Bucket=bucket, ACL="private")
    assert c.get_bucket_acl(Bucket=bucket)["Grants"]
    c.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "t", "Value": "1"}]})
    assert c.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "t", "Value": "1"}]
    c.delete_bucket_tagging(Bucket=bucket)
    c.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert c.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert c.list_object_versions(Bucket=bucket)["Versions"]
    c.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]})
    assert c.get_bucket_cors(Bucket=bucket)["CORSRules"]
    c.delete_bucket_cors(Bucket=bucket)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                                                        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    c.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert json.loads(c.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    c.delete_bucket_policy(Bucket=bucket)
    c.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 3}}]})
    assert c.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    c.delete_bucket_lifecycle(Bucket=bucket)
    c.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    assert c.get_bucket_website(Bucket=bucket)["IndexDocument"] == {"Suffix": "index.html"}
    c.delete_bucket_website(Bucket=bucket)
    c.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    c.get_bucket_notification_configuration(Bucket=bucket)
    assert "Uploads" not in c.list_multipart_uploads(Bucket=bucket)
    c.get_bucket_encryption(Bucket=bucket)
    c.get_bucket_ownership_controls(Bucket=bucket)
    c.get_public_access_block(Bucket=bucket)
    res = c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "x/y z"}, {"Key": "missing"}]})
    assert {d["Key"] for d in res["Deleted"]} == {"x/y z", "missing"}
    other = f"v2-{uuid.uuid4().hex[:10]}"
    c.create_bucket(Bucket=other)
    assert other in [b["Name"] for b in c.list_buckets()["Buckets"]]
    c.delete_bucket(Bucket=other)


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_sigv2_header_session_token(endpoint, server, bucket, style):
    """With session credentials botocore adds x-amz-security-token and signs it as an
    amz header (HmacV1Auth.get_signature); the V2 reference's "Using temporary
    security credentials" asks for exactly that header."""
    c = make_client(endpoint, server, style, sig="s3", token=STS_TOKEN)
    c.put_object(Bucket=bucket, Key="tok en", Body=b"t")
    assert c.get_object(Bucket=bucket, Key="tok en")["Body"].read() == b"t"
    assert [o["Key"] for o in c.list_objects_v2(Bucket=bucket)["Contents"]] == ["tok en"]
    assert c.get_bucket_acl(Bucket=bucket)["Grants"]


def test_sigv2_header_managed_transfer(endpoint, bucket, tmp_path):
    """s3transfer (upload_file/download_file, threaded multipart and ranged GETs)
    over a V2-signing client."""
    from boto3.s3.transfer import TransferConfig

    c = client(endpoint, sig="s3")
    data = os.urandom(12 * 1024 * 1024)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=4)
    c.upload_file(str(src), bucket, "dir/file name.bin", Config=cfg)
    dst = tmp_path / "dst.bin"
    c.download_file(bucket, "dir/file name.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data


# --------------------------------------------------------------------------
# Signature V2, hand-built header requests
# --------------------------------------------------------------------------

def test_sigv2_x_amz_date_instead_of_date(endpoint, s3, bucket):
    """"If you include the x-amz-date header, use the empty string for the Date when
    constructing the StringToSign" and x-amz-date is then one of the
    CanonicalizedAmzHeaders (V2 reference, "Time stamp requirement"). s3cmd signs
    this way."""
    s3.put_object(Bucket=bucket, Key="o k", Body=b"hello")
    hdr = lambda: [("x-amz-date", http_date())]
    status, _, body = v2_request(endpoint, "GET", f"/{bucket}/o%20k", hdr())
    assert (status, body) == (200, b"hello")
    status, _, body = v2_request(endpoint, "GET", f"/{bucket}/?prefix=o", hdr(), resource=f"/{bucket}/")
    assert status == 200 and b"<Key>o k</Key>" in body, body
    status, _, body = v2_request(endpoint, "GET", f"/{bucket}/?acl", hdr(), resource=f"/{bucket}/?acl")
    assert status == 200 and b"AccessControlPolicy" in body, body
    status, _, body = v2_request(endpoint, "PUT", f"/{bucket}/new", hdr(), b"abc")
    assert status == 200, body
    status, _, body = v2_request(endpoint, "HEAD", f"/{bucket}/new", hdr())
    assert status == 200
    status, _, body = v2_request(endpoint, "DELETE", f"/{bucket}/new", hdr())
    assert status == 204, body


def test_sigv2_x_amz_date_takes_precedence_over_date(endpoint, s3, bucket):
    """"When an x-amz-date header is present in a request, the system will ignore any
    Date header when computing the request signature" (V2 reference): a stale Date
    next to a current x-amz-date is no obstacle."""
    s3.put_object(Bucket=bucket, Key="o", Body=b"hello")
    status, _, body = v2_request(endpoint, "GET", f"/{bucket}/o", [("Date", http_date(-7200)), ("X-Amz-Date", http_date())])
    assert (status, body) == (200, b"hello")


def test_sigv2_content_md5_and_content_type_are_signed(endpoint, s3, bucket):
    """Content-MD5 and Content-Type are positional StringToSign elements (V2
    reference, "Positional versus named HTTP header StringToSign elements")."""
    body = b"payload"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    headers = [("Date", http_date()), ("Content-MD5", md5), ("Content-Type", "text/plain; charset=utf-8")]
    status, _, text = v2_request(endpoint, "PUT", f"/{bucket}/m.txt", headers, body)
    assert status == 200, text
    assert s3.head_object(Bucket=bucket, Key="m.txt")["ContentType"] == "text/plain; charset=utf-8"
    # A Content-Type other than the signed one breaks the signature.
    sts = v2_string_to_sign("PUT", headers, f"/{bucket}/m2.txt")
    sent = [("Date", headers[0][1]), ("Content-MD5", md5), ("Content-Type", "application/json"),
            ("Authorization", f"AWS test:{v2_signature(sts)}")]
    status, _, text = raw(endpoint, "PUT", f"/{bucket}/m2.txt", sent, body)
    assert status == 403 and error_code(text) == "SignatureDoesNotMatch", text


def test_sigv2_reference_unicode_key_example(endpoint, s3, bucket):
    """The V2 reference's "Unicode keys" example signs /dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re
    literally ("taken literally, including URL-Encoding and capitalization")."""
    path = f"/{bucket}/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re"
    status, _, text = v2_request(endpoint, "PUT", path, [("Date", http_date())], b"x")
    assert status == 200, text
    status, _, text = v2_request(endpoint, "GET", path, [("Date", http_date())])
    assert (status, text) == (200, b"x")
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["Key"] == "dictionary/fran\u00e7ais/pr\u00e9f\u00e8re"


def test_sigv2_reference_upload_example_repeated_amz_headers(endpoint, s3, bucket):
    """The V2 reference's "Upload" example sends X-Amz-Meta-ReviewedBy twice, and its
    CanonicalizedAmzHeaders joins them: "x-amz-meta-reviewedby:joe@...,jane@..."
    ("Combine header fields with the same name into one header-name:comma-separated-
    value-list pair as prescribed by RFC 2616, section 4.2"). RFC 2616 4.2 makes the
    two fields one header whose value is the comma-joined list, so S3 stores that."""
    body = b"backup"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    headers = [
        ("Date", http_date()),
        ("x-amz-acl", "private"),
        ("content-type", "application/x-download"),
        ("Content-MD5", md5),
        ("X-Amz-Meta-ReviewedBy", "joe@example.com"),
        ("X-Amz-Meta-ReviewedBy", "jane@example.com"),
        ("X-Amz-Meta-FileChecksum", "0x02661779"),
        ("X-Amz-Meta-ChecksumAlgorithm", "crc32"),
        ("Content-Disposition", "attachment; filename=database.dat"),
    ]
    status, _, text = v2_request(endpoint, "PUT", f"/{bucket}/db-backup.dat.gz", headers, body)
    assert status == 200, text
    meta = s3.head_object(Bucket=bucket, Key="db-backup.dat.gz")["Metadata"]
    assert meta == {"reviewedby": "joe@example.com,jane@example.com", "filechecksum": "0x02661779",
                    "checksumalgorithm": "crc32"}


@pytest.mark.parametrize("path_fmt", ["/{b}/?delete", "/{b}?delete"])
def test_sigv2_multi_object_delete(endpoint, s3, bucket, path_fmt):
    """"The delete query string parameter must be included when you create the
    CanonicalizedResource for a multi-object Delete request" (V2 reference), over
    /<bucket>/ whether or not the URL has the slash (botocore signs /<bucket>/?delete
    for the URL /<bucket>?delete)."""
    s3.put_object(Bucket=bucket, Key="gone", Body=b"1")
    doc = b"<Delete><Object><Key>gone</Key></Object><Object><Key>never</Key></Object></Delete>"
    headers = [("Date", http_date()), ("Content-MD5", base64.b64encode(hashlib.md5(doc).digest()).decode()),
               ("Content-Type", "application/xml")]
    status, _, text = v2_request(endpoint, "POST", path_fmt.format(b=bucket), headers, doc, resource=f"/{bucket}/?delete")
    assert status == 200 and text.count(b"<Deleted>") == 2, text
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_sigv2_stale_date_is_too_skewed(endpoint, s3, bucket):
    """"The client timestamp included with an authenticated request must be within 15
    minutes of the Amazon S3 system time when the request is received. If not, the
    request will fail with the RequestTimeTooSkewed error code" (V2 reference, "Time
    stamp requirement"; 403 in the S3 error code list). nimbus enforces this for
    SigV4 already."""
    s3.put_object(Bucket=bucket, Key="o", Body=b"hello")
    for headers in ([("Date", http_date(-3600))], [("x-amz-date", http_date(3600))]):
        status, _, text = v2_request(endpoint, "GET", f"/{bucket}/o", headers)
        assert status == 403 and error_code(text) == "RequestTimeTooSkewed", (headers, status, text)


def test_sigv2_without_any_date_is_denied(endpoint, s3, bucket):
    """"A valid time stamp (using either the HTTP Date header or an x-amz-date
    alternative) is mandatory for authenticated requests" (V2 reference). S3 answers
    403 AccessDenied "AWS authentication requires a valid Date or x-amz-date header"
    (as reported from S3 in hubrick/vertx-s3-client#5 and aws/aws-sdk-java#444)."""
    s3.put_object(Bucket=bucket, Key="o", Body=b"hello")
    sts = v2_string_to_sign("GET", [], f"/{bucket}/o")
    status, _, text = raw(endpoint, "GET", f"/{bucket}/o", [("Authorization", f"AWS test:{v2_signature(sts)}")])
    assert status == 403 and error_code(text) == "AccessDenied", (status, text)
    assert b"AWS authentication requires a valid Date or x-amz-date header" in text


def test_sigv2_host_variants(endpoint, server, s3):
    """CanonicalizedResource is /<bucket>/<path> whichever way the bucket is named: in
    a virtual host (with or without a region, the localstack domain, a bucket name
    with dots) or in the path under a non-IP Host (localhost, s3.localhost...)."""
    if server is None:
        pytest.skip("needs the local server's port")
    port = server.port
    dotted = f"my.dotted.{uuid.uuid4().hex[:8]}"
    plain = f"hosts-{uuid.uuid4().hex[:8]}"
    for b in (dotted, plain):
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="k v", Body=b"d")
    cases = []
    for b in (dotted, plain):
        for host in (f"{b}.s3.localhost:{port}", f"{b}.s3.us-east-1.localhost:{port}", f"{b}.s3.localhost.localstack.cloud:{port}"):
            cases += [(host, "/k%20v", f"/{b}/k%20v", b"d"), (host, "/?acl", f"/{b}/?acl", b"AccessControlPolicy"),
                      (host, "/?prefix=k", f"/{b}/", b"<Key>k v</Key>")]
        for host in (f"localhost:{port}", f"s3.localhost.localstack.cloud:{port}"):
            cases += [(host, f"/{b}/k%20v", f"/{b}/k%20v", b"d"), (host, f"/{b}?acl", f"/{b}/?acl", b"AccessControlPolicy"),
                      (host, f"/{b}?prefix=k", f"/{b}/", b"<Key>k v</Key>")]
    failures = []
    for host, path, resource, expect in cases:
        status, _, body = v2_request(endpoint, "GET", path, [("Date", http_date())], resource=resource, host=host)
        if status != 200 or expect not in body:
            failures.append((host, path, status, body[:200]))
    assert not failures, failures


# ==========================================================================
# Signature V2, query string (boto3's default presigner, aws s3 presign)
# ==========================================================================

@pytest.mark.parametrize("style", ["path", "virtual"])
def test_sigv2_presigned_operations(endpoint, server, s3, bucket, style):
    """boto3's default generate_presigned_url is HmacV1QueryAuth here: AWSAccessKeyId,
    Expires and Signature in the query, "the HTTP Date positional element has been
    replaced with Expires" (V2 reference, "Query string request authentication
    alternative"); CanonicalizedResource as for header auth."""
    p = presigner(endpoint, server, style)
    key = "k e+y~\u00e9.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"hello")
    go = lambda method, op, params, **kw: fetch(p.generate_presigned_url(op, Params=params, HttpMethod=method), method, endpoint, **kw)
    assert ok(go("GET", "get_object", {"Bucket": bucket, "Key": key})).content == b"hello"
    r = ok(go("GET", "get_object", {"Bucket": bucket, "Key": key, **RESPONSE_OVERRIDES}))
    assert r.headers["Content-Disposition"] == RESPONSE_OVERRIDES["ResponseContentDisposition"]
    assert r.headers["Content-Type"] == RESPONSE_OVERRIDES["ResponseContentType"]
    ok(go("HEAD", "head_object", {"Bucket": bucket, "Key": key}))
    ok(go("PUT", "put_object", {"Bucket": bucket, "Key": "up " + key}, data=b"up"))
    ok(go("PUT", "put_object", {"Bucket": bucket, "Key": "ct " + key, "ContentType": "text/plain"}, data=b"ct",
          headers={"Content-Type": "text/plain"}))
    ok(go("DELETE", "delete_object", {"Bucket": bucket, "Key": "up " + key}), 204)
    for op in ["list_objects", "list_objects_v2", "get_bucket_acl", "get_bucket_location", "list_object_versions",
               "get_bucket_versioning", "list_multipart_uploads"]:
        ok(go("GET", op, {"Bucket": bucket}))
    r = ok(go("GET", "list_objects_v2", {"Bucket": bucket, "Prefix": "k e+", "Delimiter": "/"}))
    assert "<Key>k%20e%2By~%C3%A9.txt</Key>" in r.text or "<Key>k e+y~\u00e9.txt</Key>" in r.text, r.text
    ok(go("GET", "get_object_tagging", {"Bucket": bucket, "Key": key}))
    ok(go("GET", "get_object_acl", {"Bucket": bucket, "Key": key}))
    ok(go("HEAD", "head_bucket", {"Bucket": bucket}))
    ok(go("GET", "list_buckets", {}))
    # tampering with a signed sub-resource is caught
    url = p.generate_presigned_url("get_bucket_acl", Params={"Bucket": bucket})
    r = fetch(url.replace("?acl", "?versioning"), "GET", endpoint)
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text


@pytest.mark.parametrize("sig", [None, "s3v4"], ids=["v2", "v4"])
@pytest.mark.parametrize("style", ["path", "virtual"])
def test_presigned_multipart(endpoint, server, s3, bucket, style, sig):
    """A presigned multipart upload (the browser-upload pattern), with boto3's default
    (V2) and SigV4 presigners: uploadId and partNumber are signed sub-resources."""
    p = presigner(endpoint, server, style, sig=sig)
    key = "mp k+\u00e9"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    url = p.generate_presigned_url("upload_part", Params={"Bucket": bucket, "Key": key, "UploadId": up, "PartNumber": 1})
    etag = ok(fetch(url, "PUT", endpoint, data=b"p" * 1000)).headers["ETag"]
    ok(fetch(p.generate_presigned_url("list_parts", Params={"Bucket": bucket, "Key": key, "UploadId": up}), "GET", endpoint))
    doc = f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    url = p.generate_presigned_url("complete_multipart_upload", Params={"Bucket": bucket, "Key": key, "UploadId": up})
    ok(fetch(url, "POST", endpoint, data=doc.encode()))
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"p" * 1000
    up = s3.create_multipart_upload(Bucket=bucket, Key="abort me")["UploadId"]
    url = p.generate_presigned_url("abort_multipart_upload", Params={"Bucket": bucket, "Key": "abort me", "UploadId": up})
    ok(fetch(url, "DELETE", endpoint), 204)
    ok(fetch(p.generate_presigned_url("create_multipart_upload", Params={"Bucket": bucket, "Key": "new"}), "POST", endpoint))


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_sigv2_presigned_with_session_token(endpoint, server, s3, bucket, style):
    """With session credentials botocore's HmacV1QueryAuth signs
    x-amz-security-token as a CanonicalizedAmzHeader and then, like every x-amz-*
    header, moves it into the query string ("We only want to include relevant
    headers in the query string. These can be anything that starts with x-amz, is
    Content-MD5, or is Content-Type"). The V2 query-string StringToSign keeps
    CanonicalizedAmzHeaders ("The CanonicalizedAmzHeaders and CanonicalizedResource
    are the same"), so S3 reads the x-amz-* query parameters as those headers; this
    is how every boto3 user on an IAM role, SSO or STS credentials presigns
    (AdRoll/goamz#9 added the same query parameter to V2 presigned URLs)."""
    p = presigner(endpoint, server, style, token=STS_TOKEN)
    s3.put_object(Bucket=bucket, Key="tok en", Body=b"hello")
    url = p.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "tok en"})
    assert "x-amz-security-token=" in url and "AWSAccessKeyId=" in url
    failures = []
    for method, op, params, data in [
        ("GET", "get_object", {"Bucket": bucket, "Key": "tok en"}, None),
        ("PUT", "put_object", {"Bucket": bucket, "Key": "tok put"}, b"x"),
        ("GET", "list_objects_v2", {"Bucket": bucket}, None),
        ("GET", "get_bucket_acl", {"Bucket": bucket}, None),
    ]:
        r = fetch(p.generate_presigned_url(op, Params=params, HttpMethod=method), method, endpoint, data=data)
        if r.status_code != 200:
            failures.append((op, r.status_code, error_code(r.content)))
    assert not failures, failures


def test_sigv2_presigned_amz_headers_in_query(endpoint, s3, bucket):
    """botocore's HmacV1QueryAuth also signs x-amz-meta-* / x-amz-acl and moves them
    into the query string; a plain PUT of the URL (no extra headers) is the request
    botocore meant, and S3 checks its signature with those query values as amz
    headers."""
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "qm", "Metadata": {"color": "blue"}})
    assert "x-amz-meta-color=blue" in url
    r = fetch(url, "PUT", endpoint, data=b"x")
    assert r.status_code == 200, (r.status_code, r.text[:300])


@pytest.mark.parametrize("token", [None, STS_TOKEN], ids=["long-term", "session"])
def test_aws_cli_presign(endpoint, aws_env, s3, bucket, token):
    """`aws s3 presign` (CLI v1) prints a URL to hand to curl/requests; with
    AWS_SESSION_TOKEN set (SSO, assumed roles) the token rides in the query."""
    exe = h.aws_executable()
    if not exe:
        pytest.skip("the aws CLI is not installed")
    key = "cli k+\u00e9.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"from cli")
    env = dict(aws_env)
    if token:
        env["AWS_SESSION_TOKEN"] = token
    p = subprocess.run([exe, "s3", "presign", f"s3://{bucket}/{key}", "--endpoint-url", endpoint],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    url = p.stdout.strip()
    r = requests.get(url, timeout=30)
    assert r.status_code == 200 and r.content == b"from cli", (url, r.status_code, r.text[:300])
    curl = shutil.which("curl")
    if curl:
        out = subprocess.run([curl, "-s", "-w", "\n%{http_code}", url], capture_output=True, timeout=30).stdout
        assert out.endswith(b"\n200") and out.startswith(b"from cli"), out


def test_aws_cli_with_sigv2(endpoint, aws_env, tmp_path):
    """The CLI configured with `s3 = signature_version = s3` (a setting still found in
    configs for older S3-compatible stores) signs everything with V2."""
    exe = h.aws_executable()
    if not exe:
        pytest.skip("the aws CLI is not installed")
    cfg = tmp_path / "config"
    cfg.write_text("[default]\ns3 =\n    signature_version = s3\n")
    env = dict(aws_env, AWS_CONFIG_FILE=str(cfg))
    name = f"cliv2-{uuid.uuid4().hex[:10]}"

    def aws(*args):
        p = subprocess.run([exe, *args, "--endpoint-url", endpoint], capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 0, (args, p.stderr)
        return p.stdout

    src = tmp_path / "tree"
    (src / "sub dir").mkdir(parents=True)
    (src / "a+b.txt").write_text("A")
    (src / "sub dir" / "\u00e9.txt").write_text("B")
    aws("s3", "mb", f"s3://{name}")
    aws("s3", "sync", str(src), f"s3://{name}/tree")
    out = aws("s3", "ls", f"s3://{name}/tree/", "--recursive")
    assert "tree/a+b.txt" in out and "tree/sub dir/\u00e9.txt" in out, out
    aws("s3api", "get-bucket-acl", "--bucket", name)
    aws("s3", "rm", f"s3://{name}", "--recursive")
    aws("s3", "rb", f"s3://{name}")


# ==========================================================================
# Signature V4
# ==========================================================================

@pytest.mark.parametrize("style", ["path", "virtual"])
def test_sigv4_presigned_bucket_operations(endpoint, server, s3, bucket, style):
    """S3SigV4QueryAuth URLs for bucket-level operations: the canonical query string
    holds the sub-resource with an empty value ("acl=") and X-Amz-* parameters
    (sigv4-query-string-auth.html); in virtual-hosted style the signed host is the
    virtual host."""
    p = presigner(endpoint, server, style, sig="s3v4")
    s3.put_object(Bucket=bucket, Key="a b/c+d", Body=b"1")
    go = lambda op, params=None, method="GET": fetch(
        p.generate_presigned_url(op, Params={"Bucket": bucket, **(params or {})}, HttpMethod=method), method, endpoint)
    r = ok(go("list_objects_v2", {"Prefix": "a b/", "Delimiter": "/"}))
    assert "a%20b/c%2Bd" in r.text or "a b/c+d" in r.text, r.text
    ok(go("list_objects"))
    assert "AccessControlPolicy" in ok(go("get_bucket_acl")).text
    assert "LocationConstraint" in ok(go("get_bucket_location")).text
    assert "ListVersionsResult" in ok(go("list_object_versions")).text
    ok(go("get_bucket_versioning"))
    ok(go("list_multipart_uploads"))
    ok(go("head_bucket", method="HEAD"))
    r = fetch(p.generate_presigned_url("get_bucket_acl", Params={"Bucket": bucket}).replace("acl=", "policy="), "GET", endpoint)
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_sigv4_presigned_special_keys_and_overrides(endpoint, server, s3, bucket, style):
    """SigV4 presigned GETs for keys needing escaping (S3 canonical URI: each segment
    URI-encoded once, no normalization) and with response-* overrides."""
    p = presigner(endpoint, server, style, sig="s3v4")
    failures = []
    for key in SPECIAL_KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        r = fetch(p.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}), "GET", endpoint)
        if r.status_code != 200 or r.content != key.encode():
            failures.append((key, r.status_code, r.text[:120]))
        r = fetch(p.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key + ".up"}, HttpMethod="PUT"),
                  "PUT", endpoint, data=b"up")
        if r.status_code != 200:
            failures.append((key + ".up", r.status_code, r.text[:120]))
    assert not failures, failures
    r = ok(fetch(p.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": SPECIAL_KEYS[0], **RESPONSE_OVERRIDES}),
                 "GET", endpoint))
    assert r.headers["Content-Disposition"] == RESPONSE_OVERRIDES["ResponseContentDisposition"]
    assert r.headers["Content-Type"] == RESPONSE_OVERRIDES["ResponseContentType"]


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_sigv4_session_token(endpoint, server, bucket, style):
    """SigV4 with session credentials: x-amz-security-token signed in the header, or
    X-Amz-Security-Token in the canonical query string of a presigned URL (S3
    "requires that you include this parameter in the canonical (signed) request");
    an STS-shaped token has '/', '+' and '=' to encode."""
    c = make_client(endpoint, server, style, sig="s3v4", token=STS_TOKEN)
    c.put_object(Bucket=bucket, Key="t k", Body=b"tok")
    assert c.get_object(Bucket=bucket, Key="t k")["Body"].read() == b"tok"
    assert c.get_bucket_acl(Bucket=bucket)["Grants"]
    p = presigner(endpoint, server, style, sig="s3v4", token=STS_TOKEN)
    url = p.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "t k"})
    assert "X-Amz-Security-Token=" in url
    assert ok(fetch(url, "GET", endpoint)).content == b"tok"
    ok(fetch(p.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket}), "GET", endpoint))


def test_sigv4_presigned_js_sdk_v3_layout(endpoint, s3, bucket):
    """The JS SDK v3 presigner signs X-Amz-Content-Sha256=UNSIGNED-PAYLOAD and
    x-id=<Operation> into the query (see the URL quoted in aws/aws-sdk-js-v3#5577)."""
    s3.put_object(Bucket=bucket, Key="js k", Body=b"js")

    def presign(method, path, query):
        req = AWSRequest(method=method, url=f"{endpoint}{path}?{query}")
        S3SigV4QueryAuth(Credentials("test", SECRET), "s3", REGION, expires=300).add_auth(req)
        return req.url

    assert ok(fetch(presign("GET", f"/{bucket}/js%20k", "X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&x-id=GetObject"))).content == b"js"
    ok(fetch(presign("PUT", f"/{bucket}/js%20put", "X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&x-id=PutObject"), "PUT", data=b"p"))
    r = ok(fetch(presign("GET", f"/{bucket}", "list-type=2&prefix=js&x-id=ListObjectsV2&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD")))
    assert "<Key>js k</Key>" in r.text or "<Key>js%20k</Key>" in r.text


def test_sigv4_presigned_signed_metadata_and_content_type(endpoint, s3, bucket):
    """botocore's S3SigV4QueryAuth keeps x-amz-meta-* as signed headers
    (X-Amz-SignedHeaders=...;x-amz-meta-color); the uploader sends them."""
    p = client(endpoint, sig="s3v4")
    url = p.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "m4", "Metadata": {"color": "blue"},
                                                          "ContentType": "text/plain"})
    assert "x-amz-meta-color" in urllib.parse.unquote(url)
    ok(fetch(url, "PUT", endpoint, data=b"m", headers={"x-amz-meta-color": "blue", "Content-Type": "text/plain"}))
    head = s3.head_object(Bucket=bucket, Key="m4")
    assert head["Metadata"] == {"color": "blue"} and head["ContentType"] == "text/plain"


@pytest.mark.parametrize("mode", ["header", "presigned"])
def test_sigv4_unsigned_amz_header_is_refused(endpoint, s3, bucket, mode):
    """S3's SigV4 reference: CanonicalHeaders must list "any x-amz-* headers that you
    plan to include in your request" (sig-v4-header-based-auth.html). S3 answers an
    x-amz-* header left out of SignedHeaders with 403 AccessDenied "There were headers
    present in the request which were not signed" and a HeadersNotSigned element,
    for header auth and presigned URLs alike (S3 answers quoted in
    apache/arrow-rs-object-store#484 and soto-project/soto#374)."""
    if mode == "header":
        c = client(endpoint, sig="s3v4")

        def add_unsigned(request, **kwargs):
            request.headers["x-amz-meta-unsigned"] = "sneaky"

        c.meta.events.register("before-send.s3", add_unsigned)
        with pytest.raises(ClientError) as e:
            c.put_object(Bucket=bucket, Key="u", Body=b"x")
        err = e.value.response["Error"]
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403 and err["Code"] == "AccessDenied", err
        assert err["Message"] == "There were headers present in the request which were not signed"
    else:
        url = client(endpoint, sig="s3v4").generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "u"})
        r = fetch(url, "PUT", endpoint, data=b"x", headers={"x-amz-meta-unsigned": "sneaky"})
        assert r.status_code == 403 and error_code(r.content) == "AccessDenied", (r.status_code, r.text[:300])
        assert "<HeadersNotSigned>x-amz-meta-unsigned</HeadersNotSigned>" in r.text
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="u")


# --------------------------------------------------------------------------
# SigV4 streaming (aws-chunked) payloads, as the Java SDKs send them over HTTP
# --------------------------------------------------------------------------

def _chunks(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)] + [b""]


def _chunk_signature(prev, amz, scope, chunk):
    sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz, scope, prev, _sha256(b""), _sha256(chunk)])
    return hmac.new(_v4_key(amz[:8]), sts.encode(), hashlib.sha256).hexdigest()


def streaming_put(endpoint, path, data, host=None, chunk=64 * 1024, bad_chunk=False, trailer=False, bad_trailer=False):
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] (sigv4-streaming.html,
    sigv4-streaming-trailers.html): each chunk `hex(size);chunk-signature=<sig>`,
    the signatures chained from the seed (Authorization) signature; with a trailer,
    x-amz-checksum-crc32 then x-amz-trailer-signature over "AWS4-HMAC-SHA256-TRAILER".
    Returns (status, body)."""
    crc = base64.b64encode(struct.pack(">I", zlib.crc32(data))).decode()

    def body(seed, amz, scope):
        out, prev = b"", seed
        for piece in _chunks(data, chunk):
            sig = _chunk_signature(prev, amz, scope, piece) if seed else "0" * 64
            if bad_chunk and piece:
                sig = "0" * 64
            out += f"{len(piece):x};chunk-signature={sig}\r\n".encode() + piece
            out += b"\r\n" if (piece or not trailer) else b""
            prev = sig
        if trailer:
            canon = f"x-amz-checksum-crc32:{crc}\n"
            sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz, scope, prev, _sha256(canon.encode())])
            tsig = hmac.new(_v4_key(amz[:8]), sts.encode(), hashlib.sha256).hexdigest() if seed else "0" * 64
            if bad_trailer:
                tsig = "1" * 64
            out += f"x-amz-checksum-crc32:{crc}\r\nx-amz-trailer-signature:{tsig}\r\n\r\n".encode()
        return out

    length = len(body(None, "", ""))
    netloc = host or urllib.parse.urlsplit(endpoint).netloc
    headers = {"host": netloc, "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
               "content-length": str(length)}
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    if trailer:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
        mode += "-TRAILER"
    signed, seed, amz, scope = v4_sign_headers("PUT", path, headers, mode)
    payload = body(seed, amz, scope)
    assert len(payload) == length
    status, _, text = raw(endpoint, "PUT", path, list(signed.items()), payload)
    return status, text


def test_sigv4_streaming_signed_chunks(endpoint, server, s3, bucket):
    data = bytes(range(256)) * 800
    status, text = streaming_put(endpoint, f"/{bucket}/stream%20k.bin", data)
    assert status == 200, text
    assert s3.get_object(Bucket=bucket, Key="stream k.bin")["Body"].read() == data
    status, text = streaming_put(endpoint, f"/{bucket}/stream%20t.bin", data, trailer=True)
    assert status == 200, text
    assert s3.get_object(Bucket=bucket, Key="stream t.bin")["Body"].read() == data
    if server is not None:
        status, text = streaming_put(endpoint, "/stream%20vh.bin", data, host=f"{bucket}.s3.localhost:{server.port}")
        assert status == 200, text
        assert s3.get_object(Bucket=bucket, Key="stream vh.bin")["Body"].read() == data


@pytest.mark.parametrize("flaw", ["chunk", "trailer"])
def test_sigv4_streaming_bad_signature_is_signature_does_not_match(endpoint, s3, bucket, flaw):
    """A chunk (or trailer) whose signature does not continue the chain fails
    authentication: 403 SignatureDoesNotMatch, as for the seed signature
    (sigv4-streaming.html: each chunk signature "becomes the previous signature"
    of the next, and S3 verifies them; S3-compatible servers answer the same, e.g.
    gaul/s3proxy#1027 "Mismatches throw SignatureDoesNotMatch"). Nothing is stored."""
    data = bytes(range(256)) * 800
    status, text = streaming_put(endpoint, f"/{bucket}/bad.bin", data, trailer=flaw == "trailer",
                                 bad_chunk=flaw == "chunk", bad_trailer=flaw == "trailer")
    assert status == 403 and error_code(text) == "SignatureDoesNotMatch", (status, text)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad.bin")


# --------------------------------------------------------------------------
# curl --aws-sigv4
# --------------------------------------------------------------------------

def test_curl_aws_sigv4(endpoint, bucket, tmp_path):
    """curl's built-in SigV4 signer (`--aws-sigv4 aws:amz:<region>:s3`). curl 7.x does
    not add x-amz-content-sha256, which S3 requires, so it is passed (and curl signs
    it). Only requests whose query parameters all have values are used: curl before
    8.x signs a bare `?acl` as `acl` instead of `acl=`, which AWS would refuse too."""
    curl = shutil.which("curl")
    if not curl:
        pytest.skip("curl is not installed")
    if "aws-sigv4" not in subprocess.run([curl, "--help", "all"], capture_output=True, text=True).stdout:
        pytest.skip("this curl has no --aws-sigv4")
    base = [curl, "-s", "-w", "\n%{http_code}", "--user", "test:test", "--aws-sigv4", f"aws:amz:{REGION}:s3",
            "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
    src = tmp_path / "f.txt"
    src.write_text("curl body")

    def run(*args):
        out = subprocess.run([*base, *args], capture_output=True, timeout=30).stdout
        body, _, code = out.rpartition(b"\n")
        return int(code), body

    code, body = run("-T", str(src), f"{endpoint}/{bucket}/c%20u+r~l.txt")
    assert code == 200, body
    code, body = run("-T", str(src), "-H", "x-amz-meta-tool: curl", "-H", "Content-Type: text/plain", f"{endpoint}/{bucket}/meta.txt")
    assert code == 200, body
    code, body = run(f"{endpoint}/{bucket}/c%20u+r~l.txt")
    assert (code, body) == (200, b"curl body")
    code, body = run(f"{endpoint}/{bucket}?list-type=2&prefix=c")
    assert code == 200 and b"<Key>c u+r~l.txt</Key>" in body, body
    code, body = run(f"{endpoint}/{bucket}/c%20u+r~l.txt?response-content-type=text%2Fx-curl")
    assert (code, body) == (200, b"curl body")
