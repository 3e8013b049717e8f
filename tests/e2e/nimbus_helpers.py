"""Shared helpers for the nimbus end-to-end suite.

Everything here is written from AWS's documentation of SQS, not from nimbus's
code: the MD5 digests, the awsQuery wire format and the error spellings.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import boto3
import requests
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = ROOT / "target" / "release" / "nimbus"
QUERY_NS = "http://queue.amazonaws.com/doc/2012-11-05/"
DEFAULT_ACCOUNT = "000000000000"
REGION = "us-east-1"

# SQS spells most errors twice.  With the awsJson protocol and the
# x-amzn-query-error header, botocore puts the legacy (awsQuery) code in
# Error.Code and the modelled shape name in Error.QueryErrorCode (which is what
# client.exceptions.<Name> is matched on).  Source for the legacy codes:
# aws-sdk-go service/sqs/errors.go and the pre-2023 botocore query model.
LEGACY_CODE = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueNameExists": "QueueAlreadyExists",
    "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
    "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
    "ReceiptHandleIsInvalid": "ReceiptHandleIsInvalid",
    "InvalidAttributeName": "InvalidAttributeName",
    "InvalidAttributeValue": "InvalidAttributeValue",
    "InvalidMessageContents": "InvalidMessageContents",
    "OverLimit": "OverLimit",
    "ResourceNotFoundException": "ResourceNotFoundException",
}


# --------------------------------------------------------------------------
# MD5 digests, as the SQS Developer Guide describes them
# ("Calculating the MD5 message digest for message attributes"):
#   for each attribute, sorted by name ascending:
#     4-byte big-endian length + UTF-8 name
#     4-byte length + UTF-8 data type
#     1 byte transport type: 1 = string value, 2 = binary value
#     4-byte length + value bytes (UTF-8 for strings)
#   then MD5 over the concatenation, hex encoded.
# --------------------------------------------------------------------------

def _put(buf: bytearray, data: bytes) -> None:
    buf += struct.pack(">I", len(data))
    buf += data


def md5_of_attributes(attrs: dict) -> str:
    buf = bytearray()
    for name in sorted(attrs, key=lambda n: n.encode("utf-8")):
        value = attrs[name]
        _put(buf, name.encode("utf-8"))
        _put(buf, value["DataType"].encode("utf-8"))
        if value.get("StringValue") is not None:
            buf.append(1)
            _put(buf, value["StringValue"].encode("utf-8"))
        elif value.get("BinaryValue") is not None:
            buf.append(2)
            _put(buf, bytes(value["BinaryValue"]))
        else:  # pragma: no cover - list values are "not implemented" by AWS
            raise ValueError(f"attribute {name} has no value")
    return hashlib.md5(bytes(buf)).hexdigest()


def md5_hex(data) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.md5(data).hexdigest()


# --------------------------------------------------------------------------
# names, errors, waiting
# --------------------------------------------------------------------------

def new_name(prefix: str = "q", fifo: bool = False) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:16]}"
    return name + ".fifo" if fifo else name


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code")


def query_error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("QueryErrorCode")


def http_status(exc: ClientError) -> int:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def expect_client_error(call, code=None, shape=None, status=None):
    """Run `call`; it must raise ClientError.  `code` (a string or a set of
    acceptable strings) is compared with Error.Code, `shape` with
    QueryErrorCode (the modelled exception name), `status` with the HTTP
    status.  Returns the exception for further checks."""
    try:
        result = call()
    except ClientError as exc:
        got = error_code(exc)
        if code is not None:
            allowed = {code} if isinstance(code, str) else set(code)
            assert got in allowed, f"expected error code in {allowed}, got {got!r}: {exc.response.get('Error')}"
        if shape is not None:
            assert query_error_code(exc) == shape, (
                f"expected QueryErrorCode {shape!r}, got {query_error_code(exc)!r}: {exc.response.get('Error')}"
            )
        if status is not None:
            allowed_status = {status} if isinstance(status, int) else set(status)
            assert http_status(exc) in allowed_status, f"expected HTTP {status}, got {http_status(exc)}"
        else:
            assert 400 <= http_status(exc) < 500, f"expected a 4xx, got {http_status(exc)}"
        return exc
    raise AssertionError(f"expected a ClientError ({code or shape}), but the call succeeded: {result!r}")


# AWS documents no status for most errors; 400 is the rule.  Exceptions seen
# from real SQS: ReceiptHandleIsInvalid comes back as 404 in AWS SDK traces
# ("Service: AmazonSQS; Status Code: 404; Error Code: ReceiptHandleIsInvalid"),
# so both are accepted there; PurgeQueueInProgress is 403.
DEFAULT_STATUS = {"ReceiptHandleIsInvalid": (400, 404), "PurgeQueueInProgress": 403}


def expect_sqs_error(call, shape, status=None):
    """An SQS modelled error: legacy code in Code, shape name in QueryErrorCode."""
    if status is None:
        status = DEFAULT_STATUS.get(shape, 400)
    return expect_client_error(call, code=LEGACY_CODE.get(shape, shape), shape=shape, status=status)


def wait_until(predicate, timeout=10.0, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last value {last!r})")


def receive_all(sqs, url, expected=None, timeout=15.0, visibility=60, **kwargs):
    """Drain messages (without deleting) until `expected` distinct ones were
    seen, or until two consecutive empty long polls."""
    seen = {}
    empties = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=visibility, WaitTimeSeconds=1, **kwargs
        )
        msgs = resp.get("Messages", [])
        for m in msgs:
            seen.setdefault(m["MessageId"], m)
        if expected is not None and len(seen) >= expected:
            break
        if not msgs:
            empties += 1
            if expected is None and empties >= 2:
                break
        else:
            empties = 0
    return list(seen.values())


def aws_executable():
    candidate = Path(sys.executable).parent / "aws"
    if candidate.exists():
        return str(candidate)
    return shutil.which("aws")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# clients
# --------------------------------------------------------------------------

def client_config(**overrides):
    params = dict(
        retries={"total_max_attempts": 1, "mode": "standard"},
        read_timeout=30,
        connect_timeout=5,
    )
    params.update(overrides)
    return Config(**params)


def make_client(endpoint, region=REGION, key="test", secret="test", service="sqs", **config):
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=client_config(**config),
    )


def _sign(method, url, body, headers, region, key, secret, service="sqs", skew=0):
    """SigV4-sign a request; `skew` seconds moves the signing clock."""
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    if skew:
        import datetime
        from unittest import mock

        when = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(seconds=skew)
        with mock.patch("botocore.auth.get_current_datetime", lambda *a, **k: when):
            SigV4Auth(Credentials(key, secret), service, region).add_auth(req)
    else:
        SigV4Auth(Credentials(key, secret), service, region).add_auth(req)
    return req.prepare()


def _send(prepared, connect_url=None, timeout=30):
    """Send a prepared (signed) request.  With `connect_url` the TCP connection
    goes there while the Host header keeps the signed host."""
    url = prepared.url
    headers = dict(prepared.headers)
    if connect_url is not None:
        parts = urllib.parse.urlsplit(url)
        target = urllib.parse.urlsplit(connect_url)
        url = urllib.parse.urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))
        headers["Host"] = parts.netloc
    return requests.request(prepared.method, url, data=prepared.body, headers=headers, timeout=timeout)


class QueryResult:
    def __init__(self, response):
        self.response = response
        self.status = response.status_code
        self.text = response.text
        try:
            self.root = ET.fromstring(response.content) if response.content else None
        except ET.ParseError:
            self.root = None

    # namespace-agnostic helpers -----------------------------------------
    @staticmethod
    def local(tag):
        return tag.rsplit("}", 1)[-1]

    def findall(self, path, elem=None):
        """`path` like 'ReceiveMessageResult/Message' (local names)."""
        nodes = [self.root if elem is None else elem]
        for part in path.split("/"):
            nodes = [c for n in nodes for c in list(n) if self.local(c.tag) == part]
        return nodes

    def find(self, path, elem=None):
        found = self.findall(path, elem)
        return found[0] if found else None

    def findtext(self, path, elem=None):
        node = self.find(path, elem)
        return None if node is None else (node.text or "")

    def error_code(self):
        return self.findtext("Error/Code")

    def __repr__(self):
        return f"<QueryResult {self.status} {self.text[:500]!r}>"


def query_request(endpoint, action, params=None, region=REGION, key="test", secret="test",
                  url=None, host=None, method="POST", version="2012-11-05", sign=True, tamper=None, skew=0):
    """A signed awsQuery request.  `params` is a dict or a list of pairs.
    `url` overrides the request URL (e.g. a queue URL); `host` sends a
    different Host header (signed) while connecting to `endpoint`."""
    pairs = [("Action", action)]
    if version:
        pairs.append(("Version", version))
    if params:
        pairs += list(params.items()) if isinstance(params, dict) else list(params)
    body = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)
    target = url or (endpoint.rstrip("/") + "/")
    if host is not None:
        parts = urllib.parse.urlsplit(target)
        target = urllib.parse.urlunsplit((parts.scheme, host, parts.path or "/", parts.query, ""))
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    if method == "GET":
        sep = "&" if "?" in target else "?"
        target = target + sep + body
        body = None
        headers = {}
    if sign:
        prepared = _sign(method, target, body, headers, region, key, secret, skew=skew)
    else:
        prepared = AWSRequest(method=method, url=target, data=body, headers=headers).prepare()
    if tamper is not None:
        prepared = tamper(prepared)
    return QueryResult(_send(prepared, connect_url=endpoint))


class JsonResult:
    def __init__(self, response):
        self.response = response
        self.status = response.status_code
        self.headers = response.headers
        self.text = response.text
        try:
            self.body = response.json() if response.content else {}
        except ValueError:
            self.body = None

    @property
    def error_type(self):
        t = (self.body or {}).get("__type", "")
        return t.rsplit("#", 1)[-1]

    @property
    def query_error(self):
        return self.headers.get("x-amzn-query-error")

    def __repr__(self):
        return f"<JsonResult {self.status} {self.text[:500]!r}>"


def json_request(endpoint, operation, body=None, region=REGION, key="test", secret="test",
                 host=None, raw_body=None, target=None, sign=True, content_type="application/x-amz-json-1.0",
                 skew=0):
    """A signed awsJson 1.0 request, as boto3 would send it, but raw."""
    url = endpoint.rstrip("/") + "/"
    if host is not None:
        parts = urllib.parse.urlsplit(url)
        url = urllib.parse.urlunsplit((parts.scheme, host, "/", "", ""))
    data = raw_body if raw_body is not None else json.dumps(body or {})
    headers = {
        "Content-Type": content_type,
        "X-Amz-Target": target if target is not None else f"AmazonSQS.{operation}",
    }
    if sign:
        prepared = _sign("POST", url, data, headers, region, key, secret, skew=skew)
    else:
        prepared = AWSRequest(method="POST", url=url, data=data, headers=headers).prepare()
    return JsonResult(_send(prepared, connect_url=endpoint))


def presigned_url(endpoint, action, params=None, region=REGION, key="test", secret="test", expires=300):
    pairs = [("Action", action), ("Version", "2012-11-05")] + list((params or {}).items())
    url = endpoint.rstrip("/") + "/?" + urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)
    req = AWSRequest(method="GET", url=url, headers={})
    SigV4QueryAuth(Credentials(key, secret), "sqs", region, expires=expires).add_auth(req)
    return req.prepare().url


# --------------------------------------------------------------------------
# the server under test
# --------------------------------------------------------------------------

def nimbus_bin() -> str:
    path = os.environ.get("NIMBUS_BIN") or str(DEFAULT_BIN)
    return path


class NimbusServer:
    """One `nimbus serve` process with its own port and data dir."""

    READY = "nimbus ready on "

    def __init__(self, data_dir=None, args=(), port=None, host="127.0.0.1", env=None, workdir=None):
        self.binary = nimbus_bin()
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise RuntimeError(
                f"nimbus binary not found at {self.binary}: build it with `cargo build --release` "
                f"or point NIMBUS_BIN at it"
            )
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="nimbus-e2e-"))
        self.data_dir = Path(data_dir) if data_dir else self.workdir / "data"
        self.args = list(args)
        self.host = host
        self.port = port or free_port()
        self.env = env
        self.proc = None
        self.stdout_lines = []
        self.ready_line = None
        self._ready = threading.Event()
        self._log = None

    @property
    def endpoint(self):
        return f"http://{self.host}:{self.port}"

    def command(self):
        cmd = [self.binary, "serve", "--host", self.host, "--port", str(self.port),
               "--data-dir", str(self.data_dir)]
        return cmd + self.args

    def start(self, timeout=10.0):
        self.stdout_lines = []
        self.ready_line = None
        self._ready.clear()
        log_path = self.workdir / f"stderr-{self.port}-{int(time.time() * 1000)}.log"
        self._log = open(log_path, "wb")
        self.log_path = log_path
        env = dict(os.environ)
        env.pop("NIMBUS_PORT", None)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=self._log, env=env, cwd=str(self.workdir)
        )
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.05):
                return self
            if self.proc.poll() is not None:
                time.sleep(0.1)
                raise RuntimeError(
                    f"nimbus exited with {self.proc.returncode} before it was ready.\n"
                    f"command: {' '.join(self.command())}\nstdout: {''.join(self.stdout_lines)}\n"
                    f"stderr: {self.stderr()[-4000:]}"
                )
        self.kill()
        raise RuntimeError(
            f"nimbus printed no readiness line ('{self.READY}...') within {timeout}s.\n"
            f"stdout: {''.join(self.stdout_lines)}\nstderr: {self.stderr()[-4000:]}"
        )

    def _pump(self, proc):
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            self.stdout_lines.append(line)
            if self.READY in line and not self._ready.is_set():
                self.ready_line = line.rstrip("\n")
                self._ready.set()
        proc.stdout.close()

    def stderr(self):
        try:
            self._log.flush()
            return self.log_path.read_text("utf-8", "replace")
        except Exception:
            return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if not self.running():
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"nimbus did not exit within {timeout}s of signal {sig}")

    def kill(self):
        """kill -9: no chance to flush anything."""
        if self.running():
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, new_port=True, timeout=10.0):
        if self.running():
            self.stop()
        if new_port:
            self.port = free_port()
        return self.start(timeout)

    def client(self, **kwargs):
        return make_client(self.endpoint, **kwargs)

    def cleanup(self):
        self.kill()
        if self._log:
            self._log.close()


def allow_s3_notifications(sqs, queue_url, bucket=None):
    """Gives a queue the policy S3 requires before it notifies the queue (S3 user
    guide, "Granting permissions to publish event notification messages to a
    destination"); with `bucket`, for that bucket only. Returns the queue's ARN."""
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    statement = {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "SQS:SendMessage", "Resource": arn}
    if bucket:
        statement["Condition"] = {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:*:*:{bucket}"}}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": policy})
    return arn
