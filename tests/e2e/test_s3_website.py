"""S3 static website hosting end to end, written from AWS's user guide ("Hosting a
static website using Amazon S3", "Website endpoints", "Configuring an index
document", "Configuring a custom error document", "Configuring redirects") and
the API reference (PutBucketWebsite, PutPublicAccessBlock).

A bucket created since April 2023 blocks public access and has ACLs disabled;
as the user guide's walkthrough does, the buckets here first delete their public
access block (and enable ACLs, ObjectWriter, for the tests of public-read ACLs).

The website endpoint is reached with plain `requests` and a Host header
(`<bucket>.s3-website.localhost:<port>`), since *.localhost may not resolve."""

from __future__ import annotations

import json

import pytest
import requests
from botocore.exceptions import ClientError



def err(call):
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def bucket(public_bucket):
    return public_bucket


def public_read_policy(bucket, list_bucket=False):
    """The policy of the user guide's "Setting permissions for website access"."""
    statements = [{"Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*",
                   "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]}]
    if list_bucket:
        statements.append({"Sid": "PublicList", "Effect": "Allow", "Principal": {"AWS": "*"},
                           "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def site_get(server, bucket, path="/", method="GET", host_fmt="{b}.s3-website.localhost:{p}"):
    host = host_fmt.format(b=bucket, p=server.port)
    return requests.request(method, f"{server.endpoint}{path}", headers={"Host": host}, allow_redirects=False)


@pytest.fixture
def site(s3, bucket, local_server):
    """A public website: index.html, error.html, docs/index.html, about/index.html."""
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket, list_bucket=True))
    for key, body in [("index.html", b"<h1>home</h1>"), ("error.html", b"<h1>oops</h1>"),
                      ("docs/index.html", b"<h1>docs</h1>"), ("about/index.html", b"<h1>about</h1>"),
                      ("style.css", b"body{}")]:
        ctype = "text/css" if key.endswith(".css") else "text/html"
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=ctype)
    return bucket


# ---- configuration ---------------------------------------------------------

def test_website_configuration_round_trip(s3, bucket):
    assert err(lambda: s3.get_bucket_website(Bucket=bucket)) == ("NoSuchWebsiteConfiguration", 404)
    rules = [
        {"Condition": {"KeyPrefixEquals": "docs/"}, "Redirect": {"ReplaceKeyPrefixWith": "documents/"}},
        {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
         "Redirect": {"HostName": "ec2-11-22-333-44.compute-1.amazonaws.com", "Protocol": "https",
                      "HttpRedirectCode": "302", "ReplaceKeyPrefixWith": "report-404/"}},
    ]
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}, "RoutingRules": rules})
    got = s3.get_bucket_website(Bucket=bucket)
    assert got["IndexDocument"] == {"Suffix": "index.html"}
    assert got["ErrorDocument"] == {"Key": "error.html"}
    assert got["RoutingRules"] == rules
    r = s3.delete_bucket_website(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert err(lambda: s3.get_bucket_website(Bucket=bucket))[0] == "NoSuchWebsiteConfiguration"
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "example.com"}})
    assert s3.get_bucket_website(Bucket=bucket)["RedirectAllRequestsTo"] == {"HostName": "example.com"}


def test_website_configuration_errors(s3, bucket):
    bad = [
        {"ErrorDocument": {"Key": "error.html"}},  # no IndexDocument and no RedirectAllRequestsTo
        {"IndexDocument": {"Suffix": ""}},
        {"IndexDocument": {"Suffix": "a/index.html"}},
        {"IndexDocument": {"Suffix": "index.html"},
         "RoutingRules": [{"Redirect": {"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b"}}]},
    ]
    for cfg in bad:
        code, status = err(lambda: s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=cfg))
        assert (code, status) == ("InvalidArgument", 400), cfg
    assert err(lambda: s3.get_bucket_website(Bucket="no-such-bucket-w9"))[0] == "NoSuchBucket"


# ---- the website endpoint ------------------------------------------------

@pytest.mark.parametrize("host_fmt", ["{b}.s3-website.localhost:{p}", "{b}.s3-website-us-east-1.localhost:{p}",
                                      "{b}.s3-website.us-east-1.localhost:{p}"])
def test_index_document_at_root(server, site, host_fmt):
    r = site_get(server, site, "/", host_fmt=host_fmt)
    assert r.status_code == 200 and r.content == b"<h1>home</h1>"
    assert r.headers["Content-Type"] == "text/html"
    assert r.headers["ETag"].startswith('"')


def test_objects_and_folder_index(server, site):
    r = site_get(server, site, "/style.css")
    assert r.status_code == 200 and r.content == b"body{}" and r.headers["Content-Type"] == "text/css"
    r = site_get(server, site, "/docs/")
    assert r.status_code == 200 and r.content == b"<h1>docs</h1>"
    # "x" without a trailing slash and no object "x": S3 redirects 302 to "x/".
    r = site_get(server, site, "/about")
    assert r.status_code == 302 and r.headers["Location"] == "/about/"
    r = site_get(server, site, "/docs/index.html", method="HEAD")
    assert r.status_code == 200 and r.content == b"" and r.headers["Content-Length"] == str(len(b"<h1>docs</h1>"))


def test_error_document_keeps_the_status(server, site):
    r = site_get(server, site, "/missing.html")
    assert r.status_code == 404 and r.content == b"<h1>oops</h1>"


def test_html_error_pages(server, s3, bucket, local_server):
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket, list_bucket=True))
    r = site_get(server, bucket, "/nothing.html")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<title>404 Not Found</title>" in r.text
    assert "<li>Code: NoSuchKey</li>" in r.text and "<li>Key: nothing.html</li>" in r.text
    # error.html is missing too: S3 says so below the first error.
    assert "An Error Occurred While Attempting to Retrieve a Custom Error Document" in r.text
    assert "<li>Key: error.html</li>" in r.text
    assert "<Error>" not in r.text


def test_missing_key_without_list_permission_is_403(server, s3, bucket, local_server):
    """Without s3:ListBucket S3 does not reveal that a key is missing."""
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"hi", ContentType="text/html")
    assert site_get(server, bucket, "/").status_code == 200
    r = site_get(server, bucket, "/missing.html")
    assert r.status_code == 403 and "<li>Code: AccessDenied</li>" in r.text


def test_private_bucket_is_403(server, s3, bucket, local_server):
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"secret", ContentType="text/html")
    r = site_get(server, bucket, "/")
    assert r.status_code == 403
    assert "<title>403 Forbidden</title>" in r.text and "<li>Message: Access Denied</li>" in r.text


def test_deny_statement_wins(server, s3, site):
    policy = json.loads(public_read_policy(site, list_bucket=True))
    policy["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                                "Resource": f"arn:aws:s3:::{site}/docs/*"})
    s3.put_bucket_policy(Bucket=site, Policy=json.dumps(policy))
    assert site_get(server, site, "/style.css").status_code == 200
    r = site_get(server, site, "/docs/")
    # Denied: the error document is served with 403.
    assert r.status_code == 403 and r.content == b"<h1>oops</h1>"


def test_no_website_configuration_and_no_bucket(server, s3, bucket, local_server):
    r = site_get(server, bucket, "/")
    assert r.status_code == 404 and "<li>Code: NoSuchWebsiteConfiguration</li>" in r.text
    assert f"<li>BucketName: {bucket}</li>" in r.text
    r = site_get(server, "no-such-bucket-w8", "/")
    assert r.status_code == 404 and "<li>Code: NoSuchBucket</li>" in r.text


def test_only_get_and_head(server, site):
    for method in ["PUT", "DELETE", "POST"]:
        r = site_get(server, site, "/index.html", method=method)
        assert r.status_code == 405, method
        assert "<li>Code: MethodNotAllowed</li>" in r.text
    assert site_get(server, site, "/index.html").status_code == 200


def test_redirect_all_requests(server, s3, bucket, local_server):
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "www.example.com", "Protocol": "https"}})
    r = site_get(server, bucket, "/some/page.html")
    assert r.status_code == 301 and r.headers["Location"] == "https://www.example.com/some/page.html"


def test_routing_rules(server, s3, site):
    host = f"{site}.s3-website.localhost:{server.port}"
    s3.put_bucket_website(Bucket=site, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [
            {"Condition": {"KeyPrefixEquals": "docs/"}, "Redirect": {"ReplaceKeyPrefixWith": "documents/"}},
            {"Condition": {"KeyPrefixEquals": "images/"}, "Redirect": {"ReplaceKeyWith": "folderdeleted.html"}},
            {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
             "Redirect": {"HostName": "ec2.example.com", "Protocol": "https", "HttpRedirectCode": "302",
                          "ReplaceKeyPrefixWith": "report-404/"}},
        ]})
    r = site_get(server, site, "/docs/a.html")
    assert r.status_code == 301 and r.headers["Location"] == f"http://{host}/documents/a.html"
    r = site_get(server, site, "/images/x.png")
    assert r.status_code == 301 and r.headers["Location"] == f"http://{host}/folderdeleted.html"
    r = site_get(server, site, "/gone.html")
    assert r.status_code == 302 and r.headers["Location"] == "https://ec2.example.com/report-404/gone.html"
    # Objects that exist are not redirected by an error-code rule.
    assert site_get(server, site, "/style.css").status_code == 200


def test_public_read_object_acl_serves_without_policy(server, s3, bucket, local_server):
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"acl", ContentType="text/html", ACL="public-read")
    s3.put_object(Bucket=bucket, Key="private.html", Body=b"p", ContentType="text/html")
    assert site_get(server, bucket, "/").content == b"acl"
    assert site_get(server, bucket, "/private.html").status_code == 403


# ---- Block Public Access ----------------------------------------------------

def test_public_access_block_configuration(s3, bucket):
    assert err(lambda: s3.get_public_access_block(Bucket=bucket)) == ("NoSuchPublicAccessBlockConfiguration", 404)
    cfg = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True, "RestrictPublicBuckets": False}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=cfg)
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == cfg
    r = s3.delete_public_access_block(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert err(lambda: s3.get_public_access_block(Bucket=bucket))[0] == "NoSuchPublicAccessBlockConfiguration"


def test_block_public_policy(s3, bucket):
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    assert err(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))) == ("AccessDenied", 403)
    private = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=private)


def test_restrict_public_buckets_stops_website_access(server, s3, site):
    assert site_get(server, site, "/").status_code == 200
    s3.put_public_access_block(Bucket=site, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    r = site_get(server, site, "/")
    assert r.status_code == 403
    s3.delete_public_access_block(Bucket=site)
    assert site_get(server, site, "/").status_code == 200


def test_ignore_public_acls_stops_acl_access(server, s3, bucket, local_server):
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"acl", ContentType="text/html", ACL="public-read")
    assert site_get(server, bucket, "/").status_code == 200
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    assert site_get(server, bucket, "/").status_code == 403


def test_object_website_redirect_location(server, s3, site):
    """"Configuring a webpage redirect": x-amz-website-redirect-location on an object."""
    s3.put_object(Bucket=site, Key="old.html", Body=b"", WebsiteRedirectLocation="/new.html")
    s3.put_object(Bucket=site, Key="away.html", Body=b"", WebsiteRedirectLocation="https://example.com/x")
    assert s3.head_object(Bucket=site, Key="old.html")["WebsiteRedirectLocation"] == "/new.html"
    r = site_get(server, site, "/old.html")
    assert r.status_code == 301 and r.headers["Location"] == "/new.html"
    assert site_get(server, site, "/away.html").headers["Location"] == "https://example.com/x"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=site, Key="bad.html", Body=b"", WebsiteRedirectLocation="new.html")
    assert e.value.response["Error"]["Code"] == "InvalidRedirectLocation"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_browser_revalidation_gets_304(server, site):
    first = site_get(server, site, "/style.css")
    host = f"{site}.s3-website.localhost:{server.port}"
    r = requests.get(f"{server.endpoint}/style.css", headers={"Host": host, "If-None-Match": first.headers["ETag"]})
    assert r.status_code == 304 and r.content == b""
    r = requests.get(f"{server.endpoint}/style.css", headers={"Host": host, "If-None-Match": '"other"'})
    assert r.status_code == 200
    r = requests.get(f"{server.endpoint}/style.css", headers={"Host": host, "If-Modified-Since": first.headers["Last-Modified"]})
    assert r.status_code == 304
    r = requests.get(f"{server.endpoint}/style.css", headers={"Host": host, "If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})
    assert r.status_code == 200 and r.content == b"body{}"


# ---- archived storage classes -----------------------------------------------
# The website endpoint's documentation is silent on archived objects; it serves
# GetObject's answer: a GLACIER or DEEP_ARCHIVE version that is not restored is a
# 403 InvalidObjectState ("Object is archived and inaccessible until restored",
# GetObject in the API reference), reported in the website's HTML error format and
# handled like its other 403s (the custom error document, error-code routing rules).

RESTORE = {"Days": 1, "GlacierJobParameters": {"Tier": "Standard"}}


def site_without_error_document(s3, bucket):
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket, list_bucket=True))


@pytest.mark.parametrize("cls", ["GLACIER", "DEEP_ARCHIVE"])
def test_archived_object_is_invalid_object_state_until_restored(server, s3, bucket, local_server, cls):
    site_without_error_document(s3, bucket)
    s3.put_object(Bucket=bucket, Key="old.html", Body=b"<h1>old</h1>", ContentType="text/html", StorageClass=cls)
    r = site_get(server, bucket, "/old.html")
    assert r.status_code == 403
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<title>403 Forbidden</title>" in r.text
    assert "<li>Code: InvalidObjectState</li>" in r.text
    assert "<li>Message: The operation is not valid for the object's storage class</li>" in r.text
    assert f"<li>StorageClass: {cls}</li>" in r.text
    assert r.headers["x-amz-error-code"] == "InvalidObjectState"
    # A restored copy is served.
    s3.restore_object(Bucket=bucket, Key="old.html", RestoreRequest=RESTORE)
    r = site_get(server, bucket, "/old.html")
    assert r.status_code == 200 and r.content == b"<h1>old</h1>"


def test_archived_object_gets_the_error_document(server, s3, site):
    s3.put_object(Bucket=site, Key="cold.html", Body=b"<h1>cold</h1>", ContentType="text/html", StorageClass="GLACIER")
    r = site_get(server, site, "/cold.html")
    # As for other 403s: the custom error document, with the error's status.
    assert r.status_code == 403 and r.content == b"<h1>oops</h1>"
    s3.restore_object(Bucket=site, Key="cold.html", RestoreRequest=RESTORE)
    assert site_get(server, site, "/cold.html").content == b"<h1>cold</h1>"


def test_archived_index_and_error_documents(server, s3, site):
    s3.put_object(Bucket=site, Key="docs/index.html", Body=b"<h1>docs</h1>", ContentType="text/html",
                  StorageClass="DEEP_ARCHIVE")
    assert site_get(server, site, "/docs/").status_code == 403
    # The error document archived too: S3's page, naming both errors.
    s3.put_object(Bucket=site, Key="error.html", Body=b"<h1>oops</h1>", ContentType="text/html", StorageClass="GLACIER")
    r = site_get(server, site, "/docs/")
    assert r.status_code == 403 and "<li>Code: InvalidObjectState</li>" in r.text
    assert "An Error Occurred While Attempting to Retrieve a Custom Error Document" in r.text
    assert "<li>StorageClass: DEEP_ARCHIVE</li>" in r.text and "<li>StorageClass: GLACIER</li>" in r.text
    r = site_get(server, site, "/missing.html")
    assert r.status_code == 404 and "<li>Code: NoSuchKey</li>" in r.text and "<li>StorageClass: GLACIER</li>" in r.text


def test_head_of_archived_object_answers_like_head_object(server, s3, bucket, local_server):
    """HeadObject reads metadata only and answers for archived objects; so does a HEAD."""
    site_without_error_document(s3, bucket)
    s3.put_object(Bucket=bucket, Key="old.html", Body=b"<h1>old</h1>", ContentType="text/html", StorageClass="GLACIER")
    r = site_get(server, bucket, "/old.html", method="HEAD")
    assert r.status_code == 200 and r.headers["Content-Length"] == str(len(b"<h1>old</h1>"))


def test_access_is_decided_before_the_storage_class(server, s3, bucket, local_server):
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_object(Bucket=bucket, Key="old.html", Body=b"x", ContentType="text/html", StorageClass="GLACIER")
    r = site_get(server, bucket, "/old.html")
    assert r.status_code == 403 and "<li>Code: AccessDenied</li>" in r.text


def test_error_code_routing_rule_applies_to_archived_objects(server, s3, site):
    host = f"{site}.s3-website.localhost:{server.port}"
    s3.put_bucket_website(Bucket=site, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [{"Condition": {"HttpErrorCodeReturnedEquals": "403"},
                          "Redirect": {"ReplaceKeyWith": "restoring.html"}}]})
    s3.put_object(Bucket=site, Key="cold.html", Body=b"x", ContentType="text/html", StorageClass="GLACIER")
    r = site_get(server, site, "/cold.html")
    assert r.status_code == 301 and r.headers["Location"] == f"http://{host}/restoring.html"
