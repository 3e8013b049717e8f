"""Lambda concurrency, written from AWS's developer guide ("Lambda function scaling",
"Configuring reserved concurrency", "Error handling and automatic retries"): reserved
concurrency caps a function's environments, synchronous invokes past the cap are
throttled with TooManyRequestsException (429), asynchronous ones wait and are retried,
and GetAccountSettings reports what is left unreserved."""

from __future__ import annotations

import base64
import json
import threading
import time

import nimbus_helpers as h
from lambda_helpers import create, invoke, lam  # noqa: F401  (lam is a fixture)

SLEEPY = '''
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"slept": event.get("sleep", 0)}
'''


def test_reserved_concurrency_api_and_account_settings(lam):
    fn = create(lam, SLEEPY)
    before = lam.get_account_settings()["AccountLimit"]
    assert before["ConcurrentExecutions"] == 1000
    assert lam.get_function_concurrency(FunctionName=fn).get("ReservedConcurrentExecutions") is None
    assert lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=5)["ReservedConcurrentExecutions"] == 5
    assert lam.get_function_concurrency(FunctionName=fn)["ReservedConcurrentExecutions"] == 5
    assert lam.get_function(FunctionName=fn)["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    after = lam.get_account_settings()
    assert after["AccountLimit"]["UnreservedConcurrentExecutions"] == before["UnreservedConcurrentExecutions"] - 5
    assert after["AccountUsage"]["FunctionCount"] >= 1
    # At least 100 must stay unreserved.
    h.expect_client_error(
        lambda: lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=990),
        "InvalidParameterValueException",
    )
    lam.delete_function_concurrency(FunctionName=fn)
    assert lam.get_function_concurrency(FunctionName=fn).get("ReservedConcurrentExecutions") is None


def test_sync_invokes_past_the_reservation_are_throttled(lam):
    fn = create(lam, SLEEPY, Timeout=10)
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    err = h.expect_client_error(lambda: invoke(lam, fn, {}), "TooManyRequestsException", status=429)
    assert "Rate Exceeded" in err.response["Error"]["Message"]

    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=1)
    results = {}
    slow = threading.Thread(target=lambda: results.setdefault("slow", invoke(lam, fn, {"sleep": 2})))
    slow.start()
    time.sleep(1.0)  # the slow invocation holds the only unit
    h.expect_client_error(lambda: invoke(lam, fn, {}), "TooManyRequestsException", status=429)
    slow.join()
    assert json.loads(results["slow"]["Body"]) == {"slept": 2}
    assert json.loads(invoke(lam, fn, {})["Body"]) == {"slept": 0}


def test_throttled_async_events_wait_and_run_later(lam, sqs, make_queue, queue_arn):
    out = make_queue("throttled-dest")
    fn = create(lam, SLEEPY)
    lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    lam.put_function_event_invoke_config(FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": queue_arn(out)}})
    assert lam.invoke(FunctionName=fn, InvocationType="Event", Payload=b'{"sleep": 0}')["StatusCode"] == 202
    time.sleep(1.5)
    assert h.receive_all(sqs, out, timeout=1) == [], "a throttled event must not run"
    lam.delete_function_concurrency(FunctionName=fn)
    got = h.receive_all(sqs, out, expected=1, timeout=10)
    record = json.loads(got[0]["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1


HUNGRY = '''
def handler(event, context):
    hoard = []
    for _ in range(event["mb"]):
        hoard.append(bytearray(1024 * 1024))
    return {"held_mb": len(hoard)}
'''


def test_memory_size_caps_the_environment(lam):
    """MemorySize is the environment's memory: a handler that outgrows it is killed and
    the invocation fails with Runtime.OutOfMemory, as AWS reports it."""
    fn = create(lam, HUNGRY, MemorySize=128, Timeout=20)
    ok = invoke(lam, fn, {"mb": 20})
    assert "FunctionError" not in ok and json.loads(ok["Body"]) == {"held_mb": 20}
    r = invoke(lam, fn, {"mb": 400}, LogType="Tail")
    assert r["FunctionError"] == "Unhandled"
    err = json.loads(r["Body"])
    assert err["errorType"] == "Runtime.OutOfMemory"
    assert "Runtime exited with error: signal: killed" in err["errorMessage"]
    assert "Error Type: Runtime.OutOfMemory" in base64.b64decode(r["LogResult"]).decode()
    # A new environment serves the next invocation.
    assert json.loads(invoke(lam, fn, {"mb": 1})["Body"]) == {"held_mb": 1}


PROVISIONED = '''
import os, time
INIT_AT = time.time()
def handler(event, context):
    return {"type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], "init_at": INIT_AT}
'''


def test_provisioned_concurrency_initialises_environments_ahead(lam):
    fn = create(lam, PROVISIONED)
    version = lam.publish_version(FunctionName=fn)["Version"]
    h.expect_client_error(
        lambda: lam.put_provisioned_concurrency_config(FunctionName=fn, Qualifier="$LATEST",
                                                       ProvisionedConcurrentExecutions=1),
        "InvalidParameterValueException",
    )
    err = h.expect_client_error(
        lambda: lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier=version),
        "ProvisionedConcurrencyConfigNotFoundException",
        status=404,
    )
    assert err
    put = lam.put_provisioned_concurrency_config(FunctionName=fn, Qualifier=version, ProvisionedConcurrentExecutions=2)
    assert put["RequestedProvisionedConcurrentExecutions"] == 2
    assert put["Status"] in ("IN_PROGRESS", "READY")
    ready = h.wait_until(
        lambda: (c := lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier=version))["Status"] == "READY" and c,
        timeout=15, message="provisioned concurrency to be READY",
    )
    assert ready["AllocatedProvisionedConcurrentExecutions"] == 2
    assert ready["AvailableProvisionedConcurrentExecutions"] == 2
    ready_at = time.time()
    r = invoke(lam, fn, {}, Qualifier=version, LogType="Tail")
    body = json.loads(r["Body"])
    assert body["type"] == "provisioned-concurrency"
    assert body["init_at"] < ready_at, "init ran before the invocation"
    assert "Init Duration" not in base64.b64decode(r["LogResult"]).decode()
    listed = lam.list_provisioned_concurrency_configs(FunctionName=fn)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[1] for c in listed] == [version]
    lam.delete_provisioned_concurrency_config(FunctionName=fn, Qualifier=version)
    h.expect_client_error(
        lambda: lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier=version),
        "ProvisionedConcurrencyConfigNotFoundException",
    )
