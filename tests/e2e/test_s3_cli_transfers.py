"""The aws CLI's high-level `aws s3` commands, `aws s3api` calls and boto3's
managed transfers (s3transfer) against nimbus, asserting what AWS does.

Sources: the AWS CLI command reference (docs.aws.amazon.com/cli/latest/reference/s3/
and .../s3api/), the S3 API reference (docs.aws.amazon.com/AmazonS3/latest/API/), and
the installed clients' own code (awscli/customizations/s3, s3transfer), which decides
which requests are sent.  Each test names the page or file it was written from.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import threading
import time
import uuid

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

import nimbus_helpers as h

MiB = 1024 * 1024


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def aws(endpoint, aws_env):
    """aws('s3', 'cp', ...) -> CompletedProcess (text).  Checks rc unless check=False."""
    exe = h.aws_executable()
    if not exe:
        pytest.skip("the aws CLI is not installed")

    def run(*args, check=True, input=None, env=None, text=True, timeout=60):
        cmd = [exe, *args, "--endpoint-url", endpoint]
        p = subprocess.run(cmd, capture_output=True, input=input, env=env or aws_env, timeout=timeout, text=text)
        if check:
            assert p.returncode == 0, f"{' '.join(cmd)} -> {p.returncode}\n{p.stderr}"
        return p

    return run


def jaws(aws, *args, **kw):
    """An s3api call with JSON output, parsed."""
    p = aws(*args, "--output", "json", **kw)
    out = p.stdout.strip()
    return json.loads(out) if out else None


def new_bucket(s3, **kw):
    name = f"t-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, **kw)
    return name


def multipart_etag(data: bytes, part_size: int) -> str:
    digests = [hashlib.md5(data[i:i + part_size]).digest() for i in range(0, len(data), part_size)]
    return f'"{hashlib.md5(b"".join(digests)).hexdigest()}-{len(digests)}"'


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def err(call):
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def report(p):
    """The CLI's result lines, without its progress lines."""
    parts = p.stdout.replace("\r", "\n").splitlines()
    return [l.strip() for l in parts if l.strip() and not l.strip().startswith("Completed ")]


def keys(s3, bucket, prefix=""):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


# --------------------------------------------------------------------------
# aws s3 cp - (stdin) and cp ... - (stdout)
#
# https://docs.aws.amazon.com/cli/latest/reference/s3/cp.html
#   "Uploading a local file stream to S3 ... aws s3 cp - s3://mybucket/stream.txt"
#   "--expected-size: This argument specifies the expected size of a stream in terms
#    of bytes. Note that this argument is needed only when a stream is being uploaded
#    to s3 and the size is larger than 50GB."
#   "Downloading an S3 object as a local file stream ... aws s3 cp s3://mybucket/stream.txt -"
# awscli/customizations/s3/transferconfig.py: multipart_threshold and chunksize 8 MiB,
# so a 12 MiB stream is two parts; s3transfer/upload.py UploadNonSeekableInputManager.
# --------------------------------------------------------------------------

def test_cp_stdin_and_stdout(aws, s3, bucket):
    aws("s3", "cp", "-", f"s3://{bucket}/small.txt", input=b"hello stream\n", text=False)
    assert s3.get_object(Bucket=bucket, Key="small.txt")["Body"].read() == b"hello stream\n"
    assert aws("s3", "cp", f"s3://{bucket}/small.txt", "-", text=False).stdout == b"hello stream\n"

    data = os.urandom(12 * MiB)
    aws("s3", "cp", "-", f"s3://{bucket}/sized", "--expected-size", str(len(data)), input=data, text=False)
    aws("s3", "cp", "-", f"s3://{bucket}/unsized", input=data, text=False)
    for key in ("sized", "unsized"):
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head["ContentLength"] == len(data)
        assert head["ETag"] == multipart_etag(data, 8 * MiB)
        out = aws("s3", "cp", f"s3://{bucket}/{key}", "-", text=False).stdout
        assert out == data


# --------------------------------------------------------------------------
# Object properties set by `aws s3 cp`.
#
# https://docs.aws.amazon.com/cli/latest/reference/s3/cp.html: --sse, --metadata,
#   --content-type, --cache-control, --content-disposition, --content-language,
#   --expires, --storage-class, --website-redirect; awscli/customizations/s3/utils.py
#   RequestParamsMapper maps them to PutObject/CreateMultipartUpload parameters.
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html returns each of
#   them (x-amz-meta-*, Cache-Control, Content-Disposition, Expires, x-amz-storage-class,
#   x-amz-server-side-encryption, x-amz-website-redirect-location).
# --------------------------------------------------------------------------

def test_cp_object_properties(aws, s3, bucket, tmp_path):
    f = tmp_path / "doc.bin"
    f.write_bytes(b"properties")
    aws("s3", "cp", str(f), f"s3://{bucket}/doc.bin", "--sse", "AES256", "--metadata", "color=blue,size=XL",
        "--content-type", "application/x-custom", "--cache-control", "max-age=60",
        "--content-disposition", 'attachment; filename="doc.bin"', "--content-language", "de",
        "--expires", "2030-01-01T00:00:00Z", "--storage-class", "STANDARD_IA",
        "--website-redirect", "/elsewhere.html")
    head = s3.head_object(Bucket=bucket, Key="doc.bin")
    hdrs = head["ResponseMetadata"]["HTTPHeaders"]
    assert head["Metadata"] == {"color": "blue", "size": "XL"}
    assert head["ContentType"] == "application/x-custom"
    assert head["CacheControl"] == "max-age=60"
    assert head["ContentDisposition"] == 'attachment; filename="doc.bin"'
    assert head["ContentLanguage"] == "de"
    assert hdrs["expires"] == "Tue, 01 Jan 2030 00:00:00 GMT"
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ServerSideEncryption"] == "AES256"
    assert head["WebsiteRedirectLocation"] == "/elsewhere.html"

    # The same through a multipart upload (CreateMultipartUpload carries them).
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * MiB))
    aws("s3", "cp", str(big), f"s3://{bucket}/big.bin", "--sse", "AES256", "--metadata", "color=red",
        "--content-type", "application/x-big", "--cache-control", "no-cache", "--storage-class", "STANDARD_IA")
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ETag"].endswith('-2"')
    assert (head["Metadata"], head["ContentType"], head["CacheControl"], head["StorageClass"],
            head["ServerSideEncryption"]) == ({"color": "red"}, "application/x-big", "no-cache", "STANDARD_IA", "AES256")


# https://docs.aws.amazon.com/cli/latest/reference/s3/cp.html
#   "--checksum-algorithm (string) Indicates the algorithm used to create the checksum
#    for the object."  Read back with head-object --checksum-mode ENABLED
#   (API_HeadObject.html x-amz-checksum-sha256).
def test_cp_checksum_algorithm(aws, s3, bucket, tmp_path, small_chunk_env):
    f = tmp_path / "c.txt"
    f.write_bytes(b"checksummed")
    aws("s3", "cp", str(f), f"s3://{bucket}/c.txt", "--checksum-algorithm", "SHA256")
    head = jaws(aws, "s3api", "head-object", "--bucket", bucket, "--key", "c.txt", "--checksum-mode", "ENABLED")
    assert head["ChecksumSHA256"] == b64(hashlib.sha256(b"checksummed").digest())
    data = os.urandom(11 * MiB)
    f.write_bytes(data)
    aws("s3", "cp", str(f), f"s3://{bucket}/big.txt", "--checksum-algorithm", "SHA256", env=small_chunk_env)
    raw = [hashlib.sha256(data[i:i + 5 * MiB]).digest() for i in range(0, len(data), 5 * MiB)]
    head = jaws(aws, "s3api", "head-object", "--bucket", bucket, "--key", "big.txt", "--checksum-mode", "ENABLED")
    assert head["ChecksumSHA256"] == f"{b64(hashlib.sha256(b''.join(raw)).digest())}-3"
    back = tmp_path / "back"
    aws("s3", "cp", f"s3://{bucket}/big.txt", str(back), "--checksum-mode", "ENABLED", env=small_chunk_env)
    assert back.read_bytes() == data


# --------------------------------------------------------------------------
# Content type guessing.
#
# https://docs.aws.amazon.com/cli/latest/reference/s3/cp.html
#   "--no-guess-mime-type: Do not try to guess the mime type for uploaded files. By
#    default the mime type of a file is guessed when it is uploaded."
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
#   Content-Type ... "A standard MIME type describing the format of the contents";
#   S3's default when none is sent is binary/octet-stream
#   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html, Content-Type:
#   "Default: binary/octet-stream").
# --------------------------------------------------------------------------

def test_cp_guess_and_no_guess_mime_type(aws, s3, bucket, tmp_path):
    f = tmp_path / "page.html"
    f.write_text("<p>hi</p>")
    aws("s3", "cp", str(f), f"s3://{bucket}/guessed.html")
    aws("s3", "cp", str(f), f"s3://{bucket}/plain.html", "--no-guess-mime-type")
    assert s3.head_object(Bucket=bucket, Key="guessed.html")["ContentType"] == "text/html"
    assert s3.head_object(Bucket=bucket, Key="plain.html")["ContentType"] == "binary/octet-stream"


# --------------------------------------------------------------------------
# --acl on a bucket with ACLs disabled (the default since April 2023) and on one with
# ObjectWriter ownership.
#
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
#   "If your bucket uses the bucket owner enforced setting ... requests to set ACLs or
#    update ACLs fail and return the AccessControlListNotSupported error code. Requests
#    to read ACLs are still supported."  "... PUT requests that specify
#    bucket-owner-full-control canned ACL ... succeed"
# https://docs.aws.amazon.com/cli/latest/reference/s3/cp.html --acl
# --------------------------------------------------------------------------

def test_cp_acl(aws, s3, bucket, tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("acl")
    p = aws("s3", "cp", str(f), f"s3://{bucket}/public.txt", "--acl", "public-read", check=False)
    assert p.returncode != 0 and "AccessControlListNotSupported" in p.stderr, p.stderr
    assert keys(s3, bucket) == []
    aws("s3", "cp", str(f), f"s3://{bucket}/owner.txt", "--acl", "bucket-owner-full-control")
    assert keys(s3, bucket) == ["owner.txt"]

    writer = new_bucket(s3, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=writer)
    aws("s3", "cp", str(f), f"s3://{writer}/public.txt", "--acl", "public-read")
    grants = s3.get_object_acl(Bucket=writer, Key="public.txt")["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ"} in grants


# --------------------------------------------------------------------------
# s3 -> s3 copies with and without --metadata-directive, within and between buckets.
#
# https://docs.aws.amazon.com/cli/latest/reference/s3/cp.html
#   "--metadata-directive (string) Specifies whether the metadata is copied from the
#    source object or replaced with metadata provided when copying S3 objects."
#   awscli/customizations/s3/utils.py _auto_populate_metadata_directive: --metadata
#   alone on a copy sends MetadataDirective=REPLACE.
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
#   x-amz-metadata-directive: COPY (default) | REPLACE
# --------------------------------------------------------------------------

def test_cp_s3_to_s3_metadata_directive(aws, s3, bucket):
    other = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="src.txt", Body=b"source", Metadata={"orig": "1"},
                  ContentType="text/x-orig", CacheControl="max-age=5")
    aws("s3", "cp", f"s3://{bucket}/src.txt", f"s3://{other}/copied.txt")
    head = s3.head_object(Bucket=other, Key="copied.txt")
    assert (head["Metadata"], head["ContentType"], head["CacheControl"]) == ({"orig": "1"}, "text/x-orig", "max-age=5")
    assert s3.get_object(Bucket=other, Key="copied.txt")["Body"].read() == b"source"

    aws("s3", "cp", f"s3://{bucket}/src.txt", f"s3://{other}/replaced.txt", "--metadata-directive", "REPLACE",
        "--content-type", "text/x-new", "--metadata", "new=2")
    head = s3.head_object(Bucket=other, Key="replaced.txt")
    assert (head["Metadata"], head["ContentType"]) == ({"new": "2"}, "text/x-new")
    assert "CacheControl" not in head

    aws("s3", "cp", f"s3://{bucket}/src.txt", f"s3://{bucket}/meta-only.txt", "--metadata", "only=3")
    assert s3.head_object(Bucket=bucket, Key="meta-only.txt")["Metadata"] == {"only": "3"}

    aws("s3", "cp", f"s3://{bucket}/src.txt", f"s3://{bucket}/emptied.txt", "--metadata-directive", "REPLACE",
        "--content-type", "text/plain")
    assert s3.head_object(Bucket=bucket, Key="emptied.txt")["Metadata"] == {}

    # Copying an object onto itself without changing anything is refused by S3
    # (CopyObject: "...you must ... change ... metadata ... InvalidRequest"); with REPLACE it works.
    p = aws("s3", "cp", f"s3://{bucket}/src.txt", f"s3://{bucket}/src.txt", check=False)
    assert p.returncode != 0 and "InvalidRequest" in p.stderr, p.stderr
    aws("s3", "cp", f"s3://{bucket}/src.txt", f"s3://{bucket}/src.txt", "--metadata-directive", "REPLACE",
        "--metadata", "again=4", "--content-type", "text/x-orig")
    assert s3.head_object(Bucket=bucket, Key="src.txt")["Metadata"] == {"again": "4"}


# --------------------------------------------------------------------------
# --dryrun.
#
# https://docs.aws.amazon.com/cli/latest/reference/s3/cp.html
#   "--dryrun (boolean) Displays the operations that would be performed using the
#    specified command without actually running them."
# awscli/customizations/s3/s3handler.py DryRunResult prints "(dryrun) upload: ..."
# --------------------------------------------------------------------------

def test_dryrun_changes_nothing(aws, s3, bucket, tmp_path):
    f = tmp_path / "d.txt"
    f.write_text("dry")
    p = aws("s3", "cp", str(f), f"s3://{bucket}/d.txt", "--dryrun")
    assert p.stdout.startswith("(dryrun) upload: ") and f"s3://{bucket}/d.txt" in p.stdout
    assert keys(s3, bucket) == []
    s3.put_object(Bucket=bucket, Key="keep.txt", Body=b"k")
    p = aws("s3", "rm", f"s3://{bucket}/keep.txt", "--dryrun")
    assert p.stdout.startswith("(dryrun) delete: ")
    p = aws("s3", "mv", f"s3://{bucket}/keep.txt", f"s3://{bucket}/moved.txt", "--dryrun")
    assert p.stdout.startswith("(dryrun) move: ")
    p = aws("s3", "sync", str(tmp_path), f"s3://{bucket}/", "--dryrun")
    assert "(dryrun) upload: " in p.stdout
    assert keys(s3, bucket) == ["keep.txt"]


# --------------------------------------------------------------------------
# cp --recursive and sync between two buckets.
#
# https://docs.aws.amazon.com/cli/latest/reference/s3/sync.html
#   "Recursively copies new and updated files from the source directory to the
#    destination. ... --delete: Files that exist in the destination but not in the
#    source are deleted during sync."  Example: "aws s3 sync s3://mybucket s3://mybucket2"
# awscli/customizations/s3/syncstrategy/base.py: a copy is done when the size differs or
#   the source's LastModified is later than the destination's.
# --------------------------------------------------------------------------

def test_cp_and_sync_between_buckets(aws, s3, bucket):
    dst = new_bucket(s3)
    for k in ("a.txt", "dir/b.txt", "dir/sub/c.txt"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode(), ContentType="text/x-" + k.split("/")[-1][0])
    aws("s3", "cp", f"s3://{bucket}/", f"s3://{dst}/copy/", "--recursive")
    assert keys(s3, dst) == ["copy/a.txt", "copy/dir/b.txt", "copy/dir/sub/c.txt"]
    assert s3.get_object(Bucket=dst, Key="copy/dir/sub/c.txt")["Body"].read() == b"dir/sub/c.txt"
    assert s3.head_object(Bucket=dst, Key="copy/dir/b.txt")["ContentType"] == "text/x-b"

    p = aws("s3", "sync", f"s3://{bucket}", f"s3://{dst}/sync")
    assert p.stdout.count("copy: ") == 3
    assert report(aws("s3", "sync", f"s3://{bucket}", f"s3://{dst}/sync")) == []

    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"changed size")
    s3.delete_object(Bucket=bucket, Key="dir/b.txt")
    p = aws("s3", "sync", f"s3://{bucket}", f"s3://{dst}/sync", "--delete")
    lines = sorted(report(p))
    assert len(lines) == 2 and lines[0].startswith("copy: ") and lines[1].startswith("delete: "), p.stdout
    assert keys(s3, dst, "sync/") == ["sync/a.txt", "sync/dir/sub/c.txt"]
    assert s3.get_object(Bucket=dst, Key="sync/a.txt")["Body"].read() == b"changed size"


# --------------------------------------------------------------------------
# sync --size-only.
#
# https://docs.aws.amazon.com/cli/latest/reference/s3/sync.html
#   "--size-only (boolean) Makes the size of each key the only criteria used to decide
#    whether to sync from source to destination."
# --------------------------------------------------------------------------

def test_sync_size_only(aws, s3, bucket, tmp_path):
    d = tmp_path / "src"
    d.mkdir()
    # S3's LastModified is to the second, so a file written in the second of its
    # upload can look newer than its object: files get mtimes well clear of now.
    past, future = time.time() - 3600, time.time() + 3600
    (d / "same.txt").write_text("aaaa")
    (d / "grow.txt").write_text("bb")
    for f in ("same.txt", "grow.txt"):
        os.utime(d / f, (past, past))
    aws("s3", "sync", str(d), f"s3://{bucket}/")
    (d / "same.txt").write_text("zzzz")  # same size, newer
    os.utime(d / "same.txt", (future, future))
    (d / "grow.txt").write_text("bbbbbb")
    os.utime(d / "grow.txt", (past, past))
    p = aws("s3", "sync", str(d), f"s3://{bucket}/", "--size-only")
    assert p.stdout.count("upload: ") == 1 and "grow.txt" in p.stdout, p.stdout
    assert s3.get_object(Bucket=bucket, Key="same.txt")["Body"].read() == b"aaaa"
    # Without --size-only the newer local file is uploaded.
    p = aws("s3", "sync", str(d), f"s3://{bucket}/")
    assert p.stdout.count("upload: ") == 1 and "same.txt" in p.stdout, p.stdout


# --------------------------------------------------------------------------
# sync s3 -> local: --delete, and --exact-timestamps.
#
# https://docs.aws.amazon.com/cli/latest/reference/s3/sync.html
#   "--exact-timestamps (boolean) When syncing from S3 to local, same-sized items will
#    be ignored only when the timestamps match exactly. The default behavior is to
#    ignore same-sized items unless the local version is newer than the S3 version."
# awscli/customizations/s3/utils.py ProvideLastModifiedTimeSubscriber sets a downloaded
#   file's mtime to int(LastModified); syncstrategy/exacttimestamps.py then compares the
#   listing's LastModified with it for equality.  S3 keeps LastModified to the second
#   (listings show "...T17:50:30.000Z", the ListObjectsV2 reference's example), so on AWS
#   a second sync with --exact-timestamps downloads nothing (aws/aws-cli PR #824: "when
#   we download a file, we set the mtime of the file to match the LastModified time so
#   if you were to run aws s3 sync s3://bucket local again, it would not sync any
#   files"; localstack/localstack#2032 fixed the same difference in LocalStack).
# --------------------------------------------------------------------------

def test_sync_s3_to_local_delete(aws, s3, bucket, tmp_path):
    for k in ("x.txt", "d/y.txt"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    d = tmp_path / "mirror"
    d.mkdir()
    (d / "stale.txt").write_text("gone")
    (d / "d").mkdir()
    (d / "d" / "old.txt").write_text("gone too")
    p = aws("s3", "sync", f"s3://{bucket}", str(d), "--delete")
    assert p.stdout.count("download: ") == 2 and p.stdout.count("delete: ") == 2, p.stdout
    assert sorted(str(q.relative_to(d)) for q in d.rglob("*") if q.is_file()) == ["d/y.txt", "x.txt"]
    assert (d / "d" / "y.txt").read_bytes() == b"d/y.txt"
    assert report(aws("s3", "sync", f"s3://{bucket}", str(d), "--delete")) == []


def test_sync_exact_timestamps_second_sync_downloads_nothing(aws, s3, bucket, tmp_path):
    for k in ("one.txt", "two.txt"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    d = tmp_path / "exact"
    aws("s3", "sync", f"s3://{bucket}", str(d))
    p = aws("s3", "sync", f"s3://{bucket}", str(d), "--exact-timestamps")
    assert report(p) == [], f"second --exact-timestamps sync downloaded again:\n{p.stdout}"
    # A same-sized change in S3 is picked up.
    time.sleep(1.1)
    s3.put_object(Bucket=bucket, Key="one.txt", Body=b"ONE.txt")
    p = aws("s3", "sync", f"s3://{bucket}", str(d), "--exact-timestamps")
    assert p.stdout.count("download: ") == 1 and "one.txt" in p.stdout, p.stdout
    assert (d / "one.txt").read_bytes() == b"ONE.txt"


def test_listing_last_modified_is_whole_seconds_like_head(s3, bucket):
    # HeadObject's Last-Modified (an HTTP date) and the listing's LastModified are the
    # same instant on S3; the listing's fraction is .000.
    s3.put_object(Bucket=bucket, Key="t", Body=b"t")
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]["LastModified"]
    head = s3.head_object(Bucket=bucket, Key="t")["LastModified"]
    assert listed == head, (listed, head)


# --------------------------------------------------------------------------
# ls --page-size.
#
# https://docs.aws.amazon.com/cli/latest/reference/s3/ls.html
#   "--page-size (integer) The number of results to return in each response to a list
#    operation. ... Using a lower value may help if an operation times out."  The
#   listing is still complete (ListObjectsV2 pages with continuation tokens; common
#   prefixes are spread over the pages too).
# --------------------------------------------------------------------------

def test_ls_page_size(aws, s3, bucket):
    names = ["a", "b", "c", "d", "e", "p1/x", "p1/y", "p2/z", "p3/w"]
    for k in names:
        s3.put_object(Bucket=bucket, Key=k, Body=b"12")
    out = aws("s3", "ls", f"s3://{bucket}/", "--page-size", "2").stdout.splitlines()
    pres = [l.split()[-1] for l in out if l.strip().startswith("PRE ")]
    objs = [l.split()[-1] for l in out if not l.strip().startswith("PRE ")]
    assert pres == ["p1/", "p2/", "p3/"] and objs == ["a", "b", "c", "d", "e"], out
    out = aws("s3", "ls", f"s3://{bucket}/", "--recursive", "--page-size", "2").stdout.splitlines()
    assert [l.split()[-1] for l in out] == names


# --------------------------------------------------------------------------
# Multipart through the CLI with a small chunk size from the config file, and a
# multipart s3->s3 copy (UploadPartCopy with CopySourceRange and CopySourceIfMatch).
#
# https://docs.aws.amazon.com/cli/latest/topic/s3-config.html
#   "multipart_threshold - The size threshold the CLI uses for multipart transfers ...
#    multipart_chunksize - ... the chunk size that the CLI uses for multipart transfers
#    of individual files."  Sizes like "5MB" are MiB (transferconfig.py human_readable).
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
#   the ETag of a multipart object is the MD5 of the parts' MD5s, "-" and the part count.
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_chunk_env(aws_env, tmp_path_factory):
    home = tmp_path_factory.mktemp("small-chunks")
    cfg = home / "config"
    cfg.write_text("[default]\ns3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n"
                   "  max_concurrent_requests = 4\n")
    env = dict(aws_env)
    env["AWS_CONFIG_FILE"] = str(cfg)
    return env


def test_cli_multipart_with_config_file(aws, s3, bucket, tmp_path, small_chunk_env):
    data = os.urandom(12 * MiB + 123)
    f = tmp_path / "mp.bin"
    f.write_bytes(data)
    aws("s3", "cp", str(f), f"s3://{bucket}/mp.bin", env=small_chunk_env)
    head = s3.head_object(Bucket=bucket, Key="mp.bin")
    assert head["ETag"] == multipart_etag(data, 5 * MiB)
    assert head["ContentLength"] == len(data)
    back = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{bucket}/mp.bin", str(back), env=small_chunk_env)
    assert back.read_bytes() == data

    other = new_bucket(s3)
    aws("s3", "cp", f"s3://{bucket}/mp.bin", f"s3://{other}/copy.bin", env=small_chunk_env)
    head = s3.head_object(Bucket=other, Key="copy.bin")
    assert head["ETag"] == multipart_etag(data, 5 * MiB)
    assert s3.get_object(Bucket=other, Key="copy.bin")["Body"].read() == data

    aws("s3", "cp", f"s3://{bucket}/mp.bin", f"s3://{other}/replaced.bin", "--metadata-directive", "REPLACE",
        "--content-type", "application/x-mp", "--metadata", "k=v", "--sse", "AES256", env=small_chunk_env)
    head = s3.head_object(Bucket=other, Key="replaced.bin")
    assert (head["ContentType"], head["Metadata"], head["ETag"]) == ("application/x-mp", {"k": "v"}, multipart_etag(data, 5 * MiB))

    # Streams use the configured chunk size too.
    aws("s3", "cp", "-", f"s3://{bucket}/mp-stream", input=data, text=False, env=small_chunk_env)
    assert s3.head_object(Bucket=bucket, Key="mp-stream")["ETag"] == multipart_etag(data, 5 * MiB)


# --------------------------------------------------------------------------
# s3api waiters.
#
# https://docs.aws.amazon.com/cli/latest/reference/s3api/wait/object-exists.html
#   "Wait until 200 response is received when polling with head-object. It will poll
#    every 5 seconds until a successful state has been reached."  (botocore
#   data/s3/2006-03-01/waiters-2.json: ObjectExists retries on 404, ObjectNotExists and
#   BucketNotExists succeed on 404, BucketExists succeeds on 200.)
# --------------------------------------------------------------------------

def test_s3api_waiters(aws, s3, bucket):
    s3.put_object(Bucket=bucket, Key="here", Body=b"x")
    aws("s3api", "wait", "bucket-exists", "--bucket", bucket, timeout=20)
    aws("s3api", "wait", "bucket-not-exists", "--bucket", f"missing-{uuid.uuid4().hex[:8]}", timeout=20)
    aws("s3api", "wait", "object-exists", "--bucket", bucket, "--key", "here", timeout=20)
    aws("s3api", "wait", "object-not-exists", "--bucket", bucket, "--key", "absent", timeout=20)

    # One that has to poll: the object appears after the first HeadObject.
    timer = threading.Timer(1.0, lambda: s3.put_object(Bucket=bucket, Key="later", Body=b"y"))
    timer.start()
    started = time.monotonic()
    aws("s3api", "wait", "object-exists", "--bucket", bucket, "--key", "later", timeout=30)
    assert time.monotonic() - started >= 1.0
    timer.join()


# --------------------------------------------------------------------------
# put-object --content-md5.
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html  Content-MD5
# https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
#   BadDigest: "The Content-MD5 or checksum value that you specified did not match what
#   the server received." 400;  InvalidDigest: "The Content-MD5 or checksum value that
#   you specified is not valid." 400
# --------------------------------------------------------------------------

def test_put_object_content_md5(aws, s3, bucket, tmp_path):
    f = tmp_path / "body"
    f.write_bytes(b"digest me")
    right = b64(hashlib.md5(b"digest me").digest())
    wrong = b64(hashlib.md5(b"something else").digest())
    out = jaws(aws, "s3api", "put-object", "--bucket", bucket, "--key", "ok", "--body", str(f), "--content-md5", right)
    assert out["ETag"] == f'"{hashlib.md5(b"digest me").hexdigest()}"'
    p = aws("s3api", "put-object", "--bucket", bucket, "--key", "bad", "--body", str(f), "--content-md5", wrong,
            check=False)
    assert p.returncode != 0 and "(BadDigest)" in p.stderr, p.stderr
    p = aws("s3api", "put-object", "--bucket", bucket, "--key", "bad", "--body", str(f), "--content-md5", "notbase64!",
            check=False)
    assert p.returncode != 0 and "(InvalidDigest)" in p.stderr, p.stderr
    assert keys(s3, bucket) == ["ok"]


# --------------------------------------------------------------------------
# get-object --range into a file.
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
#   Range: "Downloads the specified byte range of an object" (RFC 9110 byte ranges);
#   the response has Content-Range and a 206.
# --------------------------------------------------------------------------

def test_get_object_range_to_file(aws, s3, bucket, tmp_path):
    data = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    out = tmp_path / "part"
    got = jaws(aws, "s3api", "get-object", "--bucket", bucket, "--key", "r", "--range", "bytes=100-199", str(out))
    assert out.read_bytes() == data[100:200]
    assert got["ContentRange"] == f"bytes 100-199/{len(data)}" and got["ContentLength"] == 100
    got = jaws(aws, "s3api", "get-object", "--bucket", bucket, "--key", "r", "--range", "bytes=-10", str(out))
    assert out.read_bytes() == data[-10:] and got["ContentRange"] == f"bytes {len(data) - 10}-{len(data) - 1}/{len(data)}"
    got = jaws(aws, "s3api", "get-object", "--bucket", bucket, "--key", "r", "--range", "bytes=1000-", str(out))
    assert out.read_bytes() == data[1000:]
    p = aws("s3api", "get-object", "--bucket", bucket, "--key", "r", "--range", "bytes=5000-6000", str(out), check=False)
    assert p.returncode != 0 and "InvalidRange" in p.stderr, p.stderr


# --------------------------------------------------------------------------
# Part-level reads of a multipart object.
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html / API_GetObject.html
#   partNumber: "Part number of the object being read. This is a positive integer between
#   1 and 10,000. Effectively performs a 'ranged' HEAD request for the part specified."
#   x-amz-mp-parts-count: "The count of parts this object has."
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html
#   ObjectParts: TotalPartsCount ("The total number of parts"), MaxParts, IsTruncated,
#   NextPartNumberMarker, PartNumberMarker, Parts.
# --------------------------------------------------------------------------

def test_part_number_reads_and_object_parts(aws, s3, bucket, tmp_path):
    import zlib

    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1000)]
    crcs = [b64(zlib.crc32(p).to_bytes(4, "big")) for p in parts]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="CRC32")["UploadId"]
    done = []
    for i, p in enumerate(parts):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=i + 1, Body=p, ChecksumAlgorithm="CRC32")
        done.append({"PartNumber": i + 1, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": done})
    total = sum(map(len, parts))
    etag = multipart_etag(b"".join(parts), 5 * MiB)

    head = jaws(aws, "s3api", "head-object", "--bucket", bucket, "--key", "mp", "--part-number", "1")
    assert head["PartsCount"] == 3 and head["ContentLength"] == 5 * MiB and head["ETag"] == etag
    assert head["ContentRange"] == f"bytes 0-{5 * MiB - 1}/{total}"

    out = tmp_path / "p3"
    got = jaws(aws, "s3api", "get-object", "--bucket", bucket, "--key", "mp", "--part-number", "3", str(out))
    assert out.read_bytes() == parts[2]
    assert got["PartsCount"] == 3 and got["ContentLength"] == 1000
    assert got["ContentRange"] == f"bytes {10 * MiB}-{total - 1}/{total}"

    attrs = jaws(aws, "s3api", "get-object-attributes", "--bucket", bucket, "--key", "mp",
                 "--object-attributes", "ObjectParts", "ObjectSize", "ETag")
    op = attrs["ObjectParts"]
    assert op["TotalPartsCount"] == 3 and op.get("IsTruncated") is False
    assert [(p["PartNumber"], p["Size"], p["ChecksumCRC32"]) for p in op["Parts"]] == [
        (1, 5 * MiB, crcs[0]), (2, 5 * MiB, crcs[1]), (3, 1000, crcs[2])]
    assert attrs["ObjectSize"] == total and attrs["ETag"] == etag.strip('"')
    attrs = jaws(aws, "s3api", "get-object-attributes", "--bucket", bucket, "--key", "mp",
                 "--object-attributes", "ObjectParts", "--max-parts", "1")
    op = attrs["ObjectParts"]
    assert (op["IsTruncated"], op["MaxParts"], op["NextPartNumberMarker"]) == (True, 1, 1)
    assert [p["PartNumber"] for p in op["Parts"]] == [1]
    attrs = jaws(aws, "s3api", "get-object-attributes", "--bucket", bucket, "--key", "mp",
                 "--object-attributes", "ObjectParts", "--part-number-marker", "1")
    assert [p["PartNumber"] for p in attrs["ObjectParts"]["Parts"]] == [2, 3]

    p = aws("s3api", "get-object", "--bucket", bucket, "--key", "mp", "--part-number", "4", str(out), check=False)
    assert p.returncode != 0 and "InvalidPartNumber" in p.stderr, p.stderr


# --------------------------------------------------------------------------
# list-objects-v2 --starting-token.
#
# https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-pagination.html
#   "If the number of items output (--max-items) is fewer than the total number of items
#    returned by the underlying API calls, the output includes a NextToken that you can
#    pass to a subsequent command to retrieve the next set of items ...
#    --starting-token"
# --------------------------------------------------------------------------

def test_list_objects_v2_starting_token(aws, s3, bucket):
    names = [f"k{i:02d}" for i in range(7)]
    for k in names:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    seen, token = [], None
    for _ in range(10):
        args = ["s3api", "list-objects-v2", "--bucket", bucket, "--max-items", "3", "--page-size", "2"]
        if token:
            args += ["--starting-token", token]
        out = jaws(aws, *args)
        seen += [o["Key"] for o in out.get("Contents", [])]
        token = out.get("NextToken")
        if not token:
            break
    assert seen == names


# --------------------------------------------------------------------------
# Operations nimbus may not implement must fail fast with an S3 error, never a 5xx
# other than NotImplemented, nor hang.
#
# https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
#   NotImplemented: "A header you provided implies functionality that is not
#   implemented." 501 Not Implemented.
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreObject.html
#   "202 Accepted" when the object was not previously restored; InvalidObjectState
#   (403) for an object not in an archive storage class ("Object restore is not
#   allowed ..."); GetObject of an archived object: InvalidObjectState 403
#   (API_GetObject.html: "If the object you are retrieving is stored in ... S3 Glacier
#   Flexible Retrieval ... you must first restore a copy ... Otherwise, this operation
#   returns an InvalidObjectState error.")
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAccelerateConfiguration.html
# --------------------------------------------------------------------------

def test_select_object_content_fails_cleanly(aws, s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="data.csv", Body=b"a,b\n1,2\n")
    try:
        events = s3.select_object_content(Bucket=bucket, Key="data.csv", Expression="select * from s3object",
                                          ExpressionType="SQL", InputSerialization={"CSV": {}},
                                          OutputSerialization={"CSV": {}})
        records = b"".join(e["Records"]["Payload"] for e in events["Payload"] if "Records" in e)
        assert records.replace(b"\r\n", b"\n") == b"a,b\n1,2\n"
    except ClientError as e:
        assert (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]) == ("NotImplemented", 501)
    started = time.monotonic()
    p = aws("s3api", "select-object-content", "--bucket", bucket, "--key", "data.csv",
            "--expression", "select * from s3object", "--expression-type", "SQL",
            "--input-serialization", '{"CSV": {}}', "--output-serialization", '{"CSV": {}}',
            str(tmp_path / "out.csv"), check=False, timeout=30)
    assert time.monotonic() - started < 20
    assert p.returncode == 0 or "NotImplemented" in p.stderr, p.stderr


def test_restore_object(aws, s3, bucket):
    s3.put_object(Bucket=bucket, Key="warm", Body=b"w")
    assert err(lambda: s3.restore_object(Bucket=bucket, Key="warm", RestoreRequest={"Days": 1})) == (
        "InvalidObjectState", 403)
    p = aws("s3api", "restore-object", "--bucket", bucket, "--key", "warm", "--restore-request", "Days=1", check=False)
    assert p.returncode != 0 and "InvalidObjectState" in p.stderr, p.stderr
    assert err(lambda: s3.restore_object(Bucket=bucket, Key="nope", RestoreRequest={"Days": 1})) == ("NoSuchKey", 404)

    s3.put_object(Bucket=bucket, Key="cold", Body=b"c", StorageClass="GLACIER")
    assert err(lambda: s3.get_object(Bucket=bucket, Key="cold")) == ("InvalidObjectState", 403)
    r = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Standard"}})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert "ongoing-request=" in s3.head_object(Bucket=bucket, Key="cold")["Restore"]


# awscli/customizations/s3/fileinfo.py is_glacier_compatible / s3handler.py _warn_glacier:
#   a download of a GLACIER object that HeadObject (or the listing) shows as not restored
#   is skipped with "Object is of storage class GLACIER. Unable to perform download
#   operations on GLACIER objects. You must restore the object to be able to perform the
#   operation." (rc 2); --force-glacier-transfer sends the GetObject anyway, which S3
#   refuses with InvalidObjectState (API_GetObject.html).  Once HeadObject's x-amz-restore
#   says ongoing-request="false" the download is done (API_HeadObject.html x-amz-restore).
def test_cli_glacier_objects(aws, s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    s3.put_object(Bucket=bucket, Key="warm", Body=b"warm")
    target = tmp_path / "cold"
    p = aws("s3", "cp", f"s3://{bucket}/cold", str(target), check=False)
    assert p.returncode == 2 and "Object is of storage class GLACIER" in p.stderr, p.stderr
    assert not target.exists()
    p = aws("s3", "cp", f"s3://{bucket}/cold", str(target), "--force-glacier-transfer", check=False)
    assert p.returncode == 1 and "InvalidObjectState" in p.stderr, p.stderr
    d = tmp_path / "mirror"
    p = aws("s3", "sync", f"s3://{bucket}", str(d), check=False)
    assert p.returncode == 2 and "Object is of storage class GLACIER" in p.stderr, p.stderr
    assert sorted(q.name for q in d.iterdir()) == ["warm"]

    aws("s3api", "restore-object", "--bucket", bucket, "--key", "cold", "--restore-request", "Days=1")
    deadline = time.monotonic() + 3
    while 'ongoing-request="false"' not in s3.head_object(Bucket=bucket, Key="cold").get("Restore", ""):
        if time.monotonic() > deadline:
            pytest.skip("the restore is still in progress (as on AWS, where it takes hours)")
        time.sleep(0.2)
    aws("s3", "cp", f"s3://{bucket}/cold", str(target))
    assert target.read_bytes() == b"frozen"


def test_bucket_accelerate_configuration(aws, s3, bucket):
    try:
        s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"})
    except ClientError as e:
        assert (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]) == ("NotImplemented", 501)
        p = aws("s3api", "put-bucket-accelerate-configuration", "--bucket", bucket,
                "--accelerate-configuration", "Status=Enabled", check=False, timeout=30)
        assert p.returncode != 0 and "NotImplemented" in p.stderr, p.stderr
        return
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"
    out = jaws(aws, "s3api", "get-bucket-accelerate-configuration", "--bucket", bucket)
    assert out["Status"] == "Enabled"


# --------------------------------------------------------------------------
# boto3 managed transfers.
#
# https://boto3.amazonaws.com/v1/documentation/api/latest/reference/services/s3/client/copy.html
#   "This is a managed transfer which will perform a multipart copy in multiple threads
#    if necessary."  s3transfer/copies.py: HeadObject, then CreateMultipartUpload with
#   the source's ContentType/Metadata/CacheControl... (PRESERVED_METADATA_FIELDS) unless
#   MetadataDirective=REPLACE, UploadPartCopy with CopySourceRange and
#   CopySourceIfMatch=<source ETag>, CompleteMultipartUpload; TaggingDirective=COPY copies
#   the tags with GetObjectTagging/PutObjectTagging.
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html
#   x-amz-copy-source-range "bytes=first-last"
# --------------------------------------------------------------------------

COPY_CFG = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)


def test_boto3_managed_copy_multipart(s3, bucket):
    data = os.urandom(17 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=data, ContentType="application/x-src", Metadata={"m": "1"},
                  CacheControl="max-age=9", Tagging="t1=v1&t2=v2")
    dst = new_bucket(s3)
    s3.copy({"Bucket": bucket, "Key": "src"}, dst, "copy", Config=COPY_CFG, ExtraArgs={"TaggingDirective": "COPY"})
    head = s3.head_object(Bucket=dst, Key="copy")
    assert head["ETag"] == multipart_etag(data, 5 * MiB)
    assert head["ContentLength"] == len(data)
    assert (head["ContentType"], head["Metadata"], head["CacheControl"]) == ("application/x-src", {"m": "1"}, "max-age=9")
    assert s3.get_object(Bucket=dst, Key="copy")["Body"].read() == data
    tags = s3.get_object_tagging(Bucket=dst, Key="copy")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("t1", "v1"), ("t2", "v2")]

    s3.copy({"Bucket": bucket, "Key": "src"}, dst, "replaced", Config=COPY_CFG,
            ExtraArgs={"MetadataDirective": "REPLACE", "Metadata": {"n": "2"}, "ContentType": "text/x-new",
                       "ServerSideEncryption": "AES256"})
    head = s3.head_object(Bucket=dst, Key="replaced")
    assert (head["Metadata"], head["ContentType"], head["ServerSideEncryption"]) == ({"n": "2"}, "text/x-new", "AES256")
    assert "CacheControl" not in head
    assert head["ETag"] == multipart_etag(data, 5 * MiB)


def test_boto3_managed_copy_with_sha256(s3, bucket):
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html:
    # a multipart object's composite checksum is the checksum of the parts' binary
    # checksums, "-" and the part count (ChecksumType COMPOSITE); a single-part one is
    # the checksum of the whole object (FULL_OBJECT).
    data = os.urandom(12 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    s3.copy({"Bucket": bucket, "Key": "src"}, bucket, "big-sha", Config=COPY_CFG,
            ExtraArgs={"ChecksumAlgorithm": "SHA256"})
    head = s3.head_object(Bucket=bucket, Key="big-sha", ChecksumMode="ENABLED")
    raw = [hashlib.sha256(data[i:i + 5 * MiB]).digest() for i in range(0, len(data), 5 * MiB)]
    assert head.get("ChecksumSHA256") == f"{b64(hashlib.sha256(b''.join(raw)).digest())}-3", head
    assert head.get("ChecksumType") == "COMPOSITE"

    s3.put_object(Bucket=bucket, Key="small", Body=b"tiny")
    s3.copy({"Bucket": bucket, "Key": "small"}, bucket, "small-sha", Config=COPY_CFG,
            ExtraArgs={"ChecksumAlgorithm": "SHA256"})
    head = s3.head_object(Bucket=bucket, Key="small-sha", ChecksumMode="ENABLED")
    assert head.get("ChecksumSHA256") == b64(hashlib.sha256(b"tiny").digest())


# https://boto3.amazonaws.com/v1/documentation/api/latest/reference/services/s3/client/upload_fileobj.html
#   "Fileobj: A file-like object to upload. At a minimum, it must implement the read
#    method, and must return bytes."  (s3transfer UploadNonSeekableInputManager)
def test_boto3_upload_fileobj_non_seekable(s3, bucket):
    data = os.urandom(13 * MiB)

    class Reader:
        def __init__(self, payload):
            self._buf = io.BytesIO(payload)

        def read(self, n=-1):
            return self._buf.read(n)

    s3.upload_fileobj(Reader(data), bucket, "stream", Config=TransferConfig(multipart_threshold=5 * MiB,
                                                                            multipart_chunksize=5 * MiB))
    head = s3.head_object(Bucket=bucket, Key="stream")
    assert head["ETag"] == multipart_etag(data, 5 * MiB) and head["ContentLength"] == len(data)
    assert s3.get_object(Bucket=bucket, Key="stream")["Body"].read() == data

    r, w = os.pipe()

    def feed():
        with os.fdopen(w, "wb") as out:
            out.write(data[: 7 * MiB])

    t = threading.Thread(target=feed)
    t.start()
    with os.fdopen(r, "rb") as pipe:
        s3.upload_fileobj(pipe, bucket, "pipe", Config=TransferConfig(multipart_threshold=5 * MiB,
                                                                      multipart_chunksize=5 * MiB))
    t.join()
    assert s3.get_object(Bucket=bucket, Key="pipe")["Body"].read() == data[: 7 * MiB]
    assert s3.head_object(Bucket=bucket, Key="pipe")["ETag"] == multipart_etag(data[: 7 * MiB], 5 * MiB)


# https://boto3.amazonaws.com/v1/documentation/api/latest/reference/customizations/s3.html
#   TransferConfig max_concurrency / multipart_chunksize: a download above the threshold
#   is done with concurrent ranged GETs (s3transfer/download.py, Range bytes=a-b).
def test_boto3_parallel_ranged_download(s3, bucket, tmp_path):
    data = os.urandom(33 * MiB + 17)
    s3.upload_fileobj(io.BytesIO(data), bucket, "big", Config=TransferConfig(multipart_chunksize=8 * MiB))
    cfg = TransferConfig(max_concurrency=8, multipart_chunksize=5 * MiB, multipart_threshold=5 * MiB)
    buf = io.BytesIO()
    s3.download_fileobj(bucket, "big", buf, Config=cfg)
    assert buf.getvalue() == data
    target = tmp_path / "big.bin"
    s3.download_file(bucket, "big", str(target), Config=cfg)
    assert target.read_bytes() == data


# https://boto3.amazonaws.com/v1/documentation/api/latest/reference/customizations/s3.html
#   boto3.s3.transfer.S3Transfer.ALLOWED_UPLOAD_ARGS: ACL, ChecksumAlgorithm, ContentType,
#   Metadata, ServerSideEncryption, ...;  ACL rules as in test_cp_acl.
def test_boto3_upload_file_extra_args(s3, bucket, tmp_path):
    small = tmp_path / "small.bin"
    small.write_bytes(b"extra args")
    big = tmp_path / "big.bin"
    big_data = os.urandom(11 * MiB)
    big.write_bytes(big_data)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    extra = {"Metadata": {"who": "me"}, "ContentType": "application/x-extra", "ACL": "bucket-owner-full-control",
             "ServerSideEncryption": "AES256", "ChecksumAlgorithm": "SHA256"}
    s3.upload_file(str(small), bucket, "small", ExtraArgs=extra, Config=cfg)
    s3.upload_file(str(big), bucket, "big", ExtraArgs=extra, Config=cfg)
    for key, body in (("small", b"extra args"), ("big", big_data)):
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert (head["Metadata"], head["ContentType"], head["ServerSideEncryption"]) == (
            {"who": "me"}, "application/x-extra", "AES256")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert s3.head_object(Bucket=bucket, Key="small", ChecksumMode="ENABLED")["ChecksumSHA256"] == b64(
        hashlib.sha256(b"extra args").digest())
    raw = [hashlib.sha256(big_data[i:i + 5 * MiB]).digest() for i in range(0, len(big_data), 5 * MiB)]
    head = s3.head_object(Bucket=bucket, Key="big", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == f"{b64(hashlib.sha256(b''.join(raw)).digest())}-3"
    assert head["ETag"] == multipart_etag(big_data, 5 * MiB)

    # ACLs other than the owner's full control are refused while ACLs are disabled.
    from boto3.exceptions import S3UploadFailedError
    with pytest.raises(S3UploadFailedError) as e:
        s3.upload_file(str(small), bucket, "public", ExtraArgs={"ACL": "public-read"})
    assert "AccessControlListNotSupported" in str(e.value)
    with pytest.raises(S3UploadFailedError) as e:
        s3.upload_file(str(big), bucket, "public-big", ExtraArgs={"ACL": "public-read"}, Config=cfg)
    assert "AccessControlListNotSupported" in str(e.value)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_boto3_upload_file_crc32c(s3, bucket, tmp_path):
    # botocore needs awscrt for CRC32C (botocore/httpchecksum.py CrtCrc32cChecksum).
    checksums = pytest.importorskip("awscrt.checksums")
    data = os.urandom(11 * MiB)
    f = tmp_path / "c.bin"
    f.write_bytes(data)
    s3.upload_file(str(f), bucket, "crc", ExtraArgs={"ChecksumAlgorithm": "CRC32C"},
                   Config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB))
    raw = [checksums.crc32c(data[i:i + 5 * MiB]).to_bytes(4, "big") for i in range(0, len(data), 5 * MiB)]
    head = s3.head_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32C"] == f"{b64(checksums.crc32c(b''.join(raw)).to_bytes(4, 'big'))}-3"
