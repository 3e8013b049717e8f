"""Browser form uploads (presigned POST), from AWS's "Browser-based uploads using POST"
guide: the `${filename}` variable in the key takes the uploaded file's name, and the
policy's conditions are enforced.

The refusals are S3's own ("Creating a POST policy", sigv4-HTTPPOSTConstructPolicy):
a condition that fails or a field no condition covers is 403 AccessDenied, "Invalid
according to Policy: ...", quoting the condition as `["eq", "$acl", "public-read"]`
(S3's answer as quoted in awsdocs/aws-doc-sdk-examples pull request 5490, and
"Extra input fields: <name>" in aws/aws-sdk-php issue 3292); a file outside the
content-length-range is EntityTooLarge or EntityTooSmall (S3's error code list)."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
import requests

from test_s3_basics import s3_client


def refusal(r):
    error = ElementTree.fromstring(r.content)
    return r.status_code, error.findtext("Code"), error.findtext("Message")



def test_filename_variable_takes_the_uploaded_file_name(s3, bucket):
    post = s3.generate_presigned_post(bucket, "uploads/${filename}",
                                      Conditions=[["starts-with", "$key", "uploads/"]])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("cat photo.png", b"meow", "image/png")})
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket=bucket, Key="uploads/cat photo.png")["Body"].read() == b"meow"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["uploads/cat photo.png"]


def test_policy_conditions_are_enforced(s3, bucket):
    post = s3.generate_presigned_post(bucket, "uploads/${filename}",
                                      Conditions=[["content-length-range", 1, 10]])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("big.bin", b"x" * 100)})
    assert r.status_code in (400, 403), r.text
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


@pytest.mark.parametrize("signature_version", ["s3v4", None])
def test_content_length_range_is_checked_on_the_file(endpoint, bucket, signature_version):
    # Signature V4 form fields (x-amz-signature) and boto3's default, V2 (signature).
    s3 = s3_client(endpoint, sig=signature_version)
    post = s3.generate_presigned_post(bucket, "sized", Conditions=[["content-length-range", 5, 10]])
    for size, expected in ((100, "EntityTooLarge"), (3, "EntityTooSmall"), (0, "EntityTooSmall")):
        r = requests.post(post["url"], data=post["fields"], files={"file": ("f.bin", b"x" * size)})
        assert r.status_code == 400 and refusal(r)[1] == expected, (size, r.text)
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    for size in (5, 10):
        r = requests.post(post["url"], data=post["fields"], files={"file": ("f.bin", b"y" * size)})
        assert r.status_code == 204, r.text
        assert s3.get_object(Bucket=bucket, Key="sized")["Body"].read() == b"y" * size


def test_failed_conditions_are_quoted_as_s3_quotes_them(s3, bucket):
    post = s3.generate_presigned_post(
        bucket, "uploads/a.txt", Fields={"acl": "public-read", "Content-Type": "image/png"},
        Conditions=[{"acl": "public-read"}, ["starts-with", "$Content-Type", "image/"],
                    ["starts-with", "$key", "uploads/"]])
    cases = [
        ({"acl": "private"}, '["eq", "$acl", "public-read"]'),
        ({"Content-Type": "text/plain"}, '["starts-with", "$Content-Type", "image/"]'),
        ({"key": "elsewhere/a.txt"}, '["starts-with", "$key", "uploads/"]'),
    ]
    for change, condition in cases:
        fields = {**post["fields"], **change}
        r = requests.post(post["url"], data=fields, files={"file": ("a.txt", b"hi")})
        assert refusal(r) == (403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {condition}"), r.text
    fields = {**post["fields"], "x-amz-meta-colour": "blue"}
    r = requests.post(post["url"], data=fields, files={"file": ("a.txt", b"hi")})
    assert refusal(r) == (403, "AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-colour"), r.text
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    r = requests.post(post["url"], data=post["fields"], files={"file": ("a.txt", b"hi")})
    assert r.status_code == 204, r.text


def test_a_form_without_a_key_ahead_of_its_file_is_refused(s3, bucket):
    # S3's answer (as printed in many public bug reports, e.g. transloadit/uppy 4449):
    # 400 InvalidArgument, ArgumentName key; a key after the file does not count.
    post = s3.generate_presigned_post(bucket, "k")
    fields = {k: v for k, v in post["fields"].items() if k != "key"}
    for files in ([("file", ("a.txt", b"hi"))], [("file", ("a.txt", b"hi")), ("key", (None, "k"))]):
        r = requests.post(post["url"], data=fields, files=files)
        assert r.status_code == 400, r.text
        error = ElementTree.fromstring(r.content)
        assert error.findtext("Code") == "InvalidArgument"
        assert error.findtext("Message") == ("Bucket POST must contain a field named 'key'.  "
                                             "If it is specified, please check the order of the fields.")
        assert error.findtext("ArgumentName") == "key"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_a_form_without_a_file_is_refused(s3, bucket):
    # S3's error code list: IncorrectNumberOfFilesInPostRequest, "POST requires exactly
    # one file upload per request." (400).
    post = s3.generate_presigned_post(bucket, "k")
    r = requests.post(post["url"], data=post["fields"], files={"note": (None, "no file here")})
    assert r.status_code == 400, r.text
    error = ElementTree.fromstring(r.content)
    assert error.findtext("Code") == "IncorrectNumberOfFilesInPostRequest"
    assert error.findtext("Message") == "POST requires exactly one file upload per request."
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_an_expired_policy_is_refused(s3, bucket):
    post = s3.generate_presigned_post(bucket, "late", ExpiresIn=-60)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("a.txt", b"hi")})
    assert refusal(r) == (403, "AccessDenied", "Invalid according to Policy: Policy expired."), r.text


def test_fields_after_the_file_are_ignored(s3, bucket):
    # "The file or content must be the last field in the form. Any fields below it are
    # ignored." (PostObject, RESTObjectPOST). The file's bytes end at the boundary, even
    # one that arrives split across reads.
    post = s3.generate_presigned_post(bucket, "last")
    content = b"--not-the-boundary\r\n" * 5000
    files = [("file", ("a.bin", content)), ("x-amz-meta-after", (None, "ignored"))]
    r = requests.post(post["url"], data=post["fields"], files=files)
    assert r.status_code == 204, r.text
    got = s3.get_object(Bucket=bucket, Key="last")
    assert got["Body"].read() == content
    assert "after" not in got["Metadata"]
