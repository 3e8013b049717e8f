"""S3 bodies are streamed to disk and back, never held whole in memory: a large upload
and download keep the server's peak resident memory flat. (A memory bound, not a
timing: peak RSS is what the issue asks to stay constant.)"""

from __future__ import annotations

import hashlib
import http.client
import os
from urllib.parse import urlsplit

import requests

from test_s3_basics import s3_client

SIZE = 512 * 1024 * 1024  # 512 MiB, far above anything the server may buffer
CHUNK = 1024 * 1024


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def body():
    block = os.urandom(CHUNK)
    for _ in range(SIZE // CHUNK):
        yield block


def test_large_put_and_get_run_in_constant_memory(nimbus_factory):
    srv = nimbus_factory()
    s3 = s3_client(srv.endpoint)
    s3.create_bucket(Bucket="big")
    before = peak_rss_mib(srv.proc.pid)
    # A presigned PUT streamed from a generator: one 512 MiB request body.
    url = urlsplit(s3.generate_presigned_url("put_object", Params={"Bucket": "big", "Key": "blob"}, ExpiresIn=300))
    expected = hashlib.md5()
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
    conn.putrequest("PUT", f"{url.path}?{url.query}")
    conn.putheader("Content-Length", str(SIZE))
    conn.endheaders()
    for block in body():
        expected.update(block)
        conn.send(block)
    r = conn.getresponse()
    assert r.status == 200, r.read()
    assert r.getheader("ETag").strip('"') == expected.hexdigest()
    conn.close()
    got = hashlib.md5()
    with requests.get(s3.generate_presigned_url("get_object", Params={"Bucket": "big", "Key": "blob"}),
                      stream=True, timeout=300) as resp:
        assert resp.status_code == 200
        for chunk in resp.iter_content(CHUNK):
            got.update(chunk)
    assert got.hexdigest() == expected.hexdigest()
    grew = peak_rss_mib(srv.proc.pid) - before
    print(f"peak RSS before {before:.1f} MiB, growth {grew:.1f} MiB for {SIZE >> 20} MiB up and down")
    assert grew < 64, f"peak RSS grew by {grew:.0f} MiB while moving a {SIZE >> 20} MiB object"


def test_large_form_upload_runs_in_constant_memory(nimbus_factory):
    # A browser form upload (presigned POST) of 512 MiB: the file part streams to disk
    # like a PUT's body. (It was read whole into memory before it was stored.)
    srv = nimbus_factory()
    s3 = s3_client(srv.endpoint)
    s3.create_bucket(Bucket="big")
    post = s3.generate_presigned_post("big", "uploads/${filename}",
                                      Conditions=[["starts-with", "$key", "uploads/"],
                                                  ["content-length-range", 1, SIZE]])
    boundary = "nimbus-form-boundary-7MA4YWxkTrZu0gW"
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in post["fields"].items()
    )
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="video.bin"\r\n'
             f"Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    before = peak_rss_mib(srv.proc.pid)
    url = urlsplit(post["url"])
    expected = hashlib.md5()
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
    conn.putrequest("POST", url.path)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + SIZE + len(tail)))
    conn.endheaders()
    conn.send(head)
    for block in body():
        expected.update(block)
        conn.send(block)
    conn.send(tail)
    r = conn.getresponse()
    assert r.status == 204, r.read()
    conn.close()
    grew = peak_rss_mib(srv.proc.pid) - before
    head_object = s3.head_object(Bucket="big", Key="uploads/video.bin")
    assert head_object["ContentLength"] == SIZE
    assert head_object["ETag"].strip('"') == expected.hexdigest()
    print(f"peak RSS before {before:.1f} MiB, growth {grew:.1f} MiB for a {SIZE >> 20} MiB form upload")
    assert grew < 64, f"peak RSS grew by {grew:.0f} MiB during a {SIZE >> 20} MiB form upload"
