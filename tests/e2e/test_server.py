"""The server itself: readiness, `nimbus env`, signals, SigV4, accounts and
regions, strict auth, host-style URLs, and bad input never being a 5xx."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
import urllib.parse

import pytest
import requests
from botocore.exceptions import ClientError

import nimbus_helpers as h


# --------------------------------------------------------------------------
# readiness, env, signals
# --------------------------------------------------------------------------

@pytest.mark.own_server
def test_readiness_line_names_the_endpoint_once(nimbus_factory):
    srv = nimbus_factory()
    assert f"nimbus ready on http://127.0.0.1:{srv.port}" in srv.ready_line
    # it accepts requests as soon as it said so
    assert srv.client().list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
    time.sleep(0.3)
    ready_lines = [line for line in srv.stdout_lines if "nimbus ready on" in line]
    assert len(ready_lines) == 1, srv.stdout_lines


@pytest.mark.own_server
def test_server_errors_are_logged_in_plain_text(nimbus_factory):
    # A 5xx is the server's side of a failure: the log says which request got it, and a
    # log written to a file (not a terminal) carries no colour escape codes.
    srv = nimbus_factory()
    r = requests.request("PATCH", f"{srv.endpoint}/some-bucket/k", timeout=10)
    assert r.status_code == 501, r.text  # S3's NotImplemented
    h.wait_until(lambda: "answered with a server error" in srv.stderr(), timeout=5, message="the log line")
    line = next(l for l in srv.stderr().splitlines() if "answered with a server error" in l)
    assert "method=PATCH" in line and 'path="/some-bucket/k"' in line and "status=501" in line, line
    assert "\x1b[" not in srv.stderr()
    # A client's mistake (here a wrong secret, 403) is not nimbus's error: no error line.
    s3 = h.make_client(srv.endpoint, service="s3", secret="wrong")
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="some-bucket")
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    time.sleep(0.2)
    assert " ERROR " not in srv.stderr(), srv.stderr()[-2000:]


@pytest.mark.own_server
def test_session_server_is_ready(local_server):
    assert f"nimbus ready on http://127.0.0.1:{local_server.port}" in local_server.ready_line


@pytest.mark.own_server
def test_second_server_on_the_same_data_dir_is_refused(nimbus_factory):
    first = nimbus_factory()
    second = subprocess.run(
        [h.nimbus_bin(), "serve", "--port", str(h.free_port()), "--data-dir", str(first.data_dir)],
        capture_output=True, text=True, timeout=20,
    )
    assert second.returncode != 0
    assert "another nimbus is using the data directory" in second.stderr
    # The first one is unaffected, and once it is gone (even by kill -9) the
    # directory can be used again.
    assert first.client().list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
    first.kill()
    first.restart()
    assert first.client().list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200


def _eval_env(args=(), extra_env=None):
    """Run `nimbus env` through a real shell's eval, as a user would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "NIMBUS_PORT"}
    env.update(extra_env or {})
    binary = h.nimbus_bin()
    quoted = " ".join(subprocess.list2cmdline([a]) for a in [binary, "env", *args])
    script = (
        f'eval "$({quoted})" || exit 3; '
        'printf "%s\\n%s\\n%s\\n%s\\n" "$AWS_ENDPOINT_URL" "$AWS_ACCESS_KEY_ID" '
        '"$AWS_SECRET_ACCESS_KEY" "$AWS_DEFAULT_REGION"'
    )
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=20)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


@pytest.mark.own_server
def test_env_prints_default_exports(local_server):
    raw = subprocess.run([h.nimbus_bin(), "env"], capture_output=True, text=True, timeout=20,
                         env={k: v for k, v in os.environ.items() if k != "NIMBUS_PORT"})
    assert raw.returncode == 0, raw.stderr
    assert "export AWS_ENDPOINT_URL=" in raw.stdout
    assert _eval_env() == ["http://127.0.0.1:4566", "test", "test", "us-east-1"]


@pytest.mark.own_server
def test_env_honours_port_flag(local_server):
    assert _eval_env(["--port", "5999"])[0] == "http://127.0.0.1:5999"


@pytest.mark.own_server
def test_env_honours_host_flag(local_server):
    assert _eval_env(["--host", "127.0.0.2", "--port", "4600"])[0] == "http://127.0.0.2:4600"


@pytest.mark.own_server
def test_env_honours_nimbus_port_variable(local_server):
    assert _eval_env(extra_env={"NIMBUS_PORT": "6123"})[0] == "http://127.0.0.1:6123"


@pytest.mark.own_server
def test_env_output_drives_boto3_and_the_cli(local_server, aws_env):
    server = local_server
    """eval "$(nimbus env --port P)" is all a user needs: boto3 picks up
    AWS_ENDPOINT_URL by itself; the aws CLI v1 is given it explicitly."""
    import sys

    name = h.new_name("envcli")
    server.client().create_queue(QueueName=name)
    env = {k: v for k, v in aws_env.items()
           if not k.startswith("AWS_") or k in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")}
    binary = subprocess.list2cmdline([h.nimbus_bin()])
    python = subprocess.list2cmdline([sys.executable])
    aws = subprocess.list2cmdline([h.aws_executable()])
    script = (
        f'eval "$({binary} env --port {server.port})" && '
        f'{python} -c "import boto3, json; '
        f"print(json.dumps(boto3.client('sqs').list_queues(QueueNamePrefix='{name}')['QueueUrls']))\" && "
        f'{aws} sqs list-queues --queue-name-prefix {name} --output json --endpoint-url "$AWS_ENDPOINT_URL"'
    )
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    first_line, rest = proc.stdout.split("\n", 1)
    expected = [f"http://127.0.0.1:{server.port}/000000000000/{name}"]
    assert json.loads(first_line) == expected
    assert json.loads(rest)["QueueUrls"] == expected


@pytest.mark.own_server
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_shuts_down_cleanly(nimbus_factory, sig):
    srv = nimbus_factory()
    c = srv.client()
    url = c.create_queue(QueueName=h.new_name("sig"))["QueueUrl"]
    c.send_message(QueueUrl=url, MessageBody="x")
    assert srv.stop(sig, timeout=10) == 0, srv.stderr()[-3000:]
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(srv.endpoint, timeout=2)


@pytest.mark.own_server
def test_signal_during_long_poll_still_exits_zero(nimbus_factory):
    """A long poll in progress must not keep the server from shutting down."""
    import threading

    srv = nimbus_factory()
    c = srv.client()
    url = c.create_queue(QueueName=h.new_name("sigpoll"))["QueueUrl"]
    t = threading.Thread(target=lambda: _swallow(lambda: c.receive_message(QueueUrl=url, WaitTimeSeconds=20)))
    t.daemon = True
    t.start()
    time.sleep(0.5)
    assert srv.stop(signal.SIGTERM, timeout=25) == 0


def _swallow(fn):
    try:
        fn()
    except Exception:
        pass


# --------------------------------------------------------------------------
# SigV4
# --------------------------------------------------------------------------

SIG_CODES = {"SignatureDoesNotMatch", "InvalidSignatureException"}


def test_wrong_secret_is_rejected_json(client_factory):
    bad = client_factory(secret="not-the-secret")
    exc = h.expect_client_error(lambda: bad.list_queues(), code=SIG_CODES, status=403)
    assert exc.response["Error"]["Code"] in SIG_CODES


def test_wrong_secret_is_rejected_for_every_operation(client_factory, make_queue):
    url = make_queue("sig")
    bad = client_factory(secret="wrong")
    h.expect_client_error(lambda: bad.send_message(QueueUrl=url, MessageBody="x"), code=SIG_CODES, status=403)
    h.expect_client_error(lambda: bad.create_queue(QueueName=h.new_name()), code=SIG_CODES, status=403)
    h.expect_client_error(lambda: bad.receive_message(QueueUrl=url), code=SIG_CODES, status=403)


def test_wrong_secret_is_rejected_query(query):
    res = query("ListQueues", secret="wrong-secret")
    assert res.status == 403, res
    assert res.error_code() == "SignatureDoesNotMatch", res
    assert h.QueryResult.local(res.root.tag) == "ErrorResponse"
    assert res.findtext("Error/Type") == "Sender"


def test_tampered_body_is_rejected(query, make_queue):
    url = make_queue("tamper")

    def tamper(prepared):
        prepared.body = prepared.body.replace("MessageBody=original", "MessageBody=changed")
        prepared.headers["Content-Length"] = str(len(prepared.body))
        return prepared

    res = query("SendMessage", {"QueueUrl": url, "MessageBody": "original"}, tamper=tamper)
    assert res.status == 403, res
    assert res.error_code() == "SignatureDoesNotMatch", res


def test_tampered_json_body_is_rejected(endpoint, make_queue, sqs):
    url = make_queue("tamperjson")
    body = json.dumps({"QueueUrl": url, "MessageBody": "original"})
    prepared = h._sign("POST", endpoint + "/", body,
                       {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage"},
                       h.REGION, "test", "test")
    prepared.body = body.replace("original", "changed!").encode()
    prepared.headers["Content-Length"] = str(len(prepared.body))
    res = h.JsonResult(h._send(prepared, connect_url=endpoint))
    assert res.status == 403, res
    assert res.error_type in SIG_CODES or (res.query_error or "").split(";")[0] in SIG_CODES, res
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


@pytest.mark.parametrize("skew", [-20 * 60, 20 * 60], ids=["20min-old", "20min-ahead"])
def test_signature_outside_the_15_minute_window_is_rejected(json_call, query, skew):
    # SigV4: a request whose X-Amz-Date is more than 15 minutes from the
    # server's clock is refused ("Signature expired" / RequestExpired).
    res = json_call("ListQueues", {}, skew=skew)
    assert res.status in (400, 403), res
    res = query("ListQueues", skew=skew)
    assert res.status in (400, 403), res
    # a few minutes of skew is fine
    assert json_call("ListQueues", {}, skew=-120 if skew < 0 else 120).status == 200


def test_presigned_query_url_is_accepted(endpoint, make_queue):
    name = h.new_name("presign")
    make_queue(name=name)
    url = h.presigned_url(endpoint, "GetQueueUrl", {"QueueName": name})
    assert "X-Amz-Signature=" in url
    res = h.QueryResult(requests.get(url, timeout=10))
    assert res.status == 200, res
    assert res.findtext("GetQueueUrlResult/QueueUrl").endswith(f"/000000000000/{name}")


def test_presigned_query_url_with_bad_signature_is_rejected(endpoint):
    url = h.presigned_url(endpoint, "ListQueues")
    parts = urllib.parse.urlsplit(url)
    params = urllib.parse.parse_qsl(parts.query)
    params = [(k, ("0" * len(v) if k == "X-Amz-Signature" else v)) for k, v in params]
    bad = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(params)))
    res = h.QueryResult(requests.get(bad, timeout=10))
    assert res.status == 403, res
    assert res.error_code() == "SignatureDoesNotMatch", res


def test_presigned_query_url_with_wrong_secret_is_rejected(endpoint):
    url = h.presigned_url(endpoint, "ListQueues", secret="nope")
    res = h.QueryResult(requests.get(url, timeout=10))
    assert res.status == 403, res


def test_expired_presigned_url_is_rejected(endpoint):
    url = h.presigned_url(endpoint, "ListQueues", expires=1)
    time.sleep(2.2)
    res = h.QueryResult(requests.get(url, timeout=10))
    assert res.status == 403, res


def test_presigned_url_params_cannot_be_changed(endpoint, make_queue):
    name = h.new_name("presign2")
    make_queue(name=name)
    url = h.presigned_url(endpoint, "GetQueueUrl", {"QueueName": name})
    other = url.replace(f"QueueName={name}", "QueueName=other-queue")
    res = h.QueryResult(requests.get(other, timeout=10))
    assert res.status == 403, res


# --------------------------------------------------------------------------
# accounts and regions
# --------------------------------------------------------------------------

def test_twelve_digit_access_key_is_the_account(client_factory, name):
    a = client_factory(key="111111111111", secret="whatever")
    url = a.create_queue(QueueName=name)["QueueUrl"]
    assert urllib.parse.urlsplit(url).path == f"/111111111111/{name}"
    arn = a.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn == f"arn:aws:sqs:us-east-1:111111111111:{name}"


def test_other_access_keys_map_to_the_default_account(client_factory, name):
    c = client_factory(key="AKIAIOSFODNN7EXAMPLE", secret="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    url = c.create_queue(QueueName=name)["QueueUrl"]
    assert urllib.parse.urlsplit(url).path == f"/000000000000/{name}"
    # and it is the same namespace as test/test
    test_client = client_factory()
    assert test_client.get_queue_url(QueueName=name)["QueueUrl"] == url


def test_accounts_are_separate_namespaces(client_factory, name):
    a = client_factory(key="111111111111", secret="x")
    b = client_factory(key="222222222222", secret="x")
    url_a = a.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "11"})["QueueUrl"]
    # b does not see a's queue ...
    h.expect_sqs_error(lambda: b.get_queue_url(QueueName=name), "QueueDoesNotExist")
    assert url_a not in b.list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    # ... and can create its own with different attributes (no QueueAlreadyExists)
    url_b = b.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "22"})["QueueUrl"]
    assert url_a != url_b
    assert "/222222222222/" in url_b
    a.send_message(QueueUrl=url_a, MessageBody="for a")
    assert "Messages" not in b.receive_message(QueueUrl=url_b)
    got = a.receive_message(QueueUrl=url_a, WaitTimeSeconds=1)["Messages"]
    assert got[0]["Body"] == "for a"
    assert b.get_queue_attributes(QueueUrl=url_b, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "22"
    }
    assert a.list_queues(QueueNamePrefix=name)["QueueUrls"] == [url_a]
    assert b.list_queues(QueueNamePrefix=name)["QueueUrls"] == [url_b]


def test_regions_are_separate_namespaces(client_factory, name):
    east = client_factory(region="us-east-1")
    west = client_factory(region="eu-west-1")
    url_e = east.create_queue(QueueName=name, Attributes={"DelaySeconds": "1"})["QueueUrl"]
    assert west.list_queues(QueueNamePrefix=name).get("QueueUrls", []) == []
    h.expect_sqs_error(lambda: west.get_queue_url(QueueName=name), "QueueDoesNotExist")
    url_w = west.create_queue(QueueName=name, Attributes={"DelaySeconds": "2"})["QueueUrl"]
    arn_e = east.get_queue_attributes(QueueUrl=url_e, AttributeNames=["All"])["Attributes"]
    arn_w = west.get_queue_attributes(QueueUrl=url_w, AttributeNames=["All"])["Attributes"]
    assert arn_e["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    assert arn_w["QueueArn"] == f"arn:aws:sqs:eu-west-1:000000000000:{name}"
    assert arn_e["DelaySeconds"] == "1" and arn_w["DelaySeconds"] == "2"
    west.send_message(QueueUrl=url_w, MessageBody="west", DelaySeconds=0)
    assert "Messages" not in east.receive_message(QueueUrl=url_e, WaitTimeSeconds=1)
    assert west.receive_message(QueueUrl=url_w, WaitTimeSeconds=2)["Messages"][0]["Body"] == "west"
    assert west.list_queues(QueueNamePrefix=name)["QueueUrls"] == [url_w]
    assert east.list_queues(QueueNamePrefix=name)["QueueUrls"] == [url_e]


def test_region_comes_from_the_signature_in_query_too(query, client_factory, name):
    res = query("CreateQueue", {"QueueName": name}, region="ap-southeast-2")
    assert res.status == 200, res
    west = client_factory(region="ap-southeast-2")
    attrs = west.get_queue_attributes(
        QueueUrl=west.get_queue_url(QueueName=name)["QueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]
    assert attrs["QueueArn"] == f"arn:aws:sqs:ap-southeast-2:000000000000:{name}"
    h.expect_sqs_error(lambda: client_factory().get_queue_url(QueueName=name), "QueueDoesNotExist")


# --------------------------------------------------------------------------
# strict auth
# --------------------------------------------------------------------------

@pytest.mark.own_server
def test_strict_auth_accepts_the_builtin_key(strict_server):
    c = strict_server.client()
    url = c.create_queue(QueueName=h.new_name("strict"))["QueueUrl"]
    c.send_message(QueueUrl=url, MessageBody="ok")


@pytest.mark.own_server
def test_strict_auth_rejects_unknown_keys(strict_server):
    c = strict_server.client(key="AKIAUNKNOWNKEY000000", secret="whatever")
    h.expect_client_error(lambda: c.list_queues(), code="InvalidClientTokenId", status=403)
    res = h.query_request(strict_server.endpoint, "ListQueues", key="AKIAUNKNOWNKEY000000", secret="x")
    assert res.status == 403, res
    assert res.error_code() == "InvalidClientTokenId", res


@pytest.mark.own_server
def test_strict_auth_still_checks_the_signature_of_known_keys(strict_server):
    c = strict_server.client(secret="wrong")
    h.expect_client_error(lambda: c.list_queues(), code=SIG_CODES, status=403)


@pytest.mark.own_server
def test_strict_auth_rejects_unsigned_requests(strict_server):
    # AWS answers an unsigned request with 403 MissingAuthenticationToken.
    res = h.query_request(strict_server.endpoint, "ListQueues", sign=False)
    assert res.status == 403, res
    res = h.json_request(strict_server.endpoint, "ListQueues", {}, sign=False)
    assert res.status == 403, res


def test_lenient_auth_accepts_unknown_keys_unverified(client_factory):
    c = client_factory(key="AKIASOMEONEELSE00000", secret="anything-at-all")
    assert c.list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200


# --------------------------------------------------------------------------
# URL forms
# --------------------------------------------------------------------------

def test_host_style_endpoint_json(endpoint, json_call, sqs, name):
    port = urllib.parse.urlsplit(endpoint).port
    host = f"sqs.us-east-1.localhost:{port}"
    res = json_call("CreateQueue", {"QueueName": name}, host=host)
    assert res.status == 200, res
    url = res.body["QueueUrl"]
    assert url == f"http://{host}/000000000000/{name}"
    # same queue, whatever host the client used
    plain = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    assert urllib.parse.urlsplit(plain).path == f"/000000000000/{name}"
    res = json_call("SendMessage", {"QueueUrl": url, "MessageBody": "via host style"}, host=host)
    assert res.status == 200, res
    msgs = sqs.receive_message(QueueUrl=plain, WaitTimeSeconds=1)["Messages"]
    assert msgs[0]["Body"] == "via host style"


def test_host_style_endpoint_query(endpoint, query, sqs, name):
    port = urllib.parse.urlsplit(endpoint).port
    host = f"sqs.us-east-1.localhost:{port}"
    res = query("CreateQueue", {"QueueName": name}, host=host)
    assert res.status == 200, res
    assert res.findtext("CreateQueueResult/QueueUrl") == f"http://{host}/000000000000/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"].endswith(f"/000000000000/{name}")


def test_queue_url_forms_address_the_same_queue(endpoint, sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    port = urllib.parse.urlsplit(endpoint).port
    forms = [
        url,
        f"http://127.0.0.1:{port}/000000000000/{name}",
        f"http://localhost:{port}/000000000000/{name}",
        f"http://sqs.us-east-1.localhost:{port}/000000000000/{name}",
    ]
    for i, form in enumerate(forms):
        sqs.send_message(QueueUrl=form, MessageBody=f"form {i}")
    got = h.receive_all(sqs, url, expected=len(forms))
    assert sorted(m["Body"] for m in got) == sorted(f"form {i}" for i in range(len(forms)))


def test_query_request_posted_to_the_queue_url(query, sqs, name):
    """Older SDKs post to the queue URL itself and leave QueueUrl out."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    res = query("SendMessage", {"MessageBody": "to the path"}, url=url)
    assert res.status == 200, res
    assert res.findtext("SendMessageResult/MD5OfMessageBody") == h.md5_hex("to the path")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"] == "to the path"


# --------------------------------------------------------------------------
# bad input is a 4xx, never a 5xx
# --------------------------------------------------------------------------

def test_unknown_json_operation(json_call):
    res = json_call("NoSuchOperation", {})
    assert 400 <= res.status < 500, res
    # AWS's awsJson services answer UnknownOperationException
    assert res.error_type in {"UnknownOperationException", "InvalidAction"}, res


def test_unknown_query_action(query):
    res = query("NoSuchAction", {})
    assert res.status == 400, res
    assert res.error_code() == "InvalidAction", res


@pytest.mark.parametrize(
    "raw",
    ["", "{", "not json at all", "[]", "null", '{"QueueName": 12}', '{"QueueName": {"a": 1}}', "\x00\x01\x02"],
    ids=["empty", "brace", "text", "array", "null", "number", "object", "binary"],
)
def test_garbage_json_body_is_a_client_error(json_call, raw):
    res = json_call("CreateQueue", raw_body=raw)
    assert 400 <= res.status < 500, res


def test_missing_required_json_parameter(json_call):
    res = json_call("SendMessage", {"MessageBody": "no queue url"})
    assert 400 <= res.status < 500, res
    res = json_call("CreateQueue", {})
    assert 400 <= res.status < 500, res


def test_wrong_types_in_json(json_call, make_queue):
    url = make_queue("types")
    for body in (
        {"QueueUrl": url, "MaxNumberOfMessages": "ten"},
        {"QueueUrl": url, "WaitTimeSeconds": [1]},
        {"QueueUrl": url, "VisibilityTimeout": 1.5e30},
        {"QueueUrl": 7},
    ):
        res = json_call("ReceiveMessage", body)
        assert 400 <= res.status < 500, (body, res)


def test_garbage_query_bodies(endpoint):
    for body in ("", "Action", "Action=", "=&&=", "%zz%", "Action=SendMessage&QueueUrl=%ff%fe"):
        prepared = h._sign("POST", endpoint + "/", body,
                           {"Content-Type": "application/x-www-form-urlencoded"}, h.REGION, "test", "test")
        res = h._send(prepared)
        assert 400 <= res.status_code < 500, (body, res.status_code, res.text[:300])


def test_missing_query_parameters(query):
    res = query("SendMessage", {"MessageBody": "x"})
    assert 400 <= res.status < 500, res
    res = query("CreateQueue", {})
    assert res.status == 400, res
    assert res.error_code() in {"MissingParameter", "InvalidParameterValue"}, res


@pytest.mark.parametrize(
    "queue_url",
    ["not a url", "http://127.0.0.1/", "http://127.0.0.1/000000000000", "http://x/000000000000/a/b/c", ""],
)
def test_malformed_queue_urls(sqs, queue_url):
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=queue_url, MessageBody="x")
    assert 400 <= h.http_status(info.value) < 500


def test_random_requests_never_5xx(endpoint, make_queue):
    url = make_queue("fuzz")
    rng = random.Random(1234)
    ops = ["CreateQueue", "SendMessage", "ReceiveMessage", "DeleteMessage", "SendMessageBatch",
           "SetQueueAttributes", "GetQueueAttributes", "ChangeMessageVisibility", "ListQueues",
           "StartMessageMoveTask", "AddPermission", "TagQueue", "PurgeQueue", "DeleteMessageBatch"]
    values = [None, "", "x" * 300, -1, 0, 2**63, 1.5, True, [], {}, ["a"], {"a": "b"}, url, "\u0000", "€"]
    keys = ["QueueUrl", "QueueName", "MessageBody", "ReceiptHandle", "Entries", "Attributes",
            "AttributeNames", "VisibilityTimeout", "MaxNumberOfMessages", "DelaySeconds", "Tags",
            "MessageAttributes", "SourceArn", "Label", "Actions", "AWSAccountIds"]
    for _ in range(150):
        op = rng.choice(ops)
        body = {k: rng.choice(values) for k in rng.sample(keys, rng.randint(0, 5))}
        if rng.random() < 0.6:
            body["QueueUrl"] = url
        res = h.json_request(endpoint, op, body)
        assert res.status < 500, (op, body, res)
        qparams = {k: str(v) for k, v in body.items() if v is not None}
        qres = h.query_request(endpoint, op, qparams)
        assert qres.status < 500, (op, qparams, qres)
    # still alive and well
    assert h.make_client(endpoint).list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_plain_get_of_root_is_not_a_server_error(endpoint):
    res = requests.get(endpoint + "/", timeout=10)
    assert res.status_code < 500
    res = requests.post(endpoint + "/", data=b"\xff\xfe garbage", timeout=10)
    assert res.status_code < 500
