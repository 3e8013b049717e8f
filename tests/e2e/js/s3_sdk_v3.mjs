// S3 through the AWS SDK for JavaScript v3, as a Node.js app or Lambda handler uses it.
// Usage: node s3_sdk_v3.mjs <endpoint> <bucket>. Prints one JSON line per step:
// {"step": ..., "ok": true, "value": ...} or {"step": ..., "ok": false, "error": ...};
// test_s3_js_sdk.py asserts on them.
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, CopyObjectCommand, DeleteObjectsCommand, PutObjectTaggingCommand,
  GetObjectTaggingCommand, PutBucketVersioningCommand, ListObjectVersionsCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { Readable } from "node:stream";

const [endpoint, bucket] = process.argv.slice(2);
const s3 = new S3Client({
  endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const KEY = "dir/a b+ü~%.txt";

async function step(name, fn) {
  try {
    const value = await fn();
    console.log(JSON.stringify({ step: name, ok: true, value: value ?? null }));
  } catch (e) {
    console.log(JSON.stringify({ step: name, ok: false, error: `${e.name}: ${e.message}`, status: e.$metadata?.httpStatusCode ?? null }));
  }
}

await step("create-bucket", async () => (await s3.send(new CreateBucketCommand({ Bucket: bucket }))).Location);
// The SDK sends its default CRC32 checksum as an aws-chunked trailer for streams and
// in a header for buffers.
await step("put-string", async () => (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "a.txt", Body: "hello", ContentType: "text/plain", Metadata: { colour: "blue" } }))).ETag);
await step("put-crc32", async () => (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "b.bin", Body: Buffer.alloc(100000, 7), ChecksumAlgorithm: "CRC32" }))).ChecksumCRC32);
await step("put-stream", async () => (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "c.bin", Body: Readable.from([Buffer.alloc(70000, 1), Buffer.alloc(70000, 2)]), ContentLength: 140000 }))).ETag);
await step("put-special-key", async () => (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: "special" }))).ETag);
await step("get", async () => {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "a.txt" }));
  return { body: await r.Body.transformToString(), type: r.ContentType, meta: r.Metadata };
});
await step("get-range", async () => {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "a.txt", Range: "bytes=1-3" }));
  return { body: await r.Body.transformToString(), range: r.ContentRange };
});
await step("get-checksum", async () => {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "b.bin", ChecksumMode: "ENABLED" }));
  return { length: (await r.Body.transformToByteArray()).length, crc32: r.ChecksumCRC32 };
});
await step("get-special-key", async () => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: KEY }))).Body.transformToString());
await step("head", async () => (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "c.bin" }))).ContentLength);
await step("list", async () => (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents.map((o) => o.Key));
await step("list-delimiter", async () => (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: "/" }))).CommonPrefixes.map((p) => p.Prefix));
// CopySource must be URL-encoded (CopyObject API reference).
await step("copy", async () => (await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "copy.txt", CopySource: encodeURIComponent(`${bucket}/${KEY}`) }))).CopyObjectResult.ETag);
await step("tagging", async () => {
  await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: "a.txt", Tagging: { TagSet: [{ Key: "t", Value: "v" }] } }));
  return (await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "a.txt" }))).TagSet;
});
await step("multipart-upload", async () => {
  const up = new Upload({ client: s3, params: { Bucket: bucket, Key: "big.bin", Body: Buffer.alloc(12 * 1024 * 1024, 3) }, partSize: 5 * 1024 * 1024 });
  return (await up.done()).ETag;
});
await step("multipart-stream", async () => {
  const parts = (function* () { for (let i = 0; i < 12; i++) yield Buffer.alloc(1024 * 1024, i); })();
  const up = new Upload({ client: s3, params: { Bucket: bucket, Key: "big2.bin", Body: Readable.from(parts) } });
  await up.done();
  return (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "big2.bin" }))).ContentLength;
});
await step("presigned-get", async () => {
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: KEY }), { expiresIn: 60 });
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
});
await step("presigned-put", async () => {
  const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: "pre.txt", ContentType: "text/plain" }), { expiresIn: 60 });
  const r = await fetch(url, { method: "PUT", body: "presigned", headers: { "content-type": "text/plain" } });
  return { status: r.status };
});
await step("presigned-post", async () => {
  const { url, fields } = await createPresignedPost(s3, { Bucket: bucket, Key: "post/${filename}", Conditions: [["content-length-range", 0, 1000]], Expires: 60 });
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob(["posted"]), "p.txt");
  const r = await fetch(url, { method: "POST", body: form });
  return { status: r.status };
});
await step("versions", async () => {
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "a.txt", Body: "v2" }));
  return (await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: "a.txt" }))).Versions.length;
});
await step("delete-objects", async () => {
  const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: "c.bin" }, { Key: "copy.txt" }] } }));
  return { deleted: r.Deleted.map((d) => d.Key).sort(), errors: r.Errors?.length ?? 0 };
});
await step("get-missing", async () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: "nope" })));
await step("head-missing", async () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "nope" })));
