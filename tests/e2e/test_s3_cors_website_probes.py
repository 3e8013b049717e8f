"""Conformance probes for S3 CORS and static website hosting, beyond what
test_s3_config.py (CORS basics) and test_s3_website.py (website basics) cover.

Where each expectation comes from (tags used in the tests):

- [UG-CORS] "Using cross-origin resource sharing (CORS)", "How does Amazon S3 evaluate the
  CORS configuration on a bucket?" (S3 User Guide, cors.html): the first CORSRule that
  matches wins; Origin must match an AllowedOrigin, the method (or
  Access-Control-Request-Method of a preflight) an AllowedMethod, every header of
  Access-Control-Request-Headers an AllowedHeader.
- [UG-ELEM] "CORS configuration" (ManageCorsUsing.html): up to 100 rules; AllowedMethod is
  GET, PUT, POST, DELETE, HEAD; an AllowedOrigin "can contain only one * wildcard character,
  such as http://*.example.com"; AllowedHeader likewise (x-amz-*).
- [UG-TROUBLE] "Troubleshooting CORS" (cors-troubleshooting.html): without an Origin header
  S3 "doesn't treat the request as a cross-origin request, and doesn't send CORS response
  headers"; scheme, host and port must match; 403 "CORS is not enabled for this bucket" and
  "This CORS request is not allowed".
- [API-OPTIONS] "Appendix: OPTIONS object": Origin and Access-Control-Request-Method are
  required; "If cors is not enabled on the bucket, then Amazon S3 returns a 403 Forbidden".
- [LS] LocalStack's tests/aws/services/s3/test_s3_cors.py and its snapshot, recorded against
  AWS (markers.aws.validated): exact error codes/messages, Vary, Allow-Credentials only for a
  non-'*' origin, CORS headers also on actual responses, an actual request carrying
  Access-Control-Request-Method/-Headers is matched like a preflight, MalformedXML for no rules,
  InvalidRequest for an unsupported method.  Secondary (not AWS's own words).
- [S3TESTS] ceph s3-tests test_cors_origin_response (not fails_on_aws): an OPTIONS with only
  an Origin on a configured bucket is 400; a GET of a missing key from an allowed origin is
  404 *with* CORS headers; an anonymous PUT refused 403 still carries them.  Secondary.
- [VGW] versitygw issue 1870 (2026): two '*' in an AllowedOrigin is InvalidRequest 'AllowedOrigin
  "..." can not have more than one wildcard.'  Secondary.
- [UG-WEB] "Website endpoints" (WebsiteEndpoints.html): only GET and HEAD on objects, HTML
  errors, "Requester Pays buckets do not allow access through a website endpoint. Any request
  to such a bucket receives a 403 Access Denied response."
- [UG-INDEX] "Configuring an index document": "photos" without a trailing slash: "Amazon S3
  first looks for an object photos in the bucket. If the photos object is not found, it
  searches for an index document, photos/index.html. If that document is found, Amazon S3
  returns a 302 Found ... If the index document is not found, Amazon S3 returns an error."
- [UG-REDIRECT] "Configuring a webpage redirect" (how-to-page-redirect.html): routing rule
  elements; "If the routing rule does not include a condition, the rule is applied to all
  requests"; "If both KeyPrefixEquals and HttpErrorCodeReturnedEquals are specified, both must
  be true for the condition to be met."
- [UG-ERRDOC] "Configuring a custom error document" (CustomErrorDocSupport.html): "Amazon S3
  returns your custom error document for only the HTTP 4XX class of error codes."
- [API-WEB] PutBucketWebsite / RedirectAllRequestsTo: Protocol "The default is the protocol
  that is used in the original request."
- [KC-403] AWS Knowledge Center "I'm using an S3 website endpoint ... Why am I getting 403
  Access Denied?": "Objects in the bucket can't be encrypted by AWS KMS".
- [LS-WEB] LocalStack's website routing tests (test_routing_rules_redirects,
  test_routing_rules_empty_replace_prefix, test_routing_rules_conditions).  Secondary.

Tests whose expectation rests only on secondary sources say so (UNSURE) in their docstring.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from test_s3_basics import s3_client

NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
               "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "
               "are not whitelisted by the resource's CORS spec.")
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


def err(call):
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message")


def cors_headers(r):
    return {k.lower(): v for k, v in r.headers.items() if k.lower().startswith("access-control-")}


def xml_field(text, name):
    start, end = f"<{name}>", f"</{name}>"
    if start not in text:
        return None
    return text.split(start, 1)[1].split(end, 1)[0]


def preflight(url, origin, method, req_headers=None):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if req_headers is not None:
        h["Access-Control-Request-Headers"] = req_headers
    return requests.options(url, headers=h)


# =============================================================================
# CORS: preflight evaluation
# =============================================================================

def test_preflight_request_headers_match_case_insensitively(s3, endpoint, bucket):
    """[UG-CORS] every requested header must match an AllowedHeader; [LS] (2025 recording):
    "x-AMZ-expected-BUCKET-owner, x-amz-server-side-encryption" against AllowedHeaders stored
    as "x-amz-expected-bucket-owner" / "x-AMZ-server-SIDE-encryption" is 200, names answered
    lowercase, in the order requested."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"],
        "AllowedHeaders": ["x-amz-expected-bucket-owner", "x-AMZ-server-SIDE-encryption"]}]})
    # GetBucketCors keeps the case as stored.
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedHeaders"] == [
        "x-amz-expected-bucket-owner", "x-AMZ-server-SIDE-encryption"]
    url = f"{endpoint}/{bucket}/k"
    r = preflight(url, "https://app.example.com", "GET", "x-AMZ-expected-BUCKET-owner, X-Amz-Server-Side-Encryption")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Headers"].lower() == "x-amz-expected-bucket-owner, x-amz-server-side-encryption"
    # Without the space after the comma (how browsers write it): same answer.
    r = preflight(url, "https://app.example.com", "GET", "x-amz-expected-bucket-owner,x-amz-server-side-encryption")
    assert r.status_code == 200, r.text
    # One header outside the list refuses the whole preflight, with no CORS headers.
    r = preflight(url, "https://app.example.com", "GET", "x-amz-expected-bucket-owner, x-amz-request-payer")
    assert r.status_code == 403 and xml_field(r.text, "Code") == "AccessForbidden"
    assert cors_headers(r) == {}


def test_preflight_allowed_headers_star_and_prefix_wildcard(s3, endpoint, bucket):
    """[UG-ELEM] "<AllowedHeader>x-amz-*</AllowedHeader> will enable all Amazon-specific
    headers"; '*' allows any; S3 "returns any requested headers that are allowed"."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://one.example"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["x-amz-*"]},
        {"AllowedOrigins": ["https://two.example"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["*"]},
    ]})
    url = f"{endpoint}/{bucket}/k"
    r = preflight(url, "https://one.example", "PUT", "x-amz-meta-colour, x-amz-date")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Headers"].lower() == "x-amz-meta-colour, x-amz-date"
    r = preflight(url, "https://one.example", "PUT", "x-amz-date, content-type")
    assert r.status_code == 403, "content-type does not match x-amz-*"
    r = preflight(url, "https://two.example", "PUT", "Content-Type, X-Custom, Authorization")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Headers"].lower() == "content-type, x-custom, authorization"


def test_rule_without_allowed_headers_refuses_requested_headers(s3, endpoint, bucket):
    """[LS] test_put_cors_default_values: a rule of ['*'] and ['GET'] answers a preflight with
    Allow-Methods, Allow-Origin '*' and Vary only (no Max-Age, Expose, Credentials,
    Allow-Headers); with Access-Control-Request-Headers it is 403."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
    url = f"{endpoint}/{bucket}/k"
    r = preflight(url, "https://any.example", "GET")
    assert r.status_code == 200 and r.content == b""
    assert cors_headers(r) == {"access-control-allow-origin": "*", "access-control-allow-methods": "GET"}
    assert r.headers.get("Vary") == VARY
    r = preflight(url, "https://any.example", "GET", "x-amz-request-payer")
    assert r.status_code == 403 and xml_field(r.text, "Message") == NOT_ALLOWED


def test_wildcard_subdomain_origin(s3, endpoint, bucket):
    """[UG-ELEM] "http://*.example.com"; [UG-TROUBLE] scheme, host and port must match;
    [LS] http://*.origin.com matches http://test.origin.com (echoed, with credentials)."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["http://*.example.com"], "AllowedMethods": ["GET"], "MaxAgeSeconds": 60}]})
    url = f"{endpoint}/{bucket}/k"
    r = preflight(url, "http://app.example.com", "GET")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "http://app.example.com"
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    for origin in ["https://app.example.com", "http://example.com", "http://app.example.com:8080",
                   "http://app.example.com.evil.org", "http://app.example.org", "http://test.example.com/"]:
        r = preflight(url, origin, "GET")
        assert r.status_code == 403, origin
        assert xml_field(r.text, "Code") == "AccessForbidden", origin
        assert "Access-Control-Allow-Origin" not in r.headers, origin


def test_explicit_origin_with_port_must_match_exactly(s3, endpoint, bucket):
    """[UG-TROUBLE] "if you set the CORSRule to allow the origin http://www.example.com, then
    both https://www.example.com and http://www.example.com:80 origins in your request don't
    match"."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["http://www.example.com"], "AllowedMethods": ["GET"]}]})
    url = f"{endpoint}/{bucket}/k"
    assert preflight(url, "http://www.example.com", "GET").status_code == 200
    assert preflight(url, "https://www.example.com", "GET").status_code == 403
    assert preflight(url, "http://www.example.com:80", "GET").status_code == 403


def test_first_matching_rule_wins(s3, endpoint, bucket):
    """[UG-CORS] "uses the first CORSRule rule that matches": a rule that matches the origin
    but not the method is skipped; of two full matches the first one's settings answer."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"ID": "put-only", "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT"],
         "MaxAgeSeconds": 11, "ExposeHeaders": ["x-first"]},
        {"ID": "get-a", "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "HEAD"],
         "MaxAgeSeconds": 22, "ExposeHeaders": ["x-second"]},
        {"ID": "get-b", "AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "MaxAgeSeconds": 33},
    ]})
    url = f"{endpoint}/{bucket}/k"
    r = preflight(url, "https://app.example.com", "GET")
    assert r.status_code == 200
    assert r.headers["Access-Control-Max-Age"] == "22"
    assert r.headers["Access-Control-Expose-Headers"] == "x-second"
    assert r.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    r = preflight(url, "https://app.example.com", "PUT")
    assert r.headers["Access-Control-Max-Age"] == "11" and r.headers["Access-Control-Allow-Methods"] == "PUT"
    r = preflight(url, "https://other.example.com", "GET")
    assert r.headers["Access-Control-Max-Age"] == "33" and r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_no_matching_rule_error_document(s3, endpoint, bucket):
    """[UG-TROUBLE] 403 "This CORS request is not allowed"; [LS] exact wire form: code
    AccessForbidden, the long message, Method = the requested method, ResourceType OBJECT
    for an object URL; no CORS headers."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}]})
    r = preflight(f"{endpoint}/{bucket}/photo.jpg", "https://app.example.com", "DELETE")
    assert r.status_code == 403
    assert r.headers["Content-Type"].startswith("application/xml")
    assert xml_field(r.text, "Code") == "AccessForbidden"
    assert xml_field(r.text, "Message") == NOT_ALLOWED
    assert xml_field(r.text, "Method") == "DELETE"
    assert xml_field(r.text, "ResourceType") == "OBJECT"
    assert xml_field(r.text, "RequestId") and xml_field(r.text, "HostId")
    assert cors_headers(r) == {}


def test_no_cors_configuration_error_document(endpoint, bucket):
    """[API-OPTIONS] no cors -> 403; [LS] (AWS recording 2023-07-31): AccessForbidden
    "CORSResponse: CORS is not enabled for this bucket.", Method = the requested method and
    ResourceType BUCKET, although the URL names an object."""
    r = preflight(f"{endpoint}/{bucket}/some/key.txt", "https://app.example.com", "PUT")
    assert r.status_code == 403
    assert xml_field(r.text, "Code") == "AccessForbidden"
    assert xml_field(r.text, "Message") == NOT_ENABLED
    assert xml_field(r.text, "Method") == "PUT"
    assert xml_field(r.text, "ResourceType") == "BUCKET"
    assert cors_headers(r) == {}


def test_no_cors_configuration_origin_without_method(endpoint, bucket):
    """[LS] (AWS recording): OPTIONS with only an Origin on a bucket without CORS is the same
    403 "CORS is not enabled for this bucket." with Method OPTIONS (not a 400)."""
    r = requests.options(f"{endpoint}/{bucket}/k", headers={"Origin": "https://app.example.com"})
    assert r.status_code == 403, r.text
    assert xml_field(r.text, "Code") == "AccessForbidden"
    assert xml_field(r.text, "Message") == NOT_ENABLED
    assert xml_field(r.text, "Method") == "OPTIONS"


def test_preflight_on_missing_bucket(endpoint):
    """[LS] (AWS recording): OPTIONS with an Origin to a bucket that does not exist is 403
    AccessForbidden "CORSResponse: Bucket not found" (Method OPTIONS, ResourceType BUCKET);
    without Origin it is 400 BadRequest."""
    url = f"{endpoint}/no-such-bucket-{uuid.uuid4().hex[:8]}/k"
    r = requests.options(url, headers={"Origin": "https://app.example.com"})
    assert r.status_code == 403
    assert xml_field(r.text, "Code") == "AccessForbidden"
    assert xml_field(r.text, "Message") == "CORSResponse: Bucket not found"
    assert xml_field(r.text, "Method") == "OPTIONS"
    assert xml_field(r.text, "ResourceType") == "BUCKET"
    r = requests.options(url)
    assert r.status_code == 400 and xml_field(r.text, "Code") == "BadRequest"


def test_preflight_missing_origin_is_bad_request(s3, endpoint, bucket):
    """[API-OPTIONS] Origin is required; [LS] 400 BadRequest "Insufficient information. Origin
    request header needed." — with or without a configuration, and even with a
    Referer."""
    url = f"{endpoint}/{bucket}/k"
    for _ in range(2):
        r = requests.options(url, headers={"Access-Control-Request-Method": "GET",
                                           "Referer": "https://app.example.com/page"})
        assert r.status_code == 400
        assert xml_field(r.text, "Code") == "BadRequest"
        assert xml_field(r.text, "Message") == "Insufficient information. Origin request header needed."
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})


def test_preflight_missing_request_method_with_configuration(s3, endpoint, bucket):
    """[API-OPTIONS] Access-Control-Request-Method is required; [S3TESTS] OPTIONS with only
    an Origin on a configured bucket is 400 (message not recorded anywhere)."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
    r = requests.options(f"{endpoint}/{bucket}/k", headers={"Origin": "https://app.example.com"})
    assert r.status_code == 400
    assert xml_field(r.text, "Code") == "BadRequest"
    assert cors_headers(r) == {}


def test_preflight_on_bucket_url(s3, endpoint, bucket):
    """A preflight for a bucket-level request (ListObjects from a browser). [S3TESTS] OPTIONS
    on the bucket URL answers like one on a key."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}]})
    r = preflight(f"{endpoint}/{bucket}", "https://app.example.com", "GET")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    r = preflight(f"{endpoint}/{bucket}/", "https://app.example.com", "GET")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    r = preflight(f"{endpoint}/{bucket}/?list-type=2", "https://bad.example.com", "GET")
    assert r.status_code == 403 and xml_field(r.text, "Code") == "AccessForbidden"


def test_preflight_with_virtual_host_addressing(s3, endpoint, server, bucket):
    """The same preflight sent virtual-hosted style (Host: <bucket>.s3.localhost)."""
    if server is None:
        pytest.skip("needs the suite's own server (Host header rewrite)")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["*"]}]})
    r = requests.options(f"{endpoint}/photo.jpg", headers={
        "Host": f"{bucket}.s3.localhost:{server.port}", "Origin": "https://app.example.com",
        "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


# =============================================================================
# CORS: actual (non-preflight) requests
# =============================================================================

def test_actual_get_carries_rule_headers(s3, endpoint, bucket):
    """[LS] (AWS recording): a GET from an allowed origin answers Allow-Origin (echoed),
    Allow-Credentials true, Allow-Methods (the rule's), Max-Age and Vary; Expose-Headers when
    the rule has some."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "PUT"], "MaxAgeSeconds": 3000,
         "ExposeHeaders": ["ETag", "x-amz-request-id"]}]})
    r = requests.get(f"{endpoint}/{bucket}/k", headers={"Origin": "https://app.example.com"})
    assert r.status_code == 200 and r.content == b"data"
    assert cors_headers(r) == {
        "access-control-allow-origin": "https://app.example.com",
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, PUT",
        "access-control-max-age": "3000",
        "access-control-expose-headers": "ETag, x-amz-request-id",
    }
    assert r.headers["Vary"] == VARY


def test_actual_get_without_origin_has_no_cors_headers(s3, endpoint, bucket):
    """[UG-TROUBLE] "If the header is missing, Amazon S3 doesn't treat the request as a
    cross-origin request, and doesn't send CORS response headers in the response."  [LS]: nor
    for a Referer alone."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
    for headers in [{}, {"Referer": "https://app.example.com/"}]:
        r = requests.get(f"{endpoint}/{bucket}/k", headers=headers)
        assert r.status_code == 200 and cors_headers(r) == {}, headers


def test_actual_get_with_wildcard_origin(s3, endpoint, bucket):
    """[LS] (AWS recording): with AllowedOrigin '*', an actual GET answers
    Access-Control-Allow-Origin: * and no Access-Control-Allow-Credentials; Vary is still sent."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT"], "MaxAgeSeconds": 3000}]})
    r = requests.get(f"{endpoint}/{bucket}/k", headers={"Origin": "http://random:1234"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers
    assert r.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert r.headers["Vary"] == VARY


def test_actual_get_from_disallowed_origin(s3, endpoint, bucket):
    """[UG-TROUBLE] the Origin must match an AllowedOrigin; [LS] (AWS recording): a GET from
    an origin no rule allows is served (200) with no CORS headers and no Vary."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://localhost:4200"], "AllowedMethods": ["GET"]}]})
    r = requests.get(f"{endpoint}/{bucket}/k", headers={"Origin": "http://localhost:4200"})
    assert r.status_code == 200 and r.content == b"data"
    assert cors_headers(r) == {}
    assert "Vary" not in r.headers


def test_actual_request_is_matched_by_its_method(s3, endpoint, bucket):
    """[UG-CORS] the request method must be one of the AllowedMethods.  [LS] (2025 recording):
    a PUT from an allowed origin whose rule allows only GET succeeds and carries no CORS
    headers; S3 refuses only preflights."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}]})
    r = requests.put(f"{endpoint}/{bucket}/new", data=b"x", headers={"Origin": "https://app.example.com"})
    assert r.status_code == 200, r.text
    assert cors_headers(r) == {}
    assert s3.get_object(Bucket=bucket, Key="new")["Body"].read() == b"x"


def test_actual_request_with_preflight_headers_is_matched_like_a_preflight(s3, endpoint, bucket):
    """[LS] (AWS recordings): a GET carrying Access-Control-Request-Method: PUT (rule allows
    only GET) gets no CORS headers; a GET carrying a disallowed Access-Control-Request-Headers
    gets none either; the real header itself (x-amz-request-payer) is not checked."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"],
         "AllowedHeaders": ["x-amz-expected-bucket-owner"]}]})
    url = f"{endpoint}/{bucket}/k"
    o = "https://app.example.com"
    r = requests.get(url, headers={"Origin": o, "Access-Control-Request-Method": "PUT"})
    assert r.status_code == 200 and cors_headers(r) == {}, cors_headers(r)
    r = requests.get(url, headers={"Origin": o, "Access-Control-Request-Headers": "x-amz-request-payer"})
    assert r.status_code == 200 and cors_headers(r) == {}, cors_headers(r)
    r = requests.get(url, headers={"Origin": o, "x-amz-request-payer": "requester"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == o


def test_actual_head_follows_allowed_methods(s3, endpoint, bucket):
    """[UG-CORS] "The request method (for example, GET, PUT, HEAD ...)" must be allowed."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["HEAD"], "ExposeHeaders": ["Content-Length"]},
        {"AllowedOrigins": ["https://get-only.example.com"], "AllowedMethods": ["GET"]}]})
    url = f"{endpoint}/{bucket}/k"
    r = requests.head(url, headers={"Origin": "https://app.example.com"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Expose-Headers"] == "Content-Length"
    r = requests.head(url, headers={"Origin": "https://get-only.example.com"})
    assert r.status_code == 200 and cors_headers(r) == {}


def test_cors_headers_on_error_responses(s3, endpoint, bucket):
    """UNSURE (no AWS page says so). [S3TESTS] a GET of a missing key from an allowed origin
    answers 404 with the CORS headers, so that the page's script can read the error."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "HEAD", "PUT"]}]})
    o = {"Origin": "https://app.example.com"}
    r = requests.get(f"{endpoint}/{bucket}/missing", headers=o)
    assert r.status_code == 404 and xml_field(r.text, "Code") == "NoSuchKey"
    assert r.headers.get("Access-Control-Allow-Origin") == "https://app.example.com"
    assert r.headers.get("Access-Control-Allow-Methods") == "GET, HEAD, PUT"
    r = requests.head(f"{endpoint}/{bucket}/missing", headers=o)
    assert r.status_code == 404
    assert r.headers.get("Access-Control-Allow-Origin") == "https://app.example.com"
    # A precondition failure is an error too.
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    r = requests.get(f"{endpoint}/{bucket}/k", headers={**o, "If-Match": '"nope"'})
    assert r.status_code == 412
    assert r.headers.get("Access-Control-Allow-Origin") == "https://app.example.com"


# ---- strict auth: anonymous browsers -----------------------------------------

@pytest.fixture(scope="module")
def strict_s3(strict_server):
    return s3_client(strict_server.endpoint)


@pytest.fixture
def strict_bucket(strict_s3):
    name = f"c-{uuid.uuid4().hex[:12]}"
    strict_s3.create_bucket(Bucket=name)
    strict_s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "PUT"],
         "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"]}]})
    return name


def test_preflight_needs_no_credentials(strict_server, strict_bucket):
    """A browser never signs a preflight: [API-OPTIONS] lists only Origin and the two
    Access-Control-Request headers; [S3TESTS] OPTIONS on a presigned URL is answered before,
    and without, a signature check.  Under strict auth an unsigned OPTIONS must still be 200."""
    r = preflight(f"{strict_server.endpoint}/{strict_bucket}/k", "https://app.example.com", "PUT",
                  "content-type, x-amz-meta-a")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


def test_anonymous_refusal_carries_cors_headers(strict_server, strict_bucket):
    """UNSURE (secondary only). [S3TESTS] an anonymous PUT refused 403 still carries the CORS
    headers of the matching rule; a 2013 capture (xinu-os issue 8) shows the same for a 403
    SignatureDoesNotMatch."""
    url = f"{strict_server.endpoint}/{strict_bucket}/k"
    r = requests.put(url, data=b"x", headers={"Origin": "https://app.example.com"})
    assert r.status_code == 403 and xml_field(r.text, "Code") == "AccessDenied"
    assert r.headers.get("Access-Control-Allow-Origin") == "https://app.example.com"
    r = requests.get(url, headers={"Origin": "https://app.example.com"})
    assert r.status_code == 403
    assert r.headers.get("Access-Control-Allow-Origin") == "https://app.example.com"


def test_browser_presigned_put_under_strict_auth(strict_server, strict_s3, strict_bucket):
    """The browser upload flow, with auth on: an unsigned preflight, then the presigned PUT
    with Origin and Content-Type; the answer exposes ETag.  A tampered signature is refused
    (403), and (UNSURE, secondary: xinu-os issue 8) still carries Allow-Origin."""
    signer = s3_client(strict_server.endpoint, sig="s3v4")
    url = signer.generate_presigned_url("put_object", Params={
        "Bucket": strict_bucket, "Key": "up.txt", "ContentType": "text/plain"}, ExpiresIn=300)
    o = "https://app.example.com"
    r = requests.options(url, headers={"Origin": o, "Access-Control-Request-Method": "PUT",
                                       "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200, r.text
    r = requests.put(url, data=b"hello", headers={"Origin": o, "Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == o
    assert r.headers["Access-Control-Expose-Headers"] == "ETag"
    assert r.headers["ETag"] == '"' + hashlib.md5(b"hello").hexdigest() + '"'
    assert strict_s3.get_object(Bucket=strict_bucket, Key="up.txt")["Body"].read() == b"hello"
    sig = url.split("X-Amz-Signature=")[1][:64]
    bad = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])  # same length, wrong value
    r = requests.put(bad, data=b"evil", headers={"Origin": o, "Content-Type": "text/plain"})
    assert r.status_code == 403
    assert r.headers.get("Access-Control-Allow-Origin") == o


# =============================================================================
# PutBucketCors validation
# =============================================================================

def test_put_cors_unsupported_method_is_invalid_request(s3, bucket):
    """[UG-ELEM] methods are GET, PUT, POST, DELETE, HEAD; [LS] (AWS recording): 400
    InvalidRequest "Found unsupported HTTP method in CORS config. Unsupported method is
    MYMETHOD".  (test_s3_config.py expects InvalidArgument for PATCH.)"""
    for method in ["MYMETHOD", "PATCH", "OPTIONS"]:
        cfg = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", method]}]}
        code, status, msg = err(lambda: s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=cfg))
        assert (code, status) == ("InvalidRequest", 400), (method, code, msg)
        assert msg == f"Found unsupported HTTP method in CORS config. Unsupported method is {method}", msg


def test_put_cors_empty_rules_is_malformed_xml(s3, bucket):
    """[LS] (AWS recording): no rules is 400 MalformedXML "The XML you provided was not
    well-formed or did not validate against our published schema"."""
    code, status, msg = err(lambda: s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": []}))
    assert (code, status) == ("MalformedXML", 400)
    assert msg == "The XML you provided was not well-formed or did not validate against our published schema"


def test_put_cors_two_wildcards(s3, bucket):
    """[UG-ELEM] "The origin string can contain only one * wildcard character"; "Each
    AllowedHeader string in the rule can contain at most one * wildcard character".
    [VGW] exact error for an origin: InvalidRequest 'AllowedOrigin "*example*.com" can not
    have more than one wildcard.'  (The AllowedHeader message is UNSURE: by analogy.)"""
    cfg = {"CORSRules": [{"AllowedOrigins": ["*example*.com"], "AllowedMethods": ["GET"]}]}
    code, status, msg = err(lambda: s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=cfg))
    assert (code, status) == ("InvalidRequest", 400)
    assert msg == 'AllowedOrigin "*example*.com" can not have more than one wildcard.'
    cfg = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-*-*"]}]}
    code, status, msg = err(lambda: s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=cfg))
    assert (code, status) == ("InvalidRequest", 400), (code, msg)


def test_put_cors_more_than_100_rules(s3, bucket):
    """[UG-ELEM] "You can add up to 100 rules to the configuration."  100 is accepted; 101 is
    a 400 (the error code is documented nowhere: UNSURE which)."""
    rules = [{"AllowedOrigins": [f"https://o{i}.example"], "AllowedMethods": ["GET"]} for i in range(101)]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules[:100]})
    assert len(s3.get_bucket_cors(Bucket=bucket)["CORSRules"]) == 100
    code, status, _ = err(lambda: s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules}))
    assert status == 400, code
    # The failed put leaves the old configuration.
    assert len(s3.get_bucket_cors(Bucket=bucket)["CORSRules"]) == 100


def test_put_cors_rule_without_origin_is_malformed_xml(endpoint, bucket):
    """[API_CORSRule] AllowedOrigin and AllowedMethod are required; versitygw issue 1863
    (2026, against AWS): a rule without AllowedOrigin or AllowedMethod is MalformedXML.
    Sent raw, since boto3 refuses such a request client-side."""
    from test_s3_conformance import signed

    for rule in ["<AllowedMethod>GET</AllowedMethod>", "<AllowedOrigin>*</AllowedOrigin>", ""]:
        body = f"<CORSConfiguration><CORSRule>{rule}</CORSRule></CORSConfiguration>".encode()
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        r = signed(endpoint, "PUT", f"/{bucket}?cors", headers={"Content-MD5": md5}, data=body)
        assert r.status_code == 400 and xml_field(r.text, "Code") == "MalformedXML", (rule, r.text)


def test_put_cors_empty_origin_accepted_and_delete_is_idempotent(s3, bucket):
    """[LS] (AWS recordings): AllowedOrigin "" is accepted and given back; DeleteBucketCors
    answers 204 with or without a configuration."""
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": [""], "AllowedMethods": ["GET", "PUT", "HEAD"]}]})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [
        {"AllowedOrigins": [""], "AllowedMethods": ["GET", "PUT", "HEAD"]}]
    code, status, msg = err(lambda: s3.get_bucket_cors(Bucket=f"no-such-{uuid.uuid4().hex[:8]}"))
    assert (code, status) == ("NoSuchBucket", 404)


# =============================================================================
# Website endpoint
# =============================================================================

def public_read_policy(bucket, list_bucket=False):
    statements = [{"Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*",
                   "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]}]
    if list_bucket:
        statements.append({"Sid": "PublicList", "Effect": "Allow", "Principal": "*",
                           "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@pytest.fixture
def wbucket(public_bucket):
    return public_bucket


def web(server, bucket, path="/", method="GET", headers=None):
    host = f"{bucket}.s3-website.localhost:{server.port}"
    return requests.request(method, f"{server.endpoint}{path}", headers={"Host": host, **(headers or {})},
                            allow_redirects=False)


def host_of(server, bucket):
    return f"{bucket}.s3-website.localhost:{server.port}"


@pytest.fixture
def site(s3, wbucket, local_server):
    s3.put_bucket_website(Bucket=wbucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    s3.put_bucket_policy(Bucket=wbucket, Policy=public_read_policy(wbucket, list_bucket=True))
    for key, body in [("index.html", b"<h1>home</h1>"), ("error.html", b"<h1>oops</h1>"),
                      ("a/index.html", b"<h1>a</h1>"), ("a/b/index.html", b"<h1>a/b</h1>"),
                      ("a/b/c/index.html", b"<h1>a/b/c</h1>"), ("a/b/page.html", b"<h1>page</h1>")]:
        s3.put_object(Bucket=wbucket, Key=key, Body=body, ContentType="text/html; charset=utf-8")
    return wbucket


def test_nested_index_documents(server, site):
    """[UG-INDEX] "you must have an index document at each level"; with a trailing slash the
    folder's index document is returned, without one a 302 to the folder."""
    for path, body in [("/a/", b"<h1>a</h1>"), ("/a/b/", b"<h1>a/b</h1>"), ("/a/b/c/", b"<h1>a/b/c</h1>"),
                       ("/a/b/page.html", b"<h1>page</h1>")]:
        r = web(server, site, path)
        assert r.status_code == 200 and r.content == body, path
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    for path in ["/a", "/a/b", "/a/b/c"]:
        r = web(server, site, path)
        assert r.status_code == 302, path
        assert r.headers["Location"] == path + "/", path


def test_object_named_like_the_folder_wins(server, s3, site):
    """[UG-INDEX] "Amazon S3 first looks for an object photos in the bucket.  If the photos
    object is not found, it searches for an index document"."""
    s3.put_object(Bucket=site, Key="a", Body=b"the object a", ContentType="text/plain")
    r = web(server, site, "/a")
    assert r.status_code == 200 and r.content == b"the object a"
    assert web(server, site, "/a/").content == b"<h1>a</h1>"


def test_folder_without_index_document_is_404(server, s3, site):
    """[UG-INDEX] "If the index document is not found, Amazon S3 returns an error": no 302 for
    a key with neither an object nor an index; a folder URL without its index is a 404 (the
    custom error document, with the status kept)."""
    s3.put_object(Bucket=site, Key="empty/file.txt", Body=b"x")
    r = web(server, site, "/empty")
    assert r.status_code == 404 and r.content == b"<h1>oops</h1>"
    r = web(server, site, "/empty/")
    assert r.status_code == 404 and r.content == b"<h1>oops</h1>"
    r = web(server, site, "/nothing-here")
    assert r.status_code == 404 and "Location" not in r.headers


def test_head_on_the_website(server, site):
    """[UG-WEB] GET and HEAD are supported: a HEAD answers as the GET would, without a body —
    for the root, a folder, a 302 and a 404."""
    r = web(server, site, "/", method="HEAD")
    assert r.status_code == 200 and r.content == b"" and r.headers["Content-Length"] == str(len(b"<h1>home</h1>"))
    r = web(server, site, "/a/b/", method="HEAD")
    assert r.status_code == 200 and r.headers["Content-Length"] == str(len(b"<h1>a/b</h1>"))
    r = web(server, site, "/a", method="HEAD")
    assert r.status_code == 302 and r.headers["Location"] == "/a/"
    r = web(server, site, "/missing.html", method="HEAD")
    assert r.status_code == 404 and r.content == b""


def test_error_document_content_type_and_head(server, s3, site):
    """[UG-ERRDOC] the custom error document is returned for 4xx errors; it is served as
    stored (its Content-Type), with the error's status."""
    s3.put_object(Bucket=site, Key="error.html", Body=b"<p>custom</p>", ContentType="text/html; charset=utf-8")
    r = web(server, site, "/nope.html")
    assert r.status_code == 404
    assert r.content == b"<p>custom</p>"
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"


def test_routing_rule_with_both_conditions(server, s3, site):
    """[UG-REDIRECT] "If both KeyPrefixEquals and HttpErrorCodeReturnedEquals are specified,
    both must be true for the condition to be met." """
    s3.put_bucket_website(Bucket=site, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [{"Condition": {"KeyPrefixEquals": "a/", "HttpErrorCodeReturnedEquals": "404"},
                          "Redirect": {"ReplaceKeyWith": "gone.html"}}]})
    host = host_of(server, site)
    # Exists under the prefix: served.
    r = web(server, site, "/a/b/page.html")
    assert r.status_code == 200 and r.content == b"<h1>page</h1>"
    # Missing under the prefix: redirected.
    r = web(server, site, "/a/missing.html")
    assert r.status_code == 301 and r.headers["Location"] == f"http://{host}/gone.html"
    # Missing outside the prefix: the error document.
    r = web(server, site, "/other/missing.html")
    assert r.status_code == 404 and r.content == b"<h1>oops</h1>"


def test_routing_rule_without_condition_applies_to_all(server, s3, site):
    """[UG-REDIRECT] "If the routing rule does not include a condition, the rule is applied to
    all requests." """
    s3.put_bucket_website(Bucket=site, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"},
        "RoutingRules": [{"Redirect": {"HostName": "www.example.com", "Protocol": "https"}}]})
    r = web(server, site, "/a/b/page.html")
    assert r.status_code == 301 and r.headers["Location"] == "https://www.example.com/a/b/page.html"
    r = web(server, site, "/does-not-exist")
    assert r.status_code == 301 and r.headers["Location"] == "https://www.example.com/does-not-exist"


def test_key_prefix_rule_redirects_existing_objects(server, s3, site):
    """[UG-REDIRECT] KeyPrefixEquals is "The prefix of the object key name from which requests
    are redirected": the redirect applies whether or not an object exists there."""
    s3.put_bucket_website(Bucket=site, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"},
        "RoutingRules": [{"Condition": {"KeyPrefixEquals": "a/b/"}, "Redirect": {"ReplaceKeyPrefixWith": "new/"}}]})
    r = web(server, site, "/a/b/page.html")
    assert r.status_code == 301 and r.headers["Location"] == f"http://{host_of(server, site)}/new/page.html"
    assert web(server, site, "/a/").status_code == 200


def test_routing_redirect_parts(server, s3, site):
    """[UG-REDIRECT] each of Protocol, HostName, ReplaceKeyPrefixWith, HttpRedirectCode may
    appear alone; [LS-WEB] HostName alone keeps http and the key; Protocol alone keeps the
    host; an empty ReplaceKeyPrefixWith removes the prefix; HttpRedirectCode 307 alone."""
    s3.put_bucket_website(Bucket=site, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"},
        "RoutingRules": [
            {"Condition": {"KeyPrefixEquals": "host/"}, "Redirect": {"HostName": "random-hostname"}},
            {"Condition": {"KeyPrefixEquals": "protocol/"}, "Redirect": {"Protocol": "https"}},
            {"Condition": {"KeyPrefixEquals": "strip/"}, "Redirect": {"ReplaceKeyPrefixWith": ""}},
            {"Condition": {"KeyPrefixEquals": "code/"}, "Redirect": {"HttpRedirectCode": "307"}},
            {"Condition": {"KeyPrefixEquals": "moved/"},
             "Redirect": {"HttpRedirectCode": "302", "ReplaceKeyWith": "index.html"}},
        ]})
    host = host_of(server, site)
    r = web(server, site, "/host/key")
    assert r.status_code == 301 and r.headers["Location"] == "http://random-hostname/host/key"
    r = web(server, site, "/protocol/key")
    assert r.status_code == 301 and r.headers["Location"] == f"https://{host}/protocol/key"
    r = web(server, site, "/strip/a/b/page.html")
    assert r.status_code == 301 and r.headers["Location"] == f"http://{host}/a/b/page.html"
    r = web(server, site, "/code/key")
    assert r.status_code == 307 and r.headers["Location"] == f"http://{host}/code/key"
    r = web(server, site, "/moved/deep/x")
    assert r.status_code == 302 and r.headers["Location"] == f"http://{host}/index.html"


def test_first_routing_rule_wins(server, s3, site):
    """[LS-WEB] test_routing_rules_conditions: the rules are tried in order and the first
    whose condition holds is applied."""
    s3.put_bucket_website(Bucket=site, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"},
        "RoutingRules": [
            {"Condition": {"KeyPrefixEquals": "a/b/"}, "Redirect": {"ReplaceKeyWith": "first.html"}},
            {"Condition": {"KeyPrefixEquals": "a/"}, "Redirect": {"ReplaceKeyWith": "second.html"}},
        ]})
    host = host_of(server, site)
    assert web(server, site, "/a/b/x").headers["Location"] == f"http://{host}/first.html"
    assert web(server, site, "/a/x").headers["Location"] == f"http://{host}/second.html"


def test_error_code_rule_for_403(server, s3, wbucket, local_server):
    """[UG-REDIRECT] HttpErrorCodeReturnedEquals "If an error occurs, and if the error code
    meets this value": without s3:ListBucket a missing key is a 403 (test_s3_website covers
    the 403) and a 403 rule redirects it."""
    s3.put_bucket_website(Bucket=wbucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"},
        "RoutingRules": [{"Condition": {"HttpErrorCodeReturnedEquals": "403"},
                          "Redirect": {"HostName": "login.example.com", "ReplaceKeyPrefixWith": "denied/"}}]})
    s3.put_bucket_policy(Bucket=wbucket, Policy=public_read_policy(wbucket))
    r = web(server, wbucket, "/private/missing.html")
    assert r.status_code == 301 and r.headers["Location"] == "http://login.example.com/denied/private/missing.html"


def test_folders_without_list_permission(server, s3, wbucket, local_server):
    """Policy with s3:GetObject only (the user guide's website policy).  A missing key is 403
    rather than 404 (test_s3_website covers a plain key); here the folder forms: a folder
    whose index exists is served, a folder without an index is 403 (with the custom error
    document), and (UNSURE: the 302 needs only the index document's GetObject) "x" without
    a slash still redirects to "x/" when x/index.html exists."""
    s3.put_bucket_website(Bucket=wbucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    s3.put_bucket_policy(Bucket=wbucket, Policy=public_read_policy(wbucket))
    for key, body in [("index.html", b"home"), ("error.html", b"oops"), ("a/index.html", b"a")]:
        s3.put_object(Bucket=wbucket, Key=key, Body=body, ContentType="text/html")
    assert web(server, wbucket, "/a/").content == b"a"
    r = web(server, wbucket, "/nofolder/")
    assert r.status_code == 403 and r.content == b"oops"
    r = web(server, wbucket, "/a")
    assert r.status_code == 302 and r.headers["Location"] == "/a/"


def test_redirect_all_requests_keeps_the_request_protocol(server, s3, wbucket, local_server):
    """[API-WEB] RedirectAllRequestsTo Protocol: "The default is the protocol that is used in
    the original request."  The path is kept; the root redirects to the host's root."""
    s3.put_bucket_website(Bucket=wbucket, WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "example.com"}})
    r = web(server, wbucket, "/a/b.html")
    assert r.status_code == 301 and r.headers["Location"] == "http://example.com/a/b.html"
    r = web(server, wbucket, "/")
    assert r.status_code == 301 and r.headers["Location"] == "http://example.com/"
    r = web(server, wbucket, "/a/b.html", method="HEAD")
    assert r.status_code == 301 and r.headers["Location"] == "http://example.com/a/b.html"


def test_redirect_all_requests_needs_no_public_access(server, s3, local_server):
    """A redirect-only bucket (the user guide's www.example.com walkthrough) has no content and
    no policy; its redirects are answered anyway (no object is read).  Block Public Access on."""
    name = f"r-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}})
    r = web(server, name, "/x")
    assert r.status_code == 301 and r.headers["Location"] == "https://example.com/x"


def test_no_website_configuration_html(server, s3, wbucket, local_server):
    """[UG-WEB] errors are HTML documents, not XML: also on a bucket without a website
    configuration (test_s3_website checks the code); HEAD gets the status and no body."""
    s3.put_bucket_policy(Bucket=wbucket, Policy=public_read_policy(wbucket, list_bucket=True))
    s3.put_object(Bucket=wbucket, Key="index.html", Body=b"x", ContentType="text/html")
    r = web(server, wbucket, "/index.html")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<li>Code: NoSuchWebsiteConfiguration</li>" in r.text
    assert "<li>Message: The specified bucket does not have a website configuration</li>" in r.text
    assert "<?xml" not in r.text
    r = web(server, wbucket, "/index.html", method="HEAD")
    assert r.status_code == 404 and r.content == b""


def test_website_error_headers(server, s3, site):
    """UNSURE (observed S3 behaviour, not documented in the guides): website error pages carry
    x-amz-error-code and x-amz-error-message headers (test_s3_website checks x-amz-error-code
    for InvalidObjectState)."""
    s3.delete_object(Bucket=site, Key="error.html")
    r = web(server, site, "/missing.html")
    assert r.status_code == 404
    assert r.headers.get("x-amz-error-code") == "NoSuchKey"
    assert r.headers.get("x-amz-error-message") == "The specified key does not exist."


def test_requester_pays_bucket_is_denied_on_the_website(server, s3, site):
    """[UG-WEB] "Requester Pays buckets do not allow access through a website endpoint. Any
    request to such a bucket receives a 403 Access Denied response." """
    assert web(server, site, "/").status_code == 200
    assert s3.get_bucket_request_payment(Bucket=site)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=site, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=site)["Payer"] == "Requester"
    r = web(server, site, "/")
    assert r.status_code == 403
    assert "<li>Code: AccessDenied</li>" in r.text
    s3.put_bucket_request_payment(Bucket=site, RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert web(server, site, "/").status_code == 200


def test_kms_encrypted_object_is_denied_on_the_website(server, s3, site):
    """[KC-403] "Objects in the bucket can't be encrypted by AWS Key Management Service (AWS
    KMS)" for a website endpoint (anonymous requests cannot use KMS; SSE-KMS needs SigV4)."""
    s3.put_object(Bucket=site, Key="kms.html", Body=b"<h1>kms</h1>", ContentType="text/html",
                  ServerSideEncryption="aws:kms")
    r = web(server, site, "/kms.html")
    assert r.status_code == 403, (r.status_code, r.text[:300])
    assert r.content != b"<h1>kms</h1>"


def test_sse_c_object_on_the_website(server, s3, site):
    """UNSURE: AWS documents no answer for an SSE-C object on the website endpoint.  What is
    documented (GetObject): "If you encrypt an object by using ... SSE-C ... then when you GET
    the object, you must use the following headers" — which a browser on the (HTTP-only)
    website endpoint cannot send.  So the plaintext must not be served; the REST API answers
    such a GET with 400 InvalidRequest (test_s3_sse_c.py), and this expects that error in the
    website's HTML form."""
    s3.put_bucket_encryption(Bucket=site, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
        "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}]})
    s3.put_object(Bucket=site, Key="secret.html", Body=b"<h1>secret</h1>", ContentType="text/html",
                  SSECustomerAlgorithm="AES256", SSECustomerKey=bytes(range(32)))
    r = web(server, site, "/secret.html")
    assert r.content != b"<h1>secret</h1>"
    # The site has an error document, which S3 serves for every 4XX error, with the
    # error's status.
    assert (r.status_code, r.text) == (400, "<h1>oops</h1>"), r.status_code
    s3.delete_bucket_website(Bucket=site)
    s3.put_bucket_website(Bucket=site, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    r = web(server, site, "/secret.html")
    assert r.status_code == 400, r.status_code
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<li>Code: InvalidRequest</li>" in r.text and "secret" not in r.text


def test_cors_on_the_website_endpoint(server, s3, site):
    """UNSURE: the user guide's CORS scenario 2 (web fonts) is served from S3; AWS does not
    say whether the website endpoint applies the bucket's CORS rules.  Expects it does, as
    the REST endpoint."""
    s3.put_bucket_cors(Bucket=site, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://fonts.example"], "AllowedMethods": ["GET"]}]})
    r = web(server, site, "/a/b/page.html", headers={"Origin": "https://fonts.example"})
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") == "https://fonts.example"
