"""Browser form uploads (presigned POST), from AWS's "Browser-based uploads using POST"
guide: the `${filename}` variable in the key takes the uploaded file's name, and the
policy's conditions are enforced."""

from __future__ import annotations


import pytest
import requests



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
