"""Conformance probes for S3 listings and multipart uploads, written from AWS's S3 API
Reference (ListObjectsV2, ListObjects, ListObjectVersions, ListMultipartUploads,
ListParts, CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
AbortMultipartUpload, "List of error codes") and the User Guide ("Uploading and copying
objects using multipart upload", "Checking object integrity").

Only what test_s3_basics / test_s3_conformance / test_s3_versioning /
test_s3_upload_part_copy / test_s3_cli_transfers / test_s3_sweep do not already cover.
Tests whose expectation rests on AWS behaviour observed by others rather than on the
documentation say so in their comment ("UNSURE")."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import time
import urllib.parse
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from test_s3_basics import code, status
from test_s3_conformance import MiB, err, message, signed
from test_s3_default_checksum import plain  # noqa: F401  (a fixture)

def b64(d: bytes) -> str:
    return base64.b64encode(d).decode()


def crc32_raw(d: bytes) -> bytes:
    return struct.pack(">I", zlib.crc32(d))


def keys_of(r):
    return [o["Key"] for o in r.get("Contents", [])]


def prefixes_of(r):
    return [p["Prefix"] for p in r.get("CommonPrefixes", [])]


def put_keys(s3, bucket, keys, threads=16):
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b""), keys))


def mp_etag(*parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(), len(parts))


# =====================================================================================
# ListObjectsV2
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
# =====================================================================================

def test_v2_delimiter_other_than_slash(s3, bucket):
    # Delimiter: "A delimiter is a character that you use to group keys." Any character,
    # not only '/'.
    put_keys(s3, bucket, ["a-b-c", "a-d", "x", "x-", "y-1-2"])
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="-")
    assert prefixes_of(r) == ["a-", "x-", "y-"]
    assert keys_of(r) == ["x"]
    assert r["Delimiter"] == "-" and r["KeyCount"] == 4
    r = s3.list_objects_v2(Bucket=bucket, Prefix="a-", Delimiter="-")
    assert prefixes_of(r) == ["a-b-"] and keys_of(r) == ["a-d"]


def test_v2_multi_character_delimiter(s3, bucket):
    # CommonPrefixes "contains all (if there are any) keys between Prefix and the next
    # occurrence of the string specified by a delimiter" - a string, not a character.
    put_keys(s3, bucket, ["2024::01::a", "2024::02", "2024:x", "solo", "::lead"])
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="::")
    assert prefixes_of(r) == ["2024::", "::"]
    assert keys_of(r) == ["2024:x", "solo"]
    r = s3.list_objects_v2(Bucket=bucket, Prefix="2024::", Delimiter="::")
    assert prefixes_of(r) == ["2024::01::"] and keys_of(r) == ["2024::02"]


def test_v2_prefix_that_is_also_a_key(s3, bucket):
    put_keys(s3, bucket, ["p", "p/", "p/1", "p/q/2", "pz"])
    r = s3.list_objects_v2(Bucket=bucket, Prefix="p", Delimiter="/")
    assert keys_of(r) == ["p", "pz"] and prefixes_of(r) == ["p/"]
    # The "folder object" p/ is a key equal to the prefix: it is listed as a key; only
    # keys with a delimiter after the prefix roll up.
    r = s3.list_objects_v2(Bucket=bucket, Prefix="p/", Delimiter="/")
    assert keys_of(r) == ["p/", "p/1"] and prefixes_of(r) == ["p/q/"]
    assert r["KeyCount"] == 3
    r = s3.list_objects_v2(Bucket=bucket, Prefix="p/1")
    assert keys_of(r) == ["p/1"]


def test_v2_leading_and_doubled_delimiters(s3, bucket):
    put_keys(s3, bucket, ["/abs", "//x", "a//b", "a/c"])
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert prefixes_of(r) == ["/", "a/"] and "Contents" not in r
    r = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert prefixes_of(r) == ["a//"] and keys_of(r) == ["a/c"]
    r = s3.list_objects_v2(Bucket=bucket, Prefix="/", Delimiter="/")
    assert prefixes_of(r) == ["//"] and keys_of(r) == ["/abs"]


def test_v2_common_prefixes_count_toward_max_keys(s3, bucket):
    # Delimiter: "Each rolled-up result counts as only one return against the MaxKeys
    # value." KeyCount: "KeyCount will always be less than or equal to the MaxKeys field."
    put_keys(s3, bucket, ["a/1", "a/2", "b/1", "b/2", "c", "d/1"])
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert prefixes_of(r) == ["a/", "b/"] and "Contents" not in r
    assert r["KeyCount"] == 2 and r["IsTruncated"] is True and r["NextContinuationToken"]
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=2, ContinuationToken=r["NextContinuationToken"])
    assert keys_of(r) == ["c"] and prefixes_of(r) == ["d/"]
    assert r["KeyCount"] == 2 and r["IsTruncated"] is False and "NextContinuationToken" not in r


def test_v2_pages_of_one_across_common_prefixes(s3, bucket):
    # A continuation token after a common prefix must not hand the same prefix (or one
    # of the keys rolled into it) back again.
    put_keys(s3, bucket, ["a/1", "a/2", "a/3", "b", "c/x/1", "c/y", "d"])
    seen, token, pages = [], None, 0
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=1, **kw)
        pages += 1
        assert r["KeyCount"] == len(keys_of(r)) + len(prefixes_of(r)) <= 1
        seen += [("P", p) for p in prefixes_of(r)] + [("K", k) for k in keys_of(r)]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
        assert pages < 20, seen
    assert seen == [("P", "a/"), ("K", "b"), ("P", "c/"), ("K", "d")]


def test_v2_paginator_with_delimiter(s3, bucket):
    put_keys(s3, bucket, [f"dir{i}/f" for i in range(5)] + [f"file{i}" for i in range(4)])
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 2}))
    assert [p for page in pages for p in prefixes_of(page)] == [f"dir{i}/" for i in range(5)]
    assert [k for page in pages for k in keys_of(page)] == [f"file{i}" for i in range(4)]
    assert len(pages) == 5


def test_listings_cap_max_keys_at_1000(s3, bucket):
    # ListObjectsV2 / ListObjects MaxKeys: "By default, the action returns up to 1,000
    # key names. The response might contain fewer keys but will never contain more."
    # ListObjectVersions MaxKeys: "... returns up to 1,000 key names. The response might
    # contain fewer keys but will never contain more."
    names = [f"k{i:05d}" for i in range(1001)]
    put_keys(s3, bucket, names, threads=32)
    for kw in ({}, {"MaxKeys": 5000}):
        r = s3.list_objects_v2(Bucket=bucket, **kw)
        assert r["KeyCount"] == 1000 and len(r["Contents"]) == 1000 and r["IsTruncated"] is True, kw
        assert r["Contents"][-1]["Key"] == names[999]
        rest = s3.list_objects_v2(Bucket=bucket, ContinuationToken=r["NextContinuationToken"], **kw)
        assert keys_of(rest) == [names[1000]] and rest["IsTruncated"] is False
        r = s3.list_objects(Bucket=bucket, **kw)
        assert len(r["Contents"]) == 1000 and r["IsTruncated"] is True, kw
        r = s3.list_object_versions(Bucket=bucket, **kw)
        assert len(r["Versions"]) == 1000 and r["IsTruncated"] is True, kw
        assert r["NextKeyMarker"] == names[999]


def test_v2_start_after_edges(s3, bucket):
    put_keys(s3, bucket, ["a1", "b1", "b2", "c1"])
    # StartAfter: "Amazon S3 starts listing after this specified key." Past every key:
    r = s3.list_objects_v2(Bucket=bucket, StartAfter="zzz")
    assert "Contents" not in r and r["KeyCount"] == 0 and r["IsTruncated"] is False
    assert r["StartAfter"] == "zzz"
    # Before the prefix: the prefix still filters.
    r = s3.list_objects_v2(Bucket=bucket, Prefix="b", StartAfter="a")
    assert keys_of(r) == ["b1", "b2"]
    # A StartAfter that is not a key.
    r = s3.list_objects_v2(Bucket=bucket, StartAfter="b1x")
    assert keys_of(r) == ["b2", "c1"]
    # A prefix no key has.
    r = s3.list_objects_v2(Bucket=bucket, Prefix="nope")
    assert r["KeyCount"] == 0 and "Contents" not in r and r["Prefix"] == "nope"


def test_v2_response_echoes_the_request(s3, bucket):
    put_keys(s3, bucket, ["a", "b", "c"])
    r = s3.list_objects_v2(Bucket=bucket, Prefix="", Delimiter="/", MaxKeys=2)
    assert r["Name"] == bucket and r["MaxKeys"] == 2 and r["Delimiter"] == "/"
    assert r["KeyCount"] == 2 and r["IsTruncated"] is True
    # A continuation token is reusable: asking again gives the same page.
    t = r["NextContinuationToken"]
    again1 = s3.list_objects_v2(Bucket=bucket, MaxKeys=2, ContinuationToken=t)
    again2 = s3.list_objects_v2(Bucket=bucket, MaxKeys=2, ContinuationToken=t)
    assert keys_of(again1) == keys_of(again2) == ["c"]
    # Default MaxKeys is 1000.
    assert s3.list_objects_v2(Bucket=bucket)["MaxKeys"] == 1000


def test_v2_encoding_type_url_encodes_every_named_element(s3, bucket):
    # EncodingType: "If you specify the encoding-type request parameter, Amazon S3
    # includes this element in the response, and returns encoded key name values in the
    # following response elements: Delimiter, Prefix, Key, and StartAfter."
    # (CommonPrefixes.Prefix is encoded as well - botocore decodes it.)
    # botocore leaves the answer encoded when EncodingType is passed explicitly.
    put_keys(s3, bucket, ["dir one/a+b/c", "dir one/a+d", "dir one/z é"])
    r = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Prefix="dir one/", Delimiter="+",
                           StartAfter="dir one/ ")
    assert r["EncodingType"] == "url"
    dec = urllib.parse.unquote_plus
    assert dec(r["Prefix"]) == "dir one/" and " " not in r["Prefix"]
    assert dec(r["Delimiter"]) == "+" and r["Delimiter"] != "+"
    assert dec(r["StartAfter"]) == "dir one/ " and " " not in r["StartAfter"]
    assert [dec(p) for p in prefixes_of(r)] == ["dir one/a+"]
    assert [dec(k) for k in keys_of(r)] == ["dir one/z é"]
    assert all(" " not in k and "é" not in k for k in keys_of(r))


def test_v1_encoding_type_url_encodes_marker_and_next_marker(s3, bucket):
    # ListObjects EncodingType: "... returns encoded key name values in the following
    # response elements: Delimiter, Marker, Prefix, NextMarker, Key."
    put_keys(s3, bucket, ["a b/1", "c d/2", "e f"])
    r = s3.list_objects(Bucket=bucket, EncodingType="url", Delimiter="/", MaxKeys=1, Marker="a a")
    assert r["EncodingType"] == "url"
    assert urllib.parse.unquote_plus(r["Marker"]) == "a a" and " " not in r["Marker"]
    assert r["IsTruncated"] is True
    assert urllib.parse.unquote_plus(r["NextMarker"]) == "a b/" and " " not in r["NextMarker"]


def test_v2_keys_with_control_characters_round_trip(s3, bucket):
    # Object key naming: any UTF-8 character is allowed in a key; listing with
    # encoding-type=url (which boto3 asks for) carries characters XML 1.0 cannot.
    keys = ["line\nbreak", "tab\tkey", "cr\rkey", "bell\x07", "nul-ish\x01"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    assert keys_of(s3.list_objects_v2(Bucket=bucket)) == sorted(keys, key=lambda k: k.encode())
    assert keys_of(s3.list_objects(Bucket=bucket)) == sorted(keys, key=lambda k: k.encode())
    assert [v["Key"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]] == sorted(keys, key=lambda k: k.encode())
    for k in keys:
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == k.encode()


def test_listing_order_is_utf8_binary(s3, bucket):
    # ListObjectsV2: "General purpose bucket - For general purpose buckets,
    # ListObjectsV2 returns objects in lexicographical order based on their key names."
    # ("List results are always returned in UTF-8 binary order.") U+FF21 sorts before
    # U+1F600 in UTF-8 (EF.. < F0..) but after it in UTF-16 (FF21 > D83D).
    keys = ["\uff21", "\U0001F600", "é", "a", "Z", "~", "\u00ff", "\u0100"]
    put_keys(s3, bucket, keys)
    want = sorted(keys, key=lambda k: k.encode("utf-8"))
    assert keys_of(s3.list_objects_v2(Bucket=bucket)) == want
    assert [v["Key"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]] == want
    for k in keys:
        s3.create_multipart_upload(Bucket=bucket, Key=k)
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == want


# =====================================================================================
# ListObjectVersions
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
# =====================================================================================

def _all_entries(r):
    """Versions and delete markers merged back into listing order (key asc, newest first)."""
    out = [("V", v) for v in r.get("Versions", [])] + [("M", m) for m in r.get("DeleteMarkers", [])]
    return out


def test_versions_paging_one_at_a_time_through_a_null_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"null")  # before versioning: the null version
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    v3 = s3.put_object(Bucket=bucket, Key="k", Body=b"three")["VersionId"]
    m = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    z = s3.put_object(Bucket=bucket, Key="z", Body=b"z")["VersionId"]
    walked, kw = [], {}
    for _ in range(10):
        r = s3.list_object_versions(Bucket=bucket, MaxKeys=1, **kw)
        entries = _all_entries(r)
        assert len(entries) == 1
        kind, e = entries[0]
        walked.append((kind, e["Key"], e["VersionId"], e["IsLatest"]))
        if not r["IsTruncated"]:
            break
        # NextVersionIdMarker: "When the number of responses exceeds the value of
        # MaxKeys, NextVersionIdMarker specifies the first object version not returned
        # that satisfies the search criteria. Use this value for the version-id-marker
        # request parameter in a subsequent request." (AWS hands back the last one
        # returned; either way the walk must cover each version once.)
        kw = {"KeyMarker": r["NextKeyMarker"], "VersionIdMarker": r["NextVersionIdMarker"]}
    assert walked == [("M", "k", m, True), ("V", "k", v3, False), ("V", "k", v2, False),
                      ("V", "k", "null", False), ("V", "z", z, True)]


def test_versions_version_id_marker_in_the_middle(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=str(i).encode())["VersionId"] for i in range(4)]
    other = s3.put_object(Bucket=bucket, Key="l", Body=b"l")["VersionId"]
    # VersionIdMarker: "Specifies the object version you want to start listing from."
    # Together with KeyMarker, the listing continues after that version (versions are
    # newest first, so: the older ones, then later keys).
    r = s3.list_object_versions(Bucket=bucket, KeyMarker="k", VersionIdMarker=ids[2])
    assert [(v["Key"], v["VersionId"]) for v in r["Versions"]] == [("k", ids[1]), ("k", ids[0]), ("l", other)]
    assert r["KeyMarker"] == "k" and r["VersionIdMarker"] == ids[2]


def test_versions_delimiter_walk_has_no_repeats(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for k in ["a/1", "a/1", "a/2", "b", "b", "c/x", "d"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    s3.delete_object(Bucket=bucket, Key="d")
    full = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert prefixes_of(full) == ["a/", "c/"]
    assert [v["Key"] for v in full["Versions"]] == ["b", "b", "d"]
    assert [m["Key"] for m in full["DeleteMarkers"]] == ["d"]
    # Walk it one at a time: every prefix and version exactly once, never looping back
    # into a prefix already returned. UNSURE of the page boundaries AWS picks (whether a
    # common prefix counts as one of MaxKeys here as it does in ListObjects); only the
    # union is asserted.
    seen, kw = [], {}
    for _ in range(20):
        r = s3.list_object_versions(Bucket=bucket, Delimiter="/", MaxKeys=1, **kw)
        seen += [("P", p) for p in prefixes_of(r)]
        seen += [(kind, e["Key"], e["VersionId"]) for kind, e in _all_entries(r)]
        if not r["IsTruncated"]:
            break
        kw = {"KeyMarker": r["NextKeyMarker"]}
        if r.get("NextVersionIdMarker"):
            kw["VersionIdMarker"] = r["NextVersionIdMarker"]
    want = [("P", "a/"), ("P", "c/")] + [(kind, e["Key"], e["VersionId"]) for kind, e in _all_entries(full)]
    assert sorted(seen) == sorted(want)


def test_versions_entry_fields(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    body = b"content"
    s3.put_object(Bucket=bucket, Key="k", Body=body)
    s3.delete_object(Bucket=bucket, Key="k")
    r = s3.list_object_versions(Bucket=bucket)
    # ObjectVersion: ETag, Size, StorageClass, Key, VersionId, IsLatest, LastModified, Owner.
    v = r["Versions"][0]
    assert v["ETag"] == '"%s"' % hashlib.md5(body).hexdigest() and v["Size"] == len(body)
    assert v["StorageClass"] == "STANDARD" and v["IsLatest"] is False and "ID" in v["Owner"]
    # DeleteMarkerEntry: Owner, Key, VersionId, IsLatest, LastModified - no size, no ETag.
    d = r["DeleteMarkers"][0]
    assert d["IsLatest"] is True and "ID" in d["Owner"] and "Size" not in d and "ETag" not in d
    assert d["LastModified"] >= v["LastModified"]
    assert r["Name"] == bucket and r["MaxKeys"] == 1000 and r["IsTruncated"] is False


# =====================================================================================
# ListMultipartUploads
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
# =====================================================================================

def _uploads(r):
    return [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]


def test_uploads_of_one_key_in_initiation_order_and_paging(s3, bucket):
    # "If your application has initiated more than one multipart upload using the same
    # object key, then uploads in the response are first sorted by key. Additionally,
    # uploads are sorted in ascending order within each key by the upload initiation
    # time."
    j = s3.create_multipart_upload(Bucket=bucket, Key="j")["UploadId"]
    ks = []
    for _ in range(4):
        ks.append(s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"])
        time.sleep(0.01)
    l = s3.create_multipart_upload(Bucket=bucket, Key="l")["UploadId"]
    want = [("j", j)] + [("k", u) for u in ks] + [("l", l)]
    r = s3.list_multipart_uploads(Bucket=bucket)
    assert _uploads(r) == want
    times = [u["Initiated"] for u in r["Uploads"] if u["Key"] == "k"]
    assert times == sorted(times)
    # Pages of two with NextKeyMarker / NextUploadIdMarker: the same order, nothing twice.
    seen, kw, pages = [], {}, 0
    while True:
        r = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, **kw)
        pages += 1
        page = _uploads(r)
        assert len(page) <= 2
        seen += page
        if not r["IsTruncated"]:
            break
        assert (r["NextKeyMarker"], r["NextUploadIdMarker"]) == page[-1]
        kw = {"KeyMarker": r["NextKeyMarker"], "UploadIdMarker": r["NextUploadIdMarker"]}
        assert pages < 10
    assert seen == want and pages == 3


def test_uploads_key_marker_with_upload_id_marker(s3, bucket):
    ks = [s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"] for _ in range(3)]
    l = s3.create_multipart_upload(Bucket=bucket, Key="l")["UploadId"]
    # key-marker + upload-id-marker: "any multipart uploads for a key equal to the
    # key-marker might also be included, provided those multipart uploads have upload
    # IDs lexicographically greater than the specified upload-id-marker" - i.e. the
    # uploads of that key after the marker one, then later keys.
    order = _uploads(s3.list_multipart_uploads(Bucket=bucket))
    first_k = order[0][1]
    r = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="k", UploadIdMarker=first_k)
    assert _uploads(r) == order[1:]
    assert r["KeyMarker"] == "k" and r["UploadIdMarker"] == first_k
    # upload-id-marker: "If key-marker is not specified, the upload-id-marker parameter
    # is ignored."
    r = s3.list_multipart_uploads(Bucket=bucket, UploadIdMarker=first_k)
    assert _uploads(r) == order
    assert sorted(ks) == sorted(u for k, u in order if k == "k") and ("l", l) in order


def test_uploads_entry_fields_and_lifecycle(s3, bucket):
    a = s3.create_multipart_upload(Bucket=bucket, Key="a", StorageClass="STANDARD_IA",
                                   ChecksumAlgorithm="SHA256")["UploadId"]
    b = s3.create_multipart_upload(Bucket=bucket, Key="b")["UploadId"]
    c = s3.create_multipart_upload(Bucket=bucket, Key="c")["UploadId"]
    r = s3.list_multipart_uploads(Bucket=bucket)
    assert r["Bucket"] == bucket and r["MaxUploads"] == 1000 and r["IsTruncated"] is False
    ups = {u["Key"]: u for u in r["Uploads"]}
    # MultipartUpload: UploadId, Key, Initiated, StorageClass, Owner, Initiator,
    # ChecksumAlgorithm.
    assert ups["a"]["StorageClass"] == "STANDARD_IA" and ups["b"]["StorageClass"] == "STANDARD"
    assert ups["a"].get("ChecksumAlgorithm") == "SHA256"
    for u in ups.values():
        assert "ID" in u["Owner"] and "ID" in u["Initiator"] and u["Initiated"]
    # "An in-progress multipart upload is a multipart upload that has been initiated by
    # the CreateMultipartUpload request, but has not yet been completed or aborted."
    e = s3.upload_part(Bucket=bucket, Key="b", UploadId=b, PartNumber=1, Body=b"x")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="b", UploadId=b,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    s3.abort_multipart_upload(Bucket=bucket, Key="c", UploadId=c)
    assert _uploads(s3.list_multipart_uploads(Bucket=bucket)) == [("a", a)]


def test_uploads_max_uploads_capped_at_1000(s3, bucket):
    # "The ListMultipartUploads operation returns a maximum of 1,000 multipart uploads in
    # the response. The limit of 1,000 multipart uploads is also the default value."
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda i: s3.create_multipart_upload(Bucket=bucket, Key=f"u{i:05d}"), range(1001)))
    for kw in ({}, {"MaxUploads": 5000}):
        r = s3.list_multipart_uploads(Bucket=bucket, **kw)
        assert len(r["Uploads"]) == 1000 and r["IsTruncated"] is True, kw
        assert r["NextKeyMarker"] == "u00999"
        rest = s3.list_multipart_uploads(Bucket=bucket, KeyMarker=r["NextKeyMarker"],
                                         UploadIdMarker=r["NextUploadIdMarker"], **kw)
        assert [u["Key"] for u in rest["Uploads"]] == ["u01000"] and rest["IsTruncated"] is False


def test_uploads_delimiter_walk_has_no_repeats(s3, bucket):
    for k in ["a/1", "a/2", "b", "c/x/1", "c/y", "d"]:
        s3.create_multipart_upload(Bucket=bucket, Key=k)
    seen, kw = [], {}
    for _ in range(20):
        r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/", MaxUploads=1, **kw)
        seen += [("P", p) for p in prefixes_of(r)] + [("U", k) for k, _ in _uploads(r)]
        if not r["IsTruncated"]:
            break
        kw = {"KeyMarker": r["NextKeyMarker"]}
        if r.get("NextUploadIdMarker"):
            kw["UploadIdMarker"] = r["NextUploadIdMarker"]
    # UNSURE of page boundaries; the walk must visit each prefix / upload exactly once.
    assert sorted(seen) == sorted([("P", "a/"), ("U", "b"), ("P", "c/"), ("U", "d")])


def test_uploads_encoding_type_url(s3, bucket):
    s3.create_multipart_upload(Bucket=bucket, Key="dir x/a b+c é")
    r = s3.list_multipart_uploads(Bucket=bucket, EncodingType="url")
    assert r["EncodingType"] == "url"
    k = r["Uploads"][0]["Key"]
    assert " " not in k and "é" not in k and urllib.parse.unquote_plus(k) == "dir x/a b+c é"
    # boto3 left to itself asks for url encoding and decodes.
    assert s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]["Key"] == "dir x/a b+c é"


# =====================================================================================
# ListParts
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
# =====================================================================================

def test_list_parts_response_fields(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k", StorageClass="STANDARD_IA")["UploadId"]
    body = b"part one"
    etag = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=body)["ETag"]
    r = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)
    assert r["Bucket"] == bucket and r["Key"] == "k" and r["UploadId"] == uid
    assert r["MaxParts"] == 1000 and r["IsTruncated"] is False
    assert r["StorageClass"] == "STANDARD_IA"
    assert "ID" in r["Owner"] and "ID" in r["Initiator"]
    [p] = r["Parts"]
    assert p["PartNumber"] == 1 and p["ETag"] == etag == '"%s"' % hashlib.md5(body).hexdigest()
    assert p["Size"] == len(body) and p["LastModified"]


def test_list_parts_after_abort_and_with_the_wrong_key(s3, bucket):
    # NoSuchUpload (404): "The specified multipart upload does not exist. The upload ID
    # might be invalid, or the multipart upload might have been aborted or completed."
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"x")
    # An upload id belongs to its key (AWS answers 404 NoSuchUpload when the
    # key differs, as reported against S3 in exoscale/pithos#45).
    for call in (lambda: s3.list_parts(Bucket=bucket, Key="other", UploadId=uid),
                 lambda: s3.upload_part(Bucket=bucket, Key="other", UploadId=uid, PartNumber=2, Body=b"y")):
        e = err(call)
        assert (code(e), status(e)) == ("NoSuchUpload", 404)
    r = s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=uid)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    e = err(lambda: s3.list_parts(Bucket=bucket, Key="k", UploadId=uid))
    assert (code(e), status(e)) == ("NoSuchUpload", 404)
    e = err(lambda: s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"%s"' % hashlib.md5(b"x").hexdigest()}]}))
    assert (code(e), status(e)) == ("NoSuchUpload", 404)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_list_parts_max_parts_capped_at_1000(s3, bucket):
    # ListParts: "Returns a maximum of 1,000 uploaded parts. The limit of 1,000 parts is
    # also the default value."
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda n: s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n, Body=b"p"),
                      range(1, 1002)))
    for kw in ({}, {"MaxParts": 5000}):
        r = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid, **kw)
        assert len(r["Parts"]) == 1000 and r["IsTruncated"] is True and r["NextPartNumberMarker"] == 1000, kw
        rest = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid, PartNumberMarker=1000, **kw)
        assert [p["PartNumber"] for p in rest["Parts"]] == [1001] and rest["IsTruncated"] is False


def test_list_parts_crc32_checksums_and_type(plain, bucket):
    mp = plain.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32")
    uid = mp["UploadId"]
    bodies = [b"first", b"second"]
    for n, body in enumerate(bodies, 1):
        r = plain.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n, Body=body, ChecksumAlgorithm="CRC32")
        assert r["ChecksumCRC32"] == b64(crc32_raw(body))
    r = plain.list_parts(Bucket=bucket, Key="k", UploadId=uid)
    assert [p["ChecksumCRC32"] for p in r["Parts"]] == [b64(crc32_raw(b)) for b in bodies]
    assert r["ChecksumAlgorithm"] == "CRC32"
    assert r.get("ChecksumType") == "COMPOSITE"


# =====================================================================================
# UploadPart / CompleteMultipartUpload / AbortMultipartUpload
# =====================================================================================

def test_reuploading_a_part_number_replaces_the_part(s3, bucket):
    # UploadPart: "If you upload a new part using the same part number that was used
    # with a previous part, the previously uploaded part is overwritten."
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    old, new = os.urandom(5 * MiB), os.urandom(5 * MiB + 7)
    e_old = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=old)["ETag"]
    e_new = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=new)["ETag"]
    tail = b"tail"
    e2 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=tail)["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, e_new, len(new)), (2, e2, len(tail))]
    # InvalidPart: "One or more of the specified parts could not be found. The part
    # might not have been uploaded, or the specified entity tag might not have matched
    # the part's entity tag."
    e = err(lambda: s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e_old}, {"PartNumber": 2, "ETag": e2}]}))
    assert (code(e), status(e)) == ("InvalidPart", 400)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e_new}, {"PartNumber": 2, "ETag": e2}]})
    assert done["ETag"] == mp_etag(new, tail)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == new + tail


def test_complete_with_a_subset_of_parts(s3, bucket):
    # CompleteMultipartUpload: "This action concatenates the parts that you provide in
    # the list." Parts not listed are dropped; a small part that is left out does not
    # make the upload EntityTooSmall; part numbers need not be consecutive.
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    p1, p2, p5 = os.urandom(5 * MiB), b"tiny", b"the end"
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=p2)
    e5 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=5, Body=p5)["ETag"]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 5, "ETag": e5}]})
    assert done["ETag"] == mp_etag(p1, p5)
    g = s3.get_object(Bucket=bucket, Key="k")
    assert g["Body"].read() == p1 + p5 and g["ContentLength"] == len(p1) + len(p5)
    attrs = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectParts", "ObjectSize"])
    assert attrs["ObjectParts"]["TotalPartsCount"] == 2 and attrs["ObjectSize"] == len(p1) + len(p5)


def test_entity_too_small_names_the_part(endpoint, s3, bucket):
    # EntityTooSmall: "Your proposed upload is smaller than the minimum allowed object
    # size." Each part but the last must be at least 5 MiB - the last part of a 3-part
    # upload can be tiny, but a middle one cannot.
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    p1, p2, p3 = os.urandom(5 * MiB), os.urandom(5 * MiB - 1), b"end"
    es = [s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n, Body=b)["ETag"]
          for n, b in enumerate([p1, p2, p3], 1)]
    e = err(lambda: s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": t} for n, t in enumerate(es, 1)]}))
    assert (code(e), status(e)) == ("EntityTooSmall", 400)
    # Not fatal to the upload: fixing the list completes it.
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": es[0]}, {"PartNumber": 2, "ETag": es[1]}]})
    assert done["ETag"] == mp_etag(p1, p2)


def test_complete_with_duplicate_part_numbers(s3, bucket):
    # InvalidPartOrder: "The list of parts was not in ascending order. The parts list
    # must be specified in order by part number." UNSURE: the docs do not name the error
    # for the same number twice; a list with a repeated number is not in (strictly)
    # ascending order, and S3-compatible servers answer InvalidPartOrder.
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    p1 = os.urandom(5 * MiB)
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=b"x")["ETag"]
    e = err(lambda: s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]}))
    assert (code(e), status(e)) == ("InvalidPartOrder", 400)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_complete_accepts_unquoted_etags(s3, bucket):
    # UNSURE-ish: AWS's examples send the quoted ETag; AWS also accepts it unquoted
    # (widely relied on by clients that strip the quotes).
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"abc")["ETag"]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1.strip('"')}]})
    assert done["ETag"] == mp_etag(b"abc")


def test_complete_twice_succeeds(s3, bucket):
    # UNSURE (undocumented, observed on AWS): a repeated CompleteMultipartUpload of a
    # just-completed upload with the same parts answers 200 with the same result rather
    # than NoSuchUpload (minio/minio#13318 "fails with Minio, succeeds with S3";
    # adobe/S3Mock#2586; moto PR #9209). The API reference's NoSuchUpload wording ("...
    # or the multipart upload might have been aborted or completed") allows either.
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"abc")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": e1}]}
    first = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload=parts)
    second = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload=parts)
    assert second["ETag"] == first["ETag"]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"abc"


def test_complete_if_none_match_star(s3, bucket):
    # CompleteMultipartUpload, If-None-Match: "Uploads the object only if the object key
    # name does not already exist in the bucket specified. Otherwise, Amazon S3 returns a
    # 412 Precondition Failed error." "Expects the '*' (asterisk) character."
    s3.put_object(Bucket=bucket, Key="taken", Body=b"old")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="taken")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="taken", UploadId=uid, PartNumber=1, Body=b"new")["ETag"]
    e = err(lambda: s3.complete_multipart_upload(Bucket=bucket, Key="taken", UploadId=uid, IfNoneMatch="*",
                                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]}))
    assert (code(e), status(e)) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="taken")["Body"].read() == b"old"
    uid = s3.create_multipart_upload(Bucket=bucket, Key="free")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="free", UploadId=uid, PartNumber=1, Body=b"new")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="free", UploadId=uid, IfNoneMatch="*",
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
    assert s3.get_object(Bucket=bucket, Key="free")["Body"].read() == b"new"


def test_zero_byte_single_part_upload(s3, bucket):
    # The last (here: only) part has no minimum size.
    uid = s3.create_multipart_upload(Bucket=bucket, Key="empty")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="empty", UploadId=uid, PartNumber=1, Body=b"")["ETag"]
    assert e1 == '"%s"' % hashlib.md5(b"").hexdigest()
    done = s3.complete_multipart_upload(Bucket=bucket, Key="empty", UploadId=uid,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
    assert done["ETag"] == mp_etag(b"")
    hd = s3.head_object(Bucket=bucket, Key="empty")
    assert hd["ContentLength"] == 0 and hd["ETag"] == mp_etag(b"")


def test_create_multipart_upload_settings_reach_the_object(s3, bucket):
    # CreateMultipartUpload takes the object's metadata, headers and tags; they are the
    # completed object's.
    uid = s3.create_multipart_upload(
        Bucket=bucket, Key="k", Metadata={"colour": "blue"}, CacheControl="max-age=9",
        ContentDisposition="attachment; filename=x.bin", ContentEncoding="identity",
        ContentLanguage="en", Expires=time.time() + 3600 * 24 * 365, Tagging="t1=v1&t2=v2",
        ContentType="application/x-probe")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"data")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
    hd = s3.head_object(Bucket=bucket, Key="k")
    assert hd["Metadata"] == {"colour": "blue"} and hd["CacheControl"] == "max-age=9"
    assert hd["ContentDisposition"] == "attachment; filename=x.bin" and hd["ContentLanguage"] == "en"
    assert hd["ContentType"] == "application/x-probe" and hd["ContentEncoding"] == "identity"
    assert "Expires" in hd or "ExpiresString" in hd
    tags = s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("t1", "v1"), ("t2", "v2")]
    assert hd.get("TagCount") in (None, 2)


def test_upload_part_content_md5(endpoint, s3, bucket):
    # BadDigest: "The Content-MD5 or checksum value that you specified did not match
    # what the server received." InvalidDigest: "The Content-MD5 or checksum value that
    # you specified is not valid."
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    wrong = b64(hashlib.md5(b"other").digest())
    r = signed(endpoint, "PUT", f"/{bucket}/k?partNumber=1&uploadId={uid}", headers={"Content-MD5": wrong}, data=b"data")
    assert r.status_code == 400 and "<Code>BadDigest</Code>" in r.text, r.text
    r = signed(endpoint, "PUT", f"/{bucket}/k?partNumber=1&uploadId={uid}", headers={"Content-MD5": "not-base64!"}, data=b"data")
    assert r.status_code == 400 and "<Code>InvalidDigest</Code>" in r.text, r.text
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)
    good = b64(hashlib.md5(b"data").digest())
    r = signed(endpoint, "PUT", f"/{bucket}/k?partNumber=1&uploadId={uid}", headers={"Content-MD5": good}, data=b"data")
    assert r.status_code == 200 and r.headers["ETag"] == '"%s"' % hashlib.md5(b"data").hexdigest()


def test_multipart_on_a_missing_bucket(s3):
    missing = f"missing-{uuid.uuid4().hex[:10]}"
    e = err(lambda: s3.create_multipart_upload(Bucket=missing, Key="k"))
    assert (code(e), status(e)) == ("NoSuchBucket", 404)
    e = err(lambda: s3.list_multipart_uploads(Bucket=missing))
    assert (code(e), status(e)) == ("NoSuchBucket", 404)


def test_complete_response_names_the_object(s3, bucket):
    # CompleteMultipartUploadResult: Location ("The URI that identifies the newly created
    # object"), Bucket, Key, ETag.
    key = "dir/a b+é.bin"
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    assert s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]["Key"] == key
    e1 = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=b"x")["ETag"]
    assert s3.list_parts(Bucket=bucket, Key=key, UploadId=uid)["Key"] == key
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
    assert done["Bucket"] == bucket and done["Key"] == key
    # S3 form-encodes the key there: "/" as %2F and a space as "+" (aws-sdk-js#1158,
    # #1707: "https://s3.amazonaws.com/bucket/with+space/largeimage.jpg").
    loc = done["Location"]
    assert loc.startswith("http://") and f"/{bucket}/" in loc, loc
    assert loc.endswith("/dir%2Fa+b%2B%C3%A9.bin"), loc
    assert urllib.parse.unquote_plus(loc).endswith(key), loc


def test_part_number_out_of_range_on_reads(s3, bucket):
    # GetObject / HeadObject partNumber: "Part number of the object being read. This is a
    # positive integer between 1 and 10,000." Outside that range: 400 InvalidArgument
    # ("Part number must be an integer between 1 and 10000, inclusive"), as UploadPart.
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    for n in (0, 10001):
        e = err(lambda: s3.get_object(Bucket=bucket, Key="k", PartNumber=n))
        assert (code(e), status(e)) == ("InvalidArgument", 400), n
        e = err(lambda: s3.head_object(Bucket=bucket, Key="k", PartNumber=n))
        assert status(e) == 400, n


def test_delete_bucket_with_an_upload_in_progress(s3):
    # UNSURE (inferred): ListMultipartUploads says of directory buckets only that "If
    # multipart uploads in a directory bucket are in progress, you can't delete the
    # bucket until all the in-progress multipart uploads are aborted or completed." A
    # general purpose bucket holding no objects deletes, its uploads with it.
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    uid = s3.create_multipart_upload(Bucket=name, Key="k")["UploadId"]
    s3.upload_part(Bucket=name, Key="k", UploadId=uid, PartNumber=1, Body=b"x")
    s3.delete_bucket(Bucket=name)
    e = err(lambda: s3.head_bucket(Bucket=name))
    assert status(e) == 404
    s3.create_bucket(Bucket=name)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=name)


def test_abort_of_an_unknown_upload(s3, bucket):
    e = err(lambda: s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId="nonexistent"))
    assert (code(e), status(e)) == ("NoSuchUpload", 404)


def test_abort_removes_the_parts_of_a_completed_keys_new_upload(s3, bucket):
    # Aborting one upload for a key leaves the key's other uploads and its object alone.
    s3.put_object(Bucket=bucket, Key="k", Body=b"object")
    u1 = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    u2 = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="k", UploadId=u1, PartNumber=1, Body=b"one")
    s3.upload_part(Bucket=bucket, Key="k", UploadId=u2, PartNumber=1, Body=b"two")
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=u1)
    assert _uploads(s3.list_multipart_uploads(Bucket=bucket)) == [("k", u2)]
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=u2)["Parts"][0]["Size"] == 3
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"object"


# ------------------------------------------------------------------ checksums

def test_crc32_multipart_defaults_to_composite(plain, bucket):
    # Checking object integrity: CRC32 supports both the full-object and the composite
    # type; a multipart upload that names CRC32 without x-amz-checksum-type is COMPOSITE
    # (the checksum of the part checksums, "-N"). UNSURE only as to the default (the
    # table lists both types as supported for CRC32).
    mp = plain.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32")
    assert mp["ChecksumAlgorithm"] == "CRC32" and mp.get("ChecksumType") == "COMPOSITE"
    uid = mp["UploadId"]
    p1, p2 = os.urandom(5 * MiB), b"tail"
    rs = [plain.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n, Body=b, ChecksumAlgorithm="CRC32")
          for n, b in [(1, p1), (2, p2)]]
    done = plain.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]} for n, r in enumerate(rs, 1)]})
    want = b64(crc32_raw(crc32_raw(p1) + crc32_raw(p2))) + "-2"
    assert done["ChecksumCRC32"] == want and done["ChecksumType"] == "COMPOSITE"
    hd = plain.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert hd["ChecksumCRC32"] == want and hd["ChecksumType"] == "COMPOSITE"


def test_complete_with_the_other_checksum_type_is_bad_digest(plain, bucket):
    # CompleteMultipartUpload, x-amz-checksum-type: "If the checksum type doesn't match
    # the checksum type that was specified for the object during the
    # CreateMultipartUpload request, it'll result in a BadDigest error."
    uid = plain.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32",
                                        ChecksumType="COMPOSITE")["UploadId"]
    r = plain.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"abc", ChecksumAlgorithm="CRC32")
    e = err(lambda: plain.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, ChecksumType="FULL_OBJECT",
                                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"],
                                                                                "ChecksumCRC32": r["ChecksumCRC32"]}]}))
    assert (code(e), status(e)) == ("BadDigest", 400)


def test_full_object_crc32_is_computed_when_not_given(plain, bucket):
    # FULL_OBJECT: "Calculated based on all of the content of a multipart upload" - S3
    # combines the part CRCs itself when Complete carries no whole-object value.
    mp = plain.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    uid = mp["UploadId"]
    p1, p2 = os.urandom(5 * MiB), os.urandom(333)
    rs = [plain.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=n, Body=b, ChecksumAlgorithm="CRC32")
          for n, b in [(1, p1), (2, p2)]]
    done = plain.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": n, "ETag": r["ETag"]} for n, r in enumerate(rs, 1)]})
    assert done["ChecksumCRC32"] == b64(crc32_raw(p1 + p2)) and done["ChecksumType"] == "FULL_OBJECT"
    hd = plain.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert hd["ChecksumCRC32"] == b64(crc32_raw(p1 + p2))


def test_crc64nvme_cannot_be_composite(plain, bucket):
    # Checking object integrity, supported checksum types: CRC64NVME - full object: yes,
    # composite: no.
    e = err(lambda: plain.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC64NVME",
                                                  ChecksumType="COMPOSITE"))
    assert (code(e), status(e)) == ("InvalidRequest", 400)


def test_part_checksum_of_a_different_algorithm_than_the_upload(plain, bucket):
    # UploadPart: the checksum algorithm of a part must be the one the upload was
    # created with. UNSURE of the exact code: AWS answers InvalidRequest ("Checksum Type
    # mismatch occurred, expected checksum Type: sha256, actual checksum Type: crc32").
    uid = plain.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="SHA256")["UploadId"]
    e = err(lambda: plain.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"abc",
                                      ChecksumAlgorithm="CRC32"))
    assert (code(e), status(e)) == ("InvalidRequest", 400)


# ------------------------------------------------------------------ UploadPartCopy

def test_upload_part_copy_of_a_version_and_bad_part_numbers(s3, bucket):
    # UploadPartCopy: x-amz-copy-source may name a version (?versionId=); the response
    # carries x-amz-copy-source-version-id. Part numbers are 1..10000 as for UploadPart.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="src", Body=b"version one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"version two")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    r = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
    assert r["CopySourceVersionId"] == v1
    assert r["CopyPartResult"]["ETag"] == '"%s"' % hashlib.md5(b"version one").hexdigest()
    for n in (0, 10001):
        e = err(lambda: s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=n,
                                            CopySource={"Bucket": bucket, "Key": "src"}))
        assert (code(e), status(e)) == ("InvalidArgument", 400)
    e = err(lambda: s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2,
                                        CopySource={"Bucket": f"missing-{uuid.uuid4().hex[:8]}", "Key": "src"}))
    assert (code(e), status(e)) == ("NoSuchBucket", 404)
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"version one"


def test_upload_part_copy_replaces_an_uploaded_part(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copied")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1, Body=b"uploaded")
    r = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1, CopySource=f"{bucket}/src")
    parts = s3.list_parts(Bucket=bucket, Key="dst", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, r["CopyPartResult"]["ETag"], 6)]


# =====================================================================================
# aws CLI pagination of the other listings
# https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-pagination.html
# =====================================================================================

def _cli_walk(aws_cli, args, item_keys):
    seen, token = [], None
    for _ in range(20):
        extra = ["--starting-token", token] if token else []
        _, out, _ = aws_cli(*args, *extra)
        out = out or {}
        for k in item_keys:
            seen += out.get(k) or []
        token = out.get("NextToken")
        if not token:
            return seen
    raise AssertionError("the CLI never stopped paging")


def test_cli_paginates_versions_uploads_and_parts(aws_cli, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for k in ["a", "a", "b", "c", "c", "c"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    s3.delete_object(Bucket=bucket, Key="b")
    # (--max-items is left out here: botocore's paginator, with two result keys, drops
    # DeleteMarkers when it cuts a page at max-items - a client quirk, not the server's.)
    seen = _cli_walk(aws_cli, ["s3api", "list-object-versions", "--bucket", bucket,
                               "--page-size", "1"], ["Versions", "DeleteMarkers"])
    assert sorted((v["Key"], v["VersionId"]) for v in seen) == sorted(
        [(v["Key"], v["VersionId"]) for v in s3.list_object_versions(Bucket=bucket)["Versions"]]
        + [(m["Key"], m["VersionId"]) for m in s3.list_object_versions(Bucket=bucket)["DeleteMarkers"]])
    assert len(seen) == 7
    for k in ["u1", "u2", "u2", "u3"]:
        s3.create_multipart_upload(Bucket=bucket, Key=k)
    seen = _cli_walk(aws_cli, ["s3api", "list-multipart-uploads", "--bucket", bucket, "--max-items", "3",
                               "--page-size", "2"], ["Uploads"])
    assert [u["Key"] for u in seen] == ["u1", "u2", "u2", "u3"]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="p")["UploadId"]
    for n in range(1, 6):
        s3.upload_part(Bucket=bucket, Key="p", UploadId=uid, PartNumber=n, Body=b"x")
    seen = _cli_walk(aws_cli, ["s3api", "list-parts", "--bucket", bucket, "--key", "p", "--upload-id", uid,
                               "--max-items", "2", "--page-size", "1"], ["Parts"])
    assert [p["PartNumber"] for p in seen] == [1, 2, 3, 4, 5]


def test_complete_with_mpu_object_size(s3, bucket):
    # CompleteMultipartUpload, x-amz-mp-object-size: "The expected total object size of
    # the multipart upload request. If there's a mismatch between the specified object
    # size value and the actual object size value, it results in an HTTP 400
    # InvalidRequest error."
    uid = s3.create_multipart_upload(Bucket=bucket, Key="sized")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="sized", UploadId=uid, PartNumber=1, Body=b"abcde")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": e1}]}
    e = err(lambda: s3.complete_multipart_upload(Bucket=bucket, Key="sized", UploadId=uid, MultipartUpload=parts, MpuObjectSize=4))
    assert (code(e), status(e)) == ("InvalidRequest", 400)
    s3.complete_multipart_upload(Bucket=bucket, Key="sized", UploadId=uid, MultipartUpload=parts, MpuObjectSize=5)
    assert s3.get_object(Bucket=bucket, Key="sized")["Body"].read() == b"abcde"
