"""Who may do what in S3, end to end, from AWS's documentation:

- the S3 user guide's "Controlling ownership of objects and disabling ACLs" and its
  troubleshooting page (AccessControlListNotSupported, InvalidBucketAclWithObjectOwnership),
  and "Blocking public access" with the defaults of buckets created since April 2023
  (ACLs disabled, all four Block Public Access settings on);
- "Bucket policy examples" and the IAM reference's condition operators: conditions on
  aws:SourceIp and s3:prefix, and an explicit Deny binding signed callers too;
- the API reference of Put/Get/DeleteBucketOwnershipControls and GetBucketPolicyStatus.

Anonymous requests are tried against a server in strict auth mode (the session
server accepts unsigned requests as its default account)."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from test_s3_basics import s3_client

ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def err(call):
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def new_name():
    return f"x-{uuid.uuid4().hex[:12]}"


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def ownership(s3, bucket):
    return s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"]


# ---- defaults of a new bucket ----------------------------------------------

def test_new_bucket_blocks_public_access_and_disables_acls(s3, bucket, aws_cli):
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == ALL_ON
    _, got, _ = aws_cli("s3api", "get-public-access-block", "--bucket", bucket)
    assert got["PublicAccessBlockConfiguration"] == ALL_ON
    assert ownership(s3, bucket) == "BucketOwnerEnforced"
    _, got, _ = aws_cli("s3api", "get-bucket-ownership-controls", "--bucket", bucket)
    assert got["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_acls_disabled(s3, bucket, aws_cli):
    assert err(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")) == (
        "AccessControlListNotSupported", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="authenticated-read")
    assert e.value.response["Error"]["Message"] == "The bucket does not allow ACLs"
    assert err(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                                     GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')) == (
        "AccessControlListNotSupported", 400)
    # No ACL, or the bucket owner's full control, is accepted.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_object(Bucket=bucket, Key="k2", Body=b"x", ACL="bucket-owner-full-control")
    assert err(lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")) == ("AccessControlListNotSupported", 400)
    assert err(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read")) == ("AccessControlListNotSupported", 400)
    assert err(lambda: s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"},
                                      ACL="public-read")) == ("AccessControlListNotSupported", 400)
    assert err(lambda: s3.create_multipart_upload(Bucket=bucket, Key="m", ACL="public-read-write")) == (
        "AccessControlListNotSupported", 400)
    code, _, stderr = aws_cli("s3api", "put-object-acl", "--bucket", bucket, "--key", "k", "--acl", "public-read",
                              check=False)
    assert code != 0 and "AccessControlListNotSupported" in stderr
    # Reading ACLs still works and shows the owner's full control.
    acl = s3.get_object_acl(Bucket=bucket, Key="k")
    assert [(g["Grantee"]["Type"], g["Permission"]) for g in acl["Grants"]] == [("CanonicalUser", "FULL_CONTROL")]
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert [(g["Grantee"]["Type"], g["Permission"]) for g in acl["Grants"]] == [("CanonicalUser", "FULL_CONTROL")]


def test_public_policy_refused_while_block_public_policy_is_on(s3, bucket):
    public = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    assert err(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=public)) == ("AccessDenied", 403)
    # Pinned to a set of addresses or a fixed source, a policy for everyone is not public.
    for condition in [{"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}},
                      {"StringEquals": {"aws:SourceAccount": "123456789012"}},
                      {"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}}]:
        pinned = json.loads(public)
        pinned["Statement"][0]["Condition"] = condition
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(pinned))
        assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    # A condition that does not pin the caller leaves it public.
    loose = json.loads(public)
    loose["Statement"][0]["Condition"] = {"StringLike": {"aws:Referer": "http://www.example.com/*"}}
    assert err(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(loose))) == ("AccessDenied", 403)
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=public)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True


def test_create_bucket_acls_and_object_ownership(s3):
    # An ACL other than the owner's full control needs ACLs enabled ...
    assert err(lambda: s3.create_bucket(Bucket=new_name(), ACL="public-read")) == (
        "InvalidBucketAclWithObjectOwnership", 400)
    # ... and a public one cannot get past Block Public Access at creation.
    assert err(lambda: s3.create_bucket(Bucket=new_name(), ACL="public-read", ObjectOwnership="ObjectWriter")) == (
        "InvalidBucketAclWithBlockPublicAccessError", 400)
    s3.create_bucket(Bucket=(private := new_name()), ACL="private")
    assert ownership(s3, private) == "BucketOwnerEnforced"
    for choice in ["ObjectWriter", "BucketOwnerPreferred", "BucketOwnerEnforced"]:
        s3.create_bucket(Bucket=(name := new_name()), ObjectOwnership=choice)
        assert ownership(s3, name) == choice
        assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == ALL_ON


def test_ownership_controls_round_trip(s3, bucket, aws_cli):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert ownership(s3, bucket) == "ObjectWriter"
    aws_cli("s3api", "put-bucket-ownership-controls", "--bucket", bucket,
            "--ownership-controls", "Rules=[{ObjectOwnership=BucketOwnerPreferred}]")
    assert ownership(s3, bucket) == "BucketOwnerPreferred"
    r = s3.delete_bucket_ownership_controls(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert err(lambda: s3.get_bucket_ownership_controls(Bucket=bucket)) == ("OwnershipControlsNotFoundError", 404)
    code, _, stderr = aws_cli("s3api", "get-bucket-ownership-controls", "--bucket", bucket, check=False)
    assert code != 0 and "OwnershipControlsNotFoundError" in stderr
    assert err(lambda: s3.get_bucket_ownership_controls(Bucket="no-such-bucket-x7")) == ("NoSuchBucket", 404)


def test_acls_enabled_then_disabled(s3, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    # Block Public Access still stops a public ACL ...
    assert err(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read")) == ("AccessDenied", 403)
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    # ... and ACLs can be disabled again only once the bucket ACL is private.
    enforce = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert err(lambda: s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=enforce)) == (
        "InvalidBucketAclWithObjectOwnership", 400)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=enforce)
    acl = s3.get_object_acl(Bucket=bucket, Key="k")
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]


# ---- bucket policies for signed callers --------------------------------------

def test_deny_by_source_ip_blocks_signed_get(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    deny_local = policy({"Sid": "DenyLocal", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                         "Resource": f"arn:aws:s3:::{bucket}/*",
                         "Condition": {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}}})
    s3.put_bucket_policy(Bucket=bucket, Policy=deny_local)
    assert err(lambda: s3.get_object(Bucket=bucket, Key="k")) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert e.value.response["Error"]["Message"] == "Access Denied"
    assert err(lambda: s3.head_object(Bucket=bucket, Key="k"))[1] == 403
    # Other actions are not denied.
    s3.put_object(Bucket=bucket, Key="k2", Body=b"x")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k", "k2"]
    # A range the caller is not in denies nothing.
    s3.put_bucket_policy(Bucket=bucket, Policy=deny_local.replace("127.0.0.0/8", "192.0.2.0/24").replace("::1/128", "2001:db8::/32"))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


def test_deny_names_principals(s3, bucket, account):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    deny = {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({**deny, "Principal": {"AWS": f"arn:aws:iam::{account}:root"}}))
    assert err(lambda: s3.get_object(Bucket=bucket, Key="k")) == ("AccessDenied", 403)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({**deny, "Principal": {"AWS": account}}))
    assert err(lambda: s3.get_object(Bucket=bucket, Key="k")) == ("AccessDenied", 403)
    # Another account's principal is not the caller.
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({**deny, "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


def test_delete_objects_checks_each_key(s3, bucket):
    """A multi-object delete is one s3:DeleteObject per key: keys a Deny covers come
    back as AccessDenied errors, the others are deleted (S3 API reference, DeleteObjects)."""
    for k in ("keep/a", "keep/b", "tmp/a", "tmp/b"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/keep/*"}))
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in ("keep/a", "tmp/a", "keep/b", "tmp/b")]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["tmp/a", "tmp/b"]
    assert sorted((e["Key"], e["Code"]) for e in r["Errors"]) == [("keep/a", "AccessDenied"), ("keep/b", "AccessDenied")]
    s3.delete_bucket_policy(Bucket=bucket)
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == ["keep/a", "keep/b"]


def test_owner_can_still_delete_a_deny_all_policy(s3, bucket, aws_cli):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    deny_all = policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                       "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]})
    s3.put_bucket_policy(Bucket=bucket, Policy=deny_all)
    assert err(lambda: s3.get_object(Bucket=bucket, Key="k")) == ("AccessDenied", 403)
    assert err(lambda: s3.list_objects_v2(Bucket=bucket)) == ("AccessDenied", 403)
    assert err(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"y")) == ("AccessDenied", 403)
    assert err(lambda: s3.get_bucket_tagging(Bucket=bucket)) == ("AccessDenied", 403)
    # The owner's root user may always read, replace and delete the bucket policy.
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(deny_all)
    _, got, _ = aws_cli("s3api", "get-bucket-policy", "--bucket", bucket)
    assert json.loads(got["Policy"]) == json.loads(deny_all)
    aws_cli("s3api", "delete-bucket-policy", "--bucket", bucket)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


def test_s3_prefix_condition_on_list_bucket(s3, bucket, aws_cli):
    for key in ["home/alice/a.txt", "home/bob/b.txt", "secret/s.txt"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({
        "Sid": "ListOnlyHome", "Effect": "Deny", "Principal": "*", "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{bucket}", "Condition": {"StringNotLike": {"s3:prefix": ["home/*"]}}}))
    got = s3.list_objects_v2(Bucket=bucket, Prefix="home/")
    assert [o["Key"] for o in got["Contents"]] == ["home/alice/a.txt", "home/bob/b.txt"]
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket, Prefix="home/alice/")["Contents"]] == ["home/alice/a.txt"]
    # No prefix: the key is missing and StringNotLike holds, so the Deny applies.
    assert err(lambda: s3.list_objects_v2(Bucket=bucket)) == ("AccessDenied", 403)
    assert err(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="secret/")) == ("AccessDenied", 403)
    _, got, _ = aws_cli("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "home/bob/")
    assert [o["Key"] for o in got["Contents"]] == ["home/bob/b.txt"]
    code, _, stderr = aws_cli("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "secret/", check=False)
    assert code != 0 and "AccessDenied" in stderr


def test_max_keys_and_user_agent_conditions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
        "Condition": {"NumericGreaterThan": {"s3:max-keys": "10"}}}))
    assert s3.list_objects_v2(Bucket=bucket, MaxKeys=10)["KeyCount"] == 1
    assert err(lambda: s3.list_objects_v2(Bucket=bucket, MaxKeys=11)) == ("AccessDenied", 403)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringLike": {"aws:UserAgent": "*Boto3*"}, "Bool": {"aws:SecureTransport": "false"}}}))
    assert err(lambda: s3.get_object(Bucket=bucket, Key="k")) == ("AccessDenied", 403)
    assert requests.get(f"{s3.meta.endpoint_url}/{bucket}/k", headers={"User-Agent": "curl/8"}).status_code == 200


def test_another_account_needs_an_allow(endpoint, s3, bucket, account):
    s3.put_object(Bucket=bucket, Key="shared/k", Body=b"data")
    other = s3_client(endpoint, key="111122223333")
    assert err(lambda: other.get_object(Bucket=bucket, Key="shared/k")) == ("AccessDenied", 403)
    assert err(lambda: other.list_objects_v2(Bucket=bucket)) == ("AccessDenied", 403)
    assert err(lambda: other.get_bucket_policy(Bucket=bucket))[1] == 403
    s3.put_bucket_policy(Bucket=bucket, Policy=policy({
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/shared/*"}))
    assert other.get_object(Bucket=bucket, Key="shared/k")["Body"].read() == b"data"
    assert err(lambda: other.put_object(Bucket=bucket, Key="shared/k", Body=b"x")) == ("AccessDenied", 403)
    assert err(lambda: other.list_objects_v2(Bucket=bucket)) == ("AccessDenied", 403)
    # The owner's account is not limited by a policy naming someone else.
    assert s3.get_object(Bucket=bucket, Key="shared/k")["Body"].read() == b"data"


def test_malformed_condition_refused(s3, bucket):
    bad = policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*",
                  "Condition": {"IpAdress": {"aws:SourceIp": "10.0.0.0/8"}}})
    assert err(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=bad)) == ("MalformedPolicy", 400)


def test_malformed_policy_messages(s3, bucket):
    """MalformedPolicy's texts as S3 answers them (reported by users and by S3-compatible
    servers tested against AWS)."""
    def message(p):
        with pytest.raises(ClientError) as e:
            s3.put_bucket_policy(Bucket=bucket, Policy=p)
        assert e.value.response["Error"]["Code"] == "MalformedPolicy"
        return e.value.response["Error"]["Message"]

    assert message("not json") == "Policies must be valid JSON and the first byte must be '{'"
    assert message('{"Version": "2012-10-17", "Statement": [}') == "This policy contains invalid Json"
    assert message(policy()) == "Could not parse the policy: Statement is empty!"
    base = {"Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    assert message(policy({**base, "Effect": "hello"})) == "Invalid effect: hello"
    no_principal = {k: v for k, v in base.items() if k != "Principal"}
    assert message(policy({**no_principal, "Effect": "Deny"})) == "Missing required field Principal"


# ---- anonymous callers (strict auth) ----------------------------------------

def test_allow_conditioned_on_source_ip(strict_server):
    s3 = s3_client(strict_server.endpoint)
    s3.create_bucket(Bucket=(name := new_name()))
    s3.put_object(Bucket=name, Key="k", Body=b"hello")
    url = f"{strict_server.endpoint}/{name}/k"
    assert requests.get(url).status_code == 403
    allow = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*",
             "Condition": {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}}}
    # Pinned to addresses, the policy is not public: Block Public Access lets it be.
    s3.put_bucket_policy(Bucket=name, Policy=policy(allow))
    r = requests.get(url)
    assert r.status_code == 200 and r.content == b"hello"
    # X-Forwarded-For is not the source address.
    assert requests.get(url, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200
    # A range the caller is not in lets nothing through.
    allow["Condition"] = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    s3.put_bucket_policy(Bucket=name, Policy=policy(allow))
    r = requests.get(url)
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text
    assert requests.get(url, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    allow["Condition"] = {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    # Not pinned: public, refused while BlockPublicPolicy is on.
    assert err(lambda: s3.put_bucket_policy(Bucket=name, Policy=policy(allow))) == ("AccessDenied", 403)


def test_anonymous_listing_by_prefix(strict_server):
    s3 = s3_client(strict_server.endpoint)
    s3.create_bucket(Bucket=(name := new_name()))
    for key in ["public/a.txt", "private/b.txt"]:
        s3.put_object(Bucket=name, Key=key, Body=b"x")
    s3.delete_public_access_block(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=policy({
        "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{name}",
        "Condition": {"StringEquals": {"s3:prefix": ["public/"]}}}))
    r = requests.get(f"{strict_server.endpoint}/{name}?list-type=2&prefix=public%2F")
    assert r.status_code == 200 and "<Key>public/a.txt</Key>" in r.text and "private" not in r.text
    assert requests.get(f"{strict_server.endpoint}/{name}?list-type=2").status_code == 403
    assert requests.get(f"{strict_server.endpoint}/{name}?list-type=2&prefix=private%2F").status_code == 403
    # RestrictPublicBuckets voids the public policy for anonymous callers.
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    assert requests.get(f"{strict_server.endpoint}/{name}?list-type=2&prefix=public%2F").status_code == 403


def test_anonymous_write_allowed_by_policy(strict_server):
    s3 = s3_client(strict_server.endpoint)
    s3.create_bucket(Bucket=(name := new_name()))
    s3.put_bucket_policy(Bucket=name, Policy=policy({
        "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{name}/uploads/*",
        "Condition": {"IpAddress": {"aws:SourceIp": ["127.0.0.1/32", "::1/128"]}}}))
    assert requests.put(f"{strict_server.endpoint}/{name}/uploads/a.txt", data=b"anon").status_code == 200
    assert requests.put(f"{strict_server.endpoint}/{name}/other/a.txt", data=b"anon").status_code == 403
    assert s3.get_object(Bucket=name, Key="uploads/a.txt")["Body"].read() == b"anon"
