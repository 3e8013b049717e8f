"""Lambda function management and invocation through boto3, as AWS documents them."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import uuid
import zipfile

import pytest
import requests
from botocore.exceptions import ClientError

import nimbus_helpers as h
from lambda_helpers import ROLE, invoke, lam, make_zip  # noqa: F401  (lam is a fixture)
from lambda_helpers import create as create_function


HANDLER = '''
import os, sys, time
COUNT = 0
print("module init")

def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("fail"):
        raise ValueError("it broke")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    print("hello stdout")
    print("hello stderr", file=sys.stderr)
    return {
        "count": COUNT,
        "event": event,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "log_group": context.log_group_name,
        "log_stream": context.log_stream_name,
        "env": {k: os.environ.get(k) for k in ("GREETING", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME",
                                              "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "_HANDLER", "TZ")},
    }
'''

SQS_HANDLER = '''
import boto3

def handler(event, context):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=event["queue"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="from lambda " + context.aws_request_id)
    return {"url": url}
'''


def create(lam, code=HANDLER, **kwargs):
    return create_function(lam, code, **kwargs)


def test_create_get_list_delete(lam):
    name = "fn-" + uuid.uuid4().hex[:12]
    created = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                  Code={"ZipFile": make_zip({"app.py": HANDLER})}, Description="d", Timeout=7,
                                  MemorySize=256, Tags={"team": "x"}, Environment={"Variables": {"GREETING": "hello"}})
    # The create response shows the function Pending; the waiter AWS documents sees it Active.
    assert created["State"] == "Pending" and created["StateReasonCode"] == "Creating"
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    conf = lam.get_function_configuration(FunctionName=name)
    assert conf["FunctionName"] == name
    assert conf["FunctionArn"] == f"arn:aws:lambda:{h.REGION}:000000000000:function:{name}"
    assert (conf["Runtime"], conf["Handler"], conf["Role"]) == ("python3.12", "app.handler", ROLE)
    assert (conf["Timeout"], conf["MemorySize"], conf["Description"]) == (7, 256, "d")
    assert conf["State"] == "Active" and conf["LastUpdateStatus"] == "Successful"
    assert conf["Environment"]["Variables"] == {"GREETING": "hello"}
    assert conf["Version"] == "$LATEST" and conf["PackageType"] == "Zip"
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["CodeSha256"] == conf["CodeSha256"]
    # Code.Location downloads the deployment package, whose SHA-256 is CodeSha256.
    package = requests.get(got["Code"]["Location"], timeout=10)
    assert package.status_code == 200
    assert base64.b64encode(hashlib.sha256(package.content).digest()).decode() == conf["CodeSha256"]
    assert zipfile.ZipFile(io.BytesIO(package.content)).namelist() == ["app.py"]
    assert got["Tags"] == {"team": "x"}
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert name in names
    with pytest.raises(ClientError) as exc:
        create(lam, FunctionName=name)
    assert exc.value.response["Error"]["Code"] == "ResourceConflictException"
    lam.delete_function(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)


def test_update_code_and_configuration(lam):
    name = create(lam)
    updated = lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "v2"}})
    assert updated["LastUpdateStatus"] == "InProgress"
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    assert json.loads(invoke(lam, name)["Body"])["env"]["GREETING"] == "v2"
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 'new'\n"}))
    assert json.loads(invoke(lam, name)["Body"]) == "new"


def test_bad_input(lam):
    with pytest.raises(ClientError) as exc:
        create(lam, PackageType="Image", Code={"ImageUri": "x:latest"})
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as exc:
        create(lam, Runtime="cobol85")
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="does-not-exist-" + uuid.uuid4().hex[:6])


def test_invoke_cold_then_warm_with_context_and_env(lam):
    name = create(lam, Environment={"Variables": {"GREETING": "hi"}})
    first = invoke(lam, name, {"k": "v"})
    assert first["StatusCode"] == 200 and "FunctionError" not in first
    assert first["ExecutedVersion"] == "$LATEST"
    body = json.loads(first["Body"])
    assert body["count"] == 1 and body["event"] == {"k": "v"}
    assert body["request_id"] == first["ResponseMetadata"]["RequestId"]
    assert body["function_name"] == name and body["function_version"] == "$LATEST"
    assert body["arn"].endswith(f":function:{name}")
    assert body["memory"] == "128"
    assert 0 < body["remaining"] <= 3000
    assert body["log_group"] == f"/aws/lambda/{name}"
    assert body["env"] == {"GREETING": "hi", "AWS_REGION": h.REGION, "AWS_LAMBDA_FUNCTION_NAME": name,
                           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "_HANDLER": "app.handler", "TZ": ":UTC"}
    second = json.loads(invoke(lam, name)["Body"])
    assert second["count"] == 2, "module-level state survives in a warm environment"


def test_tail_log(lam):
    name = create(lam)
    resp = invoke(lam, name, LogType="Tail")
    log = base64.b64decode(resp["LogResult"]).decode()
    rid = resp["ResponseMetadata"]["RequestId"]
    assert "module init" in log
    assert f"START RequestId: {rid} Version: $LATEST" in log
    assert "hello stdout" in log and "hello stderr" in log
    assert f"END RequestId: {rid}" in log
    assert f"REPORT RequestId: {rid}\tDuration: " in log
    assert "Billed Duration: " in log and "Memory Size: 128 MB" in log and "Max Memory Used: " in log
    assert "Init Duration: " in log


def test_handler_error(lam):
    name = create(lam)
    resp = invoke(lam, name, {"fail": True})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(resp["Body"])
    assert err["errorType"] == "ValueError"
    assert err["errorMessage"] == "it broke"
    assert isinstance(err["stackTrace"], list) and err["stackTrace"]


def test_import_error(lam):
    name = create(lam, Handler="missing.handler")
    resp = invoke(lam, name)
    assert resp["FunctionError"] == "Unhandled"
    assert json.loads(resp["Body"])["errorType"] == "Runtime.ImportModuleError"


def test_timeout(lam):
    name = create(lam, Timeout=1)
    resp = invoke(lam, name, {"sleep": 3})
    assert resp["FunctionError"] == "Unhandled"
    rid = resp["ResponseMetadata"]["RequestId"]
    msg = json.loads(resp["Body"])["errorMessage"]
    assert msg.endswith(f"{rid} Task timed out after 1.00 seconds"), msg
    # The environment was killed: the next invocation starts cold.
    assert json.loads(invoke(lam, name)["Body"])["count"] == 1


def test_event_and_dry_run(lam):
    name = create(lam)
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    assert lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204


def test_handler_calls_sqs_with_plain_boto3(lam, sqs):
    name = create(lam, code=SQS_HANDLER, Timeout=30)
    queue = "from-lambda-" + uuid.uuid4().hex[:8]
    resp = invoke(lam, name, {"queue": queue})
    assert "FunctionError" not in resp, resp["Body"]
    url = json.loads(resp["Body"])["url"]
    deadline = time.time() + 10
    msgs = []
    while not msgs and time.time() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert msgs and msgs[0]["Body"] == "from lambda " + resp["ResponseMetadata"]["RequestId"]


def test_function_logs_reach_cloudwatch_logs(lam, endpoint):
    """Each environment writes to /aws/lambda/<name>, stream YYYY/MM/DD/[$LATEST]<id>,
    with START / END / REPORT lines, readable through the Logs API and `nimbus logs`."""
    import os
    import re
    import subprocess

    logs = h.make_client(endpoint, service="logs")
    name = create(lam)
    resp = invoke(lam, name, {"n": 1})
    request_id = resp["ResponseMetadata"]["RequestId"]
    group = f"/aws/lambda/{name}"

    def messages():
        try:
            return [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
        except logs.exceptions.ResourceNotFoundException:
            return []

    got = h.wait_until(lambda: (m := messages()) and any(x.startswith("REPORT") for x in m) and m, timeout=10,
                       message="the function's log events")
    assert f"START RequestId: {request_id} Version: $LATEST" in got
    assert "hello stdout" in got and "hello stderr" in got
    assert f"END RequestId: {request_id}" in got
    report = next(x for x in got if x.startswith("REPORT"))
    assert "Billed Duration" in report and "Init Duration" in report
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 1
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", streams[0]["logStreamName"])

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run([h.nimbus_bin(), "logs", name, "--endpoint-url", endpoint],
                         capture_output=True, text=True, timeout=20, env=env)
    assert out.returncode == 0, out.stderr
    assert f"START RequestId: {request_id}" in out.stdout and "hello stdout" in out.stdout


def test_code_from_s3(lam, endpoint):
    """CreateFunction and UpdateFunctionCode take the package from S3 (S3Bucket/S3Key),
    as SAM and CloudFormation deploy it."""
    from test_s3_basics import s3_client

    s3 = s3_client(endpoint)
    bucket = f"code-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="v1.zip", Body=make_zip({"app.py": "def handler(e, c):\n    return 'one'\n"}))
    s3.put_object(Bucket=bucket, Key="v2.zip", Body=make_zip({"app.py": "def handler(e, c):\n    return 'two'\n"}))
    name = create(lam, Code={"S3Bucket": bucket, "S3Key": "v1.zip"})
    assert json.loads(invoke(lam, name)["Body"]) == "one"
    lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="v2.zip")
    assert json.loads(invoke(lam, name)["Body"]) == "two"
    err = h.expect_client_error(
        lambda: lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="missing.zip"),
        "InvalidParameterValueException",
    )
    assert "NoSuchKey" in err.response["Error"]["Message"]


def test_code_from_s3_obeys_the_bucket_policy(lam, endpoint):
    """Lambda reads S3Bucket/S3Key with the caller's permissions: a bucket policy that
    refuses the caller fails CreateFunction with 403 AccessDeniedException and S3's
    error in the message; another account needs the bucket policy's Allow."""
    from test_s3_basics import s3_client

    s3 = s3_client(endpoint)
    bucket = f"code-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="fn.zip", Body=make_zip({"app.py": "def handler(e, c):\n    return 'ok'\n"}))
    s3.put_object(Bucket=bucket, Key="secret.zip", Body=make_zip({"app.py": "def handler(e, c):\n    return 'no'\n"}))
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/secret.zip"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/fn.zip"},
    ]}))

    err = h.expect_client_error(lambda: create(lam, Code={"S3Bucket": bucket, "S3Key": "secret.zip"}), "AccessDeniedException")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err.response["Error"]["Message"].startswith(
        f"Your access has been denied by S3, please make sure your request credentials have permission to GetObject for {bucket}/secret.zip."
    )
    # The owner is not refused what the policy does not deny.
    name = create(lam, Code={"S3Bucket": bucket, "S3Key": "fn.zip"})
    assert json.loads(invoke(lam, name)["Body"]) == "ok"

    # Another account: allowed fn.zip by the policy, nothing else.
    other = h.make_client(endpoint, key="111122223333", service="lambda")
    other_name = create(other, Code={"S3Bucket": bucket, "S3Key": "fn.zip"})
    assert json.loads(invoke(other, other_name)["Body"]) == "ok"
    s3.put_object(Bucket=bucket, Key="other.zip", Body=make_zip({"app.py": "def handler(e, c):\n    return 1\n"}))
    h.expect_client_error(lambda: create(other, Code={"S3Bucket": bucket, "S3Key": "other.zip"}), "AccessDeniedException")


TMP_AND_S3 = '''
import os, tempfile, boto3
def handler(event, context):
    path = os.path.join(tempfile.gettempdir(), "state.txt")
    seen = open(path).read() if os.path.exists(path) else None
    with open(path, "w") as f:
        f.write(context.aws_request_id)
    s3 = boto3.client("s3")
    s3.put_object(Bucket=event["bucket"], Key="from-lambda.txt", Body=b"written by a handler")
    return {"seen": seen, "tmp": tempfile.gettempdir(),
            "listed": [o["Key"] for o in s3.list_objects_v2(Bucket=event["bucket"]).get("Contents", [])]}
'''


def test_tmp_is_kept_across_warm_invocations_and_handlers_reach_s3(lam, endpoint):
    """An environment's temporary directory survives between its invocations and is its
    own; a handler's plain boto3 S3 client reaches nimbus."""
    from test_s3_basics import s3_client

    bucket = f"fn-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=bucket)
    name = create(lam, code=TMP_AND_S3, Timeout=30)
    first = invoke(lam, name, {"bucket": bucket})
    assert "FunctionError" not in first, first["Body"]
    one = json.loads(first["Body"])
    assert one["seen"] is None and one["listed"] == ["from-lambda.txt"]
    two = json.loads(invoke(lam, name, {"bucket": bucket})["Body"])
    assert two["seen"] == first["ResponseMetadata"]["RequestId"], "the warm environment kept its temporary files"
    other = create(lam, code=TMP_AND_S3, Timeout=30)
    three = json.loads(invoke(lam, other, {"bucket": bucket})["Body"])
    assert three["seen"] is None and three["tmp"] != one["tmp"], "another environment has its own"


LITERAL_TMP = '''
import os
def handler(event, context):
    path = "/tmp/" + event["name"]
    seen = os.path.exists(path)
    with open(path, "w") as f:
        f.write("x")
    return {"seen": seen, "listing": sorted(os.listdir("/tmp"))}
'''


def _mount_namespaces_work():
    import shutil
    import subprocess

    unshare = shutil.which("unshare")
    if not unshare:
        return False
    return subprocess.run([unshare, "--mount", "true"], capture_output=True).returncode == 0


def test_literal_tmp_is_private_to_an_environment(lam):
    """AWS gives each environment its own /tmp: a file a handler writes to /tmp/x is
    there on its next warm invocation, but not in another function's environment, nor
    on the machine."""
    import os

    if not _mount_namespaces_work():
        pytest.skip("this machine does not allow mount namespaces; environments get a private TMPDIR only")
    marker = "marker-" + uuid.uuid4().hex
    first = create(lam, code=LITERAL_TMP)
    assert json.loads(invoke(lam, first, {"name": marker})["Body"])["seen"] is False
    assert json.loads(invoke(lam, first, {"name": marker})["Body"])["seen"] is True
    second = create(lam, code=LITERAL_TMP)
    assert json.loads(invoke(lam, second, {"name": marker})["Body"])["seen"] is False
    assert not os.path.exists("/tmp/" + marker), "the handler wrote to the machine's /tmp"
