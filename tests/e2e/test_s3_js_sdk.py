"""S3 through the AWS SDK for JavaScript v3 (@aws-sdk/client-s3, lib-storage, the
presigners), the client a Node.js app or Lambda handler uses: its default CRC32
checksums (aws-chunked trailers for streams), lib-storage's multipart uploads,
presigned GET/PUT/POST used with fetch, and its error names. tests/e2e/js holds the
pinned packages (installed by scripts/test) and the script; expectations come from
the S3 API reference."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zlib
import base64

import pytest

JS_DIR = os.path.join(os.path.dirname(__file__), "js")


def run_script(endpoint, bucket):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "@aws-sdk", "client-s3")):
        pytest.fail("tests/e2e/js/node_modules is missing: run `npm ci` there (scripts/test does)")
    out = subprocess.run([node, "s3_sdk_v3.mjs", endpoint, bucket], cwd=JS_DIR, capture_output=True, text=True, timeout=120)
    steps = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            step = json.loads(line)
            steps[step["step"]] = step
    assert steps, out.stderr[-2000:]
    return steps


def test_s3_with_the_js_sdk_v3(endpoint):
    bucket = f"js-sdk-{os.getpid()}"
    steps = run_script(endpoint, bucket)

    def value(name):
        step = steps[name]
        assert step["ok"], step
        return step["value"]

    assert value("create-bucket") == f"/{bucket}"
    assert value("put-string").startswith('"')
    body = b"\x07" * 100000
    assert value("put-crc32") == base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    value("put-stream")
    value("put-special-key")
    assert value("get") == {"body": "hello", "type": "text/plain", "meta": {"colour": "blue"}}
    assert value("get-range") == {"body": "ell", "range": "bytes 1-3/5"}
    assert value("get-checksum") == {"length": 100000, "crc32": value("put-crc32")}
    assert value("get-special-key") == "special"
    assert value("head") == 140000
    assert value("list") == ["a.txt", "b.bin", "c.bin", "dir/a b+ü~%.txt"]
    assert value("list-delimiter") == ["dir/"]
    assert value("copy").startswith('"')
    assert value("tagging") == [{"Key": "t", "Value": "v"}]
    # lib-storage: 12 MiB in 5 MiB parts is a three-part upload (ETag "-3").
    assert value("multipart-upload").endswith('-3"')
    assert value("multipart-stream") == 12 * 1024 * 1024
    assert value("presigned-get") == {"status": 200, "body": "special"}
    assert value("presigned-put") == {"status": 200}
    # A form upload without success_action_status answers 204 (PostObject reference).
    assert value("presigned-post") == {"status": 204}
    assert value("versions") == 2
    assert value("delete-objects") == {"deleted": ["c.bin", "copy.txt"], "errors": 0}
    # The SDK names errors by their S3 code; HEAD has no body, so a 404 is NotFound.
    missing = steps["get-missing"]
    assert not missing["ok"] and missing["error"].startswith("NoSuchKey") and missing["status"] == 404
    head = steps["head-missing"]
    assert not head["ok"] and head["error"].startswith("NotFound") and head["status"] == 404
