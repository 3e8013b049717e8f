"""A request signed for one region and sent to a bucket in another.

S3 refuses it with the region the bucket is in, which the SDKs follow:
- signed in the Authorization header: 400 AuthorizationHeaderMalformed, "The
  authorization header is malformed; the region 'X' is wrong; expecting 'Y'" (Amazon
  CloudFront Developer Guide, "HTTP 400 status code (Bad Request)", quoting S3), with
  <Region>Y</Region> in the document (S3's whole document as quoted in SAS Problem Note
  71037);
- presigned: 400 AuthorizationQueryParametersError, "Error parsing the X-Amz-Credential
  parameter; the region 'X' is wrong; expecting 'Y'", with <Region>Y</Region> (S3's
  answer as quoted in public bug reports; OpenStack Swift's s3api mirrors it).
boto3 (and so the aws CLI) reads the Region, re-signs for it and retries
(botocore's S3RegionRedirectorv2); for a HEAD, whose 400 has no body, it reads the
x-amz-bucket-region header.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from xml.etree import ElementTree

import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import nimbus_helpers as h
from test_s3_basics import s3_client

HOME = "eu-west-1"
# A signed header no S3 operation reads: sends the request through s3s rather than
# the short road (test_s3_fast_path.py).
DETOUR = {"x-example-trace": "through-s3s"}


@pytest.fixture
def west_bucket(s3):
    name = f"west-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": HOME})
    s3_client_home = s3_client(s3.meta.endpoint_url, region=HOME)
    s3_client_home.put_object(Bucket=name, Key="k", Body=b"data")
    return name


def send(endpoint, method, path, region, data=b"", headers=None):
    req = AWSRequest(method=method, url=f"{endpoint}{path}", data=data, headers=dict(headers or {}))
    req.headers["x-amz-content-sha256"] = hashlib.sha256(data).hexdigest()
    S3SigV4Auth(Credentials("test", "test"), "s3", region).add_auth(req)
    return requests.request(method, req.url, data=data, headers=dict(req.headers.items()), timeout=30)


def wrong_region(r, code, message):
    assert r.status_code == 400, r.text
    assert r.headers.get("x-amz-bucket-region") == HOME
    error = ElementTree.fromstring(r.content)
    assert error.findtext("Code") == code
    assert error.findtext("Message") == message
    assert error.findtext("Region") == HOME


HEADER_MESSAGE = f"The authorization header is malformed; the region 'us-east-1' is wrong; expecting '{HOME}'"
QUERY_MESSAGE = f"Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting '{HOME}'"


def test_header_signed_for_another_region(endpoint, west_bucket):
    for headers in ({}, DETOUR):  # the short road and s3s's
        r = send(endpoint, "GET", f"/{west_bucket}/k", "us-east-1", headers=headers)
        wrong_region(r, "AuthorizationHeaderMalformed", HEADER_MESSAGE)
        r = send(endpoint, "PUT", f"/{west_bucket}/new", "us-east-1", data=b"x", headers=headers)
        wrong_region(r, "AuthorizationHeaderMalformed", HEADER_MESSAGE)
        assert send(endpoint, "HEAD", f"/{west_bucket}/new", HOME).status_code == 404
        # HEAD: the status and the header, no document.
        r = send(endpoint, "HEAD", f"/{west_bucket}/k", "us-east-1", headers=headers)
        assert r.status_code == 400 and r.headers.get("x-amz-bucket-region") == HOME and r.content == b""
    # Bucket operations too.
    wrong_region(send(endpoint, "GET", f"/{west_bucket}?list-type=2", "us-east-1"), "AuthorizationHeaderMalformed", HEADER_MESSAGE)
    wrong_region(send(endpoint, "GET", f"/{west_bucket}?versioning", "ap-south-1"), "AuthorizationHeaderMalformed",
                 HEADER_MESSAGE.replace("us-east-1", "ap-south-1"))
    # Signed for the bucket's region, all is well on both roads.
    for headers in ({}, DETOUR):
        r = send(endpoint, "GET", f"/{west_bucket}/k", HOME, headers=headers)
        assert r.status_code == 200 and r.content == b"data"


def test_what_names_no_existing_bucket_is_not_concerned(endpoint, s3, west_bucket):
    # ListBuckets has no bucket; a missing bucket is NoSuchBucket whatever the region;
    # GetBucketLocation is how a client finds the region.
    assert send(endpoint, "GET", "/", "ap-south-1").status_code == 200
    r = send(endpoint, "GET", f"/no-such-{uuid.uuid4().hex[:8]}/k", "us-east-1")
    assert r.status_code == 404 and "<Code>NoSuchBucket</Code>" in r.text
    r = send(endpoint, "GET", f"/{west_bucket}?location", "us-east-1")
    assert r.status_code == 200 and HOME in r.text
    assert s3.get_bucket_location(Bucket=west_bucket)["LocationConstraint"] == HOME
    # A bucket in us-east-1 (no LocationConstraint) with us-east-1 clients, as ever.
    assert s3.meta.region_name == "us-east-1"
    name = f"east-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"x"


def test_presigned_for_another_region(endpoint, west_bucket):
    east = s3_client(endpoint, sig="s3v4", region="us-east-1")
    url = east.generate_presigned_url("get_object", Params={"Bucket": west_bucket, "Key": "k"}, ExpiresIn=300)
    wrong_region(requests.get(url, timeout=30), "AuthorizationQueryParametersError", QUERY_MESSAGE)
    url = east.generate_presigned_url("put_object", Params={"Bucket": west_bucket, "Key": "p"}, ExpiresIn=300)
    wrong_region(requests.put(url, data=b"x", timeout=30), "AuthorizationQueryParametersError", QUERY_MESSAGE)
    west = s3_client(endpoint, sig="s3v4", region=HOME)
    url = west.generate_presigned_url("get_object", Params={"Bucket": west_bucket, "Key": "k"}, ExpiresIn=300)
    r = requests.get(url, timeout=30)
    assert r.status_code == 200 and r.content == b"data"


def count_requests(client):
    sent = []
    client.meta.events.register("before-send.s3", lambda request, **_: sent.append(request.url))
    return sent


def test_boto3_follows_the_region(endpoint, west_bucket):
    # A client configured for the bucket's region goes straight there.
    west = s3_client(endpoint, region=HOME)
    sent = count_requests(west)
    assert west.get_object(Bucket=west_bucket, Key="k")["Body"].read() == b"data"
    assert len(sent) == 1
    # One configured for another region is told the bucket's, and retries there
    # (its retries are off: the redirect is not a retry).
    east = s3_client(endpoint, region="us-east-1")
    sent = count_requests(east)
    assert east.get_object(Bucket=west_bucket, Key="k")["Body"].read() == b"data"
    assert len(sent) == 2
    east.put_object(Bucket=west_bucket, Key="from-east", Body=b"e")
    assert [o["Key"] for o in east.list_objects_v2(Bucket=west_bucket)["Contents"]] == ["from-east", "k"]
    # HEADs learn it from x-amz-bucket-region.
    other = s3_client(endpoint, region="ap-south-1")
    assert other.head_bucket(Bucket=west_bucket)["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == HOME
    other = s3_client(endpoint, region="ap-south-1")
    assert other.head_object(Bucket=west_bucket, Key="k")["ContentLength"] == 4


def test_aws_cli_follows_the_region(endpoint, aws_env, west_bucket, tmp_path):
    exe = h.aws_executable()
    if not exe:
        pytest.skip("the aws CLI is not installed")

    def cli(*args):
        p = subprocess.run([exe, *args, "--endpoint-url", endpoint, "--output", "json"], capture_output=True, text=True,
                           env=aws_env, timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stdout

    # aws_env configures us-east-1.
    head = json.loads(cli("s3api", "head-object", "--bucket", west_bucket, "--key", "k"))
    assert head["ContentLength"] == 4
    out = tmp_path / "k"
    cli("s3", "cp", f"s3://{west_bucket}/k", str(out))
    assert out.read_bytes() == b"data"
    listing = json.loads(cli("s3api", "list-objects-v2", "--bucket", west_bucket, "--region", HOME))
    assert [o["Key"] for o in listing["Contents"]] == ["k"]


def test_create_bucket_location_rules(s3):
    """CreateBucket's constraint must name the region of the endpoint it is sent to,
    except at us-east-1's; none means us-east-1, which may not be named (AWS S3 API
    reference, CreateBucket: "If you don't specify a Region, the bucket is created in
    the US East (N. Virginia) Region"; the IllegalLocationConstraintException message
    as S3 answers it, quoted in TaskCat's FAQ)."""
    west = s3_client(s3.meta.endpoint_url, region=HOME)
    name = f"loc-{uuid.uuid4().hex[:10]}"
    with pytest.raises(west.exceptions.ClientError) as e:
        west.create_bucket(Bucket=name)
    assert e.value.response["Error"]["Code"] == "IllegalLocationConstraintException"
    assert e.value.response["Error"]["Message"] == (
        "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
    )
    with pytest.raises(west.exceptions.ClientError) as e:
        west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    assert e.value.response["Error"]["Code"] == "IllegalLocationConstraintException"
    assert "us-west-2 location constraint" in e.value.response["Error"]["Message"]
    with pytest.raises(s3.exceptions.ClientError) as e:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert e.value.response["Error"]["Code"] == "InvalidLocationConstraint"
    # None of these made the bucket.
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_bucket(Bucket=name)
    # Its own region from its own endpoint, and any region from us-east-1's.
    west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": HOME})
    assert west.get_bucket_location(Bucket=name)["LocationConstraint"] == HOME
    other = f"loc-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=other, CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    assert s3.get_bucket_location(Bucket=other)["LocationConstraint"] == "ap-south-1"


def test_aws_cli_mb_in_another_region(endpoint, aws_env):
    """`aws s3 mb --region X` sends X as the constraint, so it works in any region."""
    exe = h.aws_executable()
    if not exe:
        pytest.skip("the aws CLI is not installed")
    name = f"climb-{uuid.uuid4().hex[:10]}"
    r = subprocess.run([exe, "--endpoint-url", endpoint, "--region", "ap-northeast-1", "s3", "mb", f"s3://{name}"],
                       capture_output=True, text=True, env=aws_env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert s3_client(endpoint).get_bucket_location(Bucket=name)["LocationConstraint"] == "ap-northeast-1"
