"""S3 canned ACLs end to end, from AWS's user guide ("Access control list (ACL)
overview": canned ACLs and the grants each stands for) and the API reference
(PutBucketAcl, PutObjectAcl, GetBucketAcl, GetObjectAcl, PutPublicAccessBlock).
Anonymous reads are checked against a server in strict auth mode, where unsigned
requests are refused unless an ACL or policy makes the object public.

Since April 2023 a new bucket has ACLs disabled (Object Ownership
BucketOwnerEnforced) and all of Block Public Access on, so these tests do what an
AWS user must do first to use ACLs at all: create the bucket with
ObjectOwnership=ObjectWriter and delete its public access block."""

from __future__ import annotations

import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from test_s3_basics import s3_client

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def acl_bucket(s3, name=None, **create):
    """A new bucket with ACLs enabled and no public access block."""
    name = name or f"a-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter", **create)
    s3.delete_public_access_block(Bucket=name)
    return name


@pytest.fixture
def bucket(s3):
    return acl_bucket(s3)


def err(call):
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def grants(acl):
    """(grantee, permission) pairs; the owner's canonical user is 'owner'."""
    owner_id = acl["Owner"]["ID"]
    out = []
    for g in acl["Grants"]:
        grantee = g["Grantee"]
        if grantee["Type"] == "CanonicalUser":
            who = "owner" if grantee["ID"] == owner_id else grantee["ID"]
        else:
            who = grantee["URI"]
        out.append((who, g["Permission"]))
    return sorted(out)


def test_default_acls_are_private(s3, bucket):
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert acl["Owner"]["ID"]
    assert grants(acl) == [("owner", "FULL_CONTROL")]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert grants(s3.get_object_acl(Bucket=bucket, Key="k")) == [("owner", "FULL_CONTROL")]


@pytest.mark.parametrize("canned,expected", [
    ("private", [("owner", "FULL_CONTROL")]),
    ("public-read", [(ALL_USERS, "READ"), ("owner", "FULL_CONTROL")]),
    ("public-read-write", [(ALL_USERS, "READ"), (ALL_USERS, "WRITE"), ("owner", "FULL_CONTROL")]),
    ("authenticated-read", [(AUTHENTICATED_USERS, "READ"), ("owner", "FULL_CONTROL")]),
])
def test_canned_bucket_acls(s3, canned, expected):
    # A public ACL cannot be given at CreateBucket (Block Public Access is on until
    # the bucket exists); PutBucketAcl sets it after.
    name = acl_bucket(s3, ACL="private")
    s3.put_bucket_acl(Bucket=name, ACL=canned)
    assert grants(s3.get_bucket_acl(Bucket=name)) == sorted(expected)
    s3.put_bucket_acl(Bucket=name, ACL="private")
    assert grants(s3.get_bucket_acl(Bucket=name)) == [("owner", "FULL_CONTROL")]
    s3.put_bucket_acl(Bucket=name, ACL=canned)
    assert grants(s3.get_bucket_acl(Bucket=name)) == sorted(expected)


@pytest.mark.parametrize("canned,expected", [
    ("public-read", [(ALL_USERS, "READ"), ("owner", "FULL_CONTROL")]),
    ("authenticated-read", [(AUTHENTICATED_USERS, "READ"), ("owner", "FULL_CONTROL")]),
    # Object and bucket have the same owner here: the bucket owner's grant is the owner's.
    ("bucket-owner-full-control", [("owner", "FULL_CONTROL")]),
])
def test_canned_object_acls(s3, bucket, canned, expected):
    s3.put_object(Bucket=bucket, Key="put", Body=b"x", ACL=canned)
    assert grants(s3.get_object_acl(Bucket=bucket, Key="put")) == sorted(expected)
    s3.put_object(Bucket=bucket, Key="later", Body=b"x")
    s3.put_object_acl(Bucket=bucket, Key="later", ACL=canned)
    assert grants(s3.get_object_acl(Bucket=bucket, Key="later")) == sorted(expected)


def test_copy_gets_the_requested_acl_not_the_sources(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", ACL="public-read")
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "src"})
    assert grants(s3.get_object_acl(Bucket=bucket, Key="plain")) == [("owner", "FULL_CONTROL")]
    s3.copy_object(Bucket=bucket, Key="public", CopySource={"Bucket": bucket, "Key": "src"}, ACL="public-read")
    assert (ALL_USERS, "READ") in grants(s3.get_object_acl(Bucket=bucket, Key="public"))


def test_multipart_upload_keeps_its_acl(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ACL="public-read")
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"data")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert (ALL_USERS, "READ") in grants(s3.get_object_acl(Bucket=bucket, Key="mp"))


def test_explicit_grants(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_object_acl(Bucket=bucket, Key="k", GrantRead=f'uri="{ALL_USERS}"')
    assert grants(s3.get_object_acl(Bucket=bucket, Key="k")) == [(ALL_USERS, "READ")]
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={
        "Owner": owner,
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
                   {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]})
    assert grants(s3.get_bucket_acl(Bucket=bucket)) == [(ALL_USERS, "READ"), ("owner", "FULL_CONTROL")]


def test_acl_errors(s3, bucket):
    assert err(lambda: s3.get_object_acl(Bucket=bucket, Key="missing"))[:2] == ("NoSuchKey", 404)
    assert err(lambda: s3.get_bucket_acl(Bucket="no-such-bucket-a9"))[0] == "NoSuchBucket"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    code, status = err(lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read",
                                                 GrantRead=f'uri="{ALL_USERS}"'))
    assert (code, status) == ("InvalidRequest", 400)


def test_block_public_acls(s3, bucket):
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    assert err(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")) == ("AccessDenied", 403)
    assert err(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read")) == ("AccessDenied", 403)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="private")
    assert err(lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")) == ("AccessDenied", 403)


# ---- anonymous reads (strict auth) ------------------------------------------

def test_public_read_object_is_readable_anonymously(strict_server):
    s3 = s3_client(strict_server.endpoint)
    name = acl_bucket(s3)
    s3.put_object(Bucket=name, Key="public.txt", Body=b"hello", ACL="public-read")
    s3.put_object(Bucket=name, Key="private.txt", Body=b"secret")
    r = requests.get(f"{strict_server.endpoint}/{name}/public.txt")
    assert r.status_code == 200 and r.content == b"hello"
    assert requests.head(f"{strict_server.endpoint}/{name}/public.txt").status_code == 200
    r = requests.get(f"{strict_server.endpoint}/{name}/private.txt")
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text
    # Anonymous writes and listings of a private bucket stay refused.
    assert requests.put(f"{strict_server.endpoint}/{name}/new.txt", data=b"x").status_code == 403
    assert requests.get(f"{strict_server.endpoint}/{name}?list-type=2").status_code == 403
    # IgnorePublicAcls makes the ACL count for nothing.
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    assert requests.get(f"{strict_server.endpoint}/{name}/public.txt").status_code == 403
    s3.delete_public_access_block(Bucket=name)
    assert requests.get(f"{strict_server.endpoint}/{name}/public.txt").status_code == 200


def test_public_read_bucket_acl_allows_anonymous_listing(strict_server):
    s3 = s3_client(strict_server.endpoint)
    name = acl_bucket(s3)
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    r = requests.get(f"{strict_server.endpoint}/{name}?list-type=2")
    assert r.status_code == 200 and "<Key>k</Key>" in r.text
    # Listing is public, the object is not.
    assert requests.get(f"{strict_server.endpoint}/{name}/k").status_code == 403


def test_acls_website_and_public_access_block_survive_a_restart(nimbus_factory):
    srv = nimbus_factory()
    s3 = s3_client(srv.endpoint)
    name = acl_bucket(s3)
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    s3.put_object(Bucket=name, Key="index.html", Body=b"hi", ACL="public-read")
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    srv.restart()
    s3 = s3_client(srv.endpoint)
    assert (ALL_USERS, "READ") in grants(s3.get_bucket_acl(Bucket=name))
    assert (ALL_USERS, "READ") in grants(s3.get_object_acl(Bucket=name, Key="index.html"))
    assert s3.get_bucket_website(Bucket=name)["IndexDocument"] == {"Suffix": "index.html"}
    assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    r = requests.get(f"{srv.endpoint}/", headers={"Host": f"{name}.s3-website.localhost:{srv.port}"})
    assert r.status_code == 200 and r.content == b"hi"


def test_aws_cli_website_and_acl(aws_cli, s3, bucket):
    aws_cli("s3", "website", f"s3://{bucket}", "--index-document", "index.html", "--error-document", "error.html")
    _, got, _ = aws_cli("s3api", "get-bucket-website", "--bucket", bucket)
    assert got["IndexDocument"] == {"Suffix": "index.html"} and got["ErrorDocument"] == {"Key": "error.html"}
    aws_cli("s3api", "put-bucket-acl", "--bucket", bucket, "--acl", "public-read")
    _, acl, _ = aws_cli("s3api", "get-bucket-acl", "--bucket", bucket)
    assert (ALL_USERS, "READ") in grants(acl)
