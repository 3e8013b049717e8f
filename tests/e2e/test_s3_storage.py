"""How S3 keeps bodies: small ones (up to 64 KiB) share segment files, larger ones
get a file each. Whatever the size, a body reads back byte for byte (whole, by
range, copied, copied as a part), concurrent overwrites never expose another
object's bytes, space of deleted and overwritten bodies is reclaimed, and every
acknowledged body survives kill -9 and compaction."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

import nimbus_helpers as h
from test_s3_basics import s3_client

SMALL_MAX = 64 * 1024


@pytest.mark.parametrize("size", [0, 1, 4096, SMALL_MAX - 1, SMALL_MAX, SMALL_MAX + 1, 300 * 1024])
def test_bodies_either_side_of_the_segment_limit(s3, bucket, size):
    body = os.urandom(size)
    r = s3.put_object(Bucket=bucket, Key="k", Body=body)
    assert r["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["ContentLength"] == size
    assert got["Body"].read() == body
    if size >= 10:
        part = s3.get_object(Bucket=bucket, Key="k", Range=f"bytes=3-{size - 3}")
        assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert part["Body"].read() == body[3 : size - 2]
        tail = s3.get_object(Bucket=bucket, Key="k", Range="bytes=-5")
        assert tail["Body"].read() == body[-5:]
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == body
    # Deleting the source leaves the copy whole: each version owns its body.
    s3.delete_object(Bucket=bucket, Key="k")
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == body


def test_part_copied_from_a_small_object(s3, bucket):
    small = os.urandom(10_000)
    big = os.urandom(5 * 1024 * 1024)
    s3.put_object(Bucket=bucket, Key="small", Body=small)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="joined")["UploadId"]
    p1 = s3.upload_part(Bucket=bucket, Key="joined", UploadId=uid, PartNumber=1, Body=big)
    p2 = s3.upload_part_copy(
        Bucket=bucket, Key="joined", UploadId=uid, PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "small"}, CopySourceRange="bytes=100-4099",
    )
    assert p2["CopyPartResult"]["ETag"] == f'"{hashlib.md5(small[100:4100]).hexdigest()}"'
    s3.complete_multipart_upload(
        Bucket=bucket, Key="joined", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]},
                                   {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]},
    )
    assert s3.get_object(Bucket=bucket, Key="joined")["Body"].read() == big + small[100:4100]


def test_large_bodies_read_again_and_again(s3, bucket):
    """Bodies of 1-64 MiB are mapped whole after their first read and later reads
    share the mapping: every read, whole or ranged, concurrent or after the key is
    overwritten or deleted, returns exactly the stored bytes."""
    first, second = os.urandom(3 * 1024 * 1024 + 11), os.urandom(2 * 1024 * 1024)
    s3.put_object(Bucket=bucket, Key="big", Body=first)
    for attempt in range(4):
        assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == first, attempt
        part = s3.get_object(Bucket=bucket, Key="big", Range="bytes=1048570-2200000")
        assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert part["Body"].read() == first[1048570:2200001]
        time.sleep(0.1)
    results = []

    def read():
        c = s3_client(s3.meta.endpoint_url)
        results.extend(c.get_object(Bucket=bucket, Key="big")["Body"].read() == first for _ in range(3))

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [True] * 12
    s3.put_object(Bucket=bucket, Key="big", Body=second)
    for _ in range(3):
        assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == second
        time.sleep(0.1)
    s3.delete_object(Bucket=bucket, Key="big")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="big")


def test_concurrent_overwrites_never_mix_bodies(s3, bucket):
    """Readers racing writers see one of the bodies written, whole, every time."""
    bodies = [bytes([i]) * (1000 + 997 * i) for i in range(8)]
    valid = {hashlib.md5(b).hexdigest() for b in bodies}
    s3.put_object(Bucket=bucket, Key="hot", Body=bodies[0])
    stop = threading.Event()
    bad = []

    def write(n):
        c = s3_client(s3.meta.endpoint_url)
        i = n
        while not stop.is_set():
            c.put_object(Bucket=bucket, Key="hot", Body=bodies[i % len(bodies)])
            i += 1

    def read():
        c = s3_client(s3.meta.endpoint_url)
        while not stop.is_set():
            r = c.get_object(Bucket=bucket, Key="hot")
            data = r["Body"].read()
            if hashlib.md5(data).hexdigest() not in valid or f'"{hashlib.md5(data).hexdigest()}"' != r["ETag"]:
                bad.append(len(data))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)] + [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    stop.wait(4)
    stop.set()
    for t in threads:
        t.join(30)
    assert bad == []


def _segments_bytes(data_dir: Path) -> int:
    return sum(f.stat().st_size for f in (data_dir / "s3" / "segments").iterdir())


@pytest.mark.own_server
def test_dead_space_is_reclaimed_and_survives_kill9(nimbus_factory):
    segment = 256 * 1024
    srv = nimbus_factory(env={"NIMBUS_S3_SEGMENT_BYTES": str(segment)})
    c = s3_client(srv.endpoint)
    c.create_bucket(Bucket="seg")
    # Interleave keepers and throwaways so every segment ends up half dead.
    keep = {}
    for i in range(120):
        body = os.urandom(8000 + i)
        c.put_object(Bucket="seg", Key=f"keep/{i}", Body=body)
        keep[f"keep/{i}"] = body
        c.put_object(Bucket="seg", Key=f"drop/{i}", Body=os.urandom(8000 + i))
    written = _segments_bytes(srv.data_dir)
    live = sum(len(b) for b in keep.values())
    assert written >= 2 * live
    c.delete_objects(Bucket="seg", Delete={"Objects": [{"Key": f"drop/{i}"} for i in range(120)], "Quiet": True})
    # Overwrite some keepers too: their first bodies die.
    for i in range(0, 120, 3):
        body = os.urandom(5000 + i)
        c.put_object(Bucket="seg", Key=f"keep/{i}", Body=body)
        keep[f"keep/{i}"] = body
    live = sum(len(b) for b in keep.values())
    h.wait_until(lambda: _segments_bytes(srv.data_dir) <= live + 2 * segment, timeout=20,
                 message=f"segments shrink towards {live} live bytes")
    for k, v in keep.items():
        assert c.get_object(Bucket="seg", Key=k)["Body"].read() == v
    srv.kill()
    srv.restart()
    c = s3_client(srv.endpoint)
    listed = [o["Key"] for p in c.get_paginator("list_objects_v2").paginate(Bucket="seg") for o in p.get("Contents", [])]
    assert sorted(listed) == sorted(keep)
    for k, v in keep.items():
        assert c.get_object(Bucket="seg", Key=k)["Body"].read() == v
