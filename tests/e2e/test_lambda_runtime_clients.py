"""AWS's own runtime interface clients, unmodified, against nimbus's Runtime API.

- A Rust function built with the AWS-maintained `lambda_runtime` crate
  (tests/e2e/fixtures/rust-lambda), deployed as provided.al2023 with the compiled
  binary named `bootstrap`, as AWS's guide to Rust functions deploys it.
- A Python function run by `awslambdaric`, AWS's Python runtime interface client from
  PyPI, from a provided.al2023 `bootstrap` that runs `python3 -m awslambdaric`.

What the Invoke caller sees is written from AWS's Lambda documentation: a returned
error is a function error (`FunctionError: Unhandled`) whose payload is the error
document the runtime posted to /invocation/{id}/error; the context's request id is
the Invoke's request id; the deadline is the invocation's start plus the timeout.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

import nimbus_helpers as h
from lambda_helpers import invoke, lam  # noqa: F401  (lam is a fixture)
from lambda_helpers import create as create_function

REPO = Path(__file__).resolve().parents[2]
RUST_FIXTURE = REPO / "tests" / "e2e" / "fixtures" / "rust-lambda"
# Under the repository's target/ so that repeat runs reuse the build.
FIXTURE_TARGET = REPO / "target" / "e2e-fixtures"
# The awslambdaric release these tests were written against.
AWSLAMBDARIC = "awslambdaric==4.2.2"


def zip_with_modes(files: dict) -> bytes:
    """A package whose entries keep unix modes: {name: (bytes or text, mode)}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (body, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, body)
    return buf.getvalue()


def request_id_of(resp) -> str:
    """The Invoke response's x-amzn-RequestId header."""
    return resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def tail_log(resp) -> str:
    return base64.b64decode(resp["LogResult"]).decode()


# ---------------------------------------------------------------- Rust: lambda_runtime


@pytest.fixture(scope="module")
def rust_bootstrap() -> bytes:
    """The fixture function compiled with `cargo build --release` (cached under target/)."""
    cargo = shutil.which("cargo")
    if not cargo:
        pytest.skip("cargo is not installed: the lambda_runtime fixture function cannot be built")
    target_dir = FIXTURE_TARGET / "rust-lambda"
    cmd = [
        cargo, "build", "--release", "--locked",
        "--manifest-path", str(RUST_FIXTURE / "Cargo.toml"),
        "--target-dir", str(target_dir),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stderr[-6000:]}"
    return (target_dir / "release" / "bootstrap").read_bytes()


@pytest.fixture(scope="module")
def rust_function(lam, rust_bootstrap):  # noqa: F811
    def make(**kwargs):
        package = zip_with_modes({"bootstrap": (rust_bootstrap, 0o755)})
        return create_function(
            lam, "", Runtime="provided.al2023", Handler="bootstrap",
            Code={"ZipFile": package}, **kwargs,
        )

    return make


def test_rust_lambda_runtime_success_context_and_warm_invocation(lam, rust_function):  # noqa: F811
    fn = rust_function(Timeout=10)
    arn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]

    first = invoke(lam, fn, {"n": 1}, LogType="Tail")
    assert first["StatusCode"] == 200
    assert "FunctionError" not in first, first["Body"]
    body = json.loads(first["Body"])
    assert body["count"] == 1 and body["event"] == {"n": 1}
    # The context's request id is the Invoke's request id (x-amzn-RequestId).
    assert body["requestId"] == request_id_of(first)
    assert body["invokedFunctionArn"] == arn
    # Lambda-Runtime-Deadline-Ms: when the function times out, in Unix milliseconds.
    remaining = body["deadlineMs"] - body["nowMs"]
    assert 0 < remaining <= 10_000, remaining
    assert body["xrayTraceId"].startswith("Root=1-")
    # lambda_runtime's Config comes from the environment Lambda sets.
    assert body["functionName"] == fn and body["memoryMb"] == 128 and body["version"] == "$LATEST"
    assert body["logGroup"] == f"/aws/lambda/{fn}"
    assert body["clientContextCustom"] is None

    log = tail_log(first)
    assert f"rust handler invoked: request {body['requestId']} count 1" in log, log
    assert f"START RequestId: {body['requestId']}" in log
    assert f"REPORT RequestId: {body['requestId']}" in log and "Init Duration" in log

    # Warm: the same process serves the next event, keeping its state.
    second = invoke(lam, fn, {"n": 2}, LogType="Tail")
    assert "FunctionError" not in second, second["Body"]
    warm = json.loads(second["Body"])
    assert warm["count"] == 2 and warm["event"] == {"n": 2}
    assert warm["requestId"] == request_id_of(second) != body["requestId"]
    assert "Init Duration" not in tail_log(second)


def test_rust_lambda_runtime_returned_err_is_a_function_error(lam, rust_function):  # noqa: F811
    fn = rust_function()
    failed = invoke(lam, fn, {"fail": True, "size": 123})
    assert failed["StatusCode"] == 200
    assert failed["FunctionError"] == "Unhandled"
    # The error document lambda_runtime posted (its Diagnostic), as the payload.
    assert json.loads(failed["Body"]) == {
        "errorType": "ImageTooLarge",
        "errorMessage": "image of 123 bytes is too large",
    }
    # A returned error does not end the environment: the next event reaches the same process.
    ok = invoke(lam, fn, {"n": 3})
    assert "FunctionError" not in ok, ok["Body"]
    assert json.loads(ok["Body"])["count"] == 2


def test_rust_lambda_runtime_response_over_the_limit(lam, rust_function):  # noqa: F811
    """AWS's synchronous response limit is 6 MB; past it the caller gets
    Function.ResponseSizeTooLarge, citing 6291556 bytes, and the environment lives on."""
    fn = rust_function()
    r = invoke(lam, fn, {"responseBytes": 6_400_000})
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    assert json.loads(r["Body"]) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
    ok = invoke(lam, fn, {"n": 1})
    assert "FunctionError" not in ok, ok["Body"]
    assert json.loads(ok["Body"])["count"] == 2


def test_rust_lambda_runtime_receives_the_client_context(lam, rust_function):  # noqa: F811
    fn = rust_function()
    client_context = {"custom": {"tenant": "blue"}, "env": {"platform": "test"}}
    r = invoke(lam, fn, {}, ClientContext=base64.b64encode(json.dumps(client_context).encode()).decode())
    assert "FunctionError" not in r, r["Body"]
    assert json.loads(r["Body"])["clientContextCustom"] == {"tenant": "blue"}


# ---------------------------------------------------------------- Python: awslambdaric

AWSLAMBDARIC_BOOTSTRAP = """#!/bin/sh
# AWS's Python runtime interface client, shipped in the package (pip install --target).
exec python3 -m awslambdaric "$_HANDLER"
"""

PYTHON_APP = '''
import os

count = 0


class ImageTooLarge(Exception):
    pass


def handler(event, context):
    global count
    count += 1
    print("awslambdaric handler invoked", context.aws_request_id)
    if event.get("fail"):
        raise ImageTooLarge(f"image of {event.get('size')} bytes is too large")
    return {
        "count": count,
        "event": event,
        "requestId": context.aws_request_id,
        "invokedFunctionArn": context.invoked_function_arn,
        "functionName": context.function_name,
        "memoryLimitInMB": context.memory_limit_in_mb,
        "remainingMs": context.get_remaining_time_in_millis(),
        "traceId": os.environ.get("_X_AMZN_TRACE_ID"),
    }
'''


def python3_for_functions() -> str | None:
    """The python3 a function's bootstrap finds: nimbus passes its own PATH on, and the
    suite's nimbus inherits this process's environment."""
    return shutil.which("python3")


@pytest.fixture(scope="module")
def awslambdaric_files(server) -> dict:
    """awslambdaric and its dependencies, installed from PyPI with `pip install --target`
    for the python3 functions run (cached under target/), as package entries."""
    if server is None:
        pytest.skip("needs the suite's own nimbus: the function's python3 must be this machine's")
    python = python3_for_functions()
    if not python:
        pytest.skip("python3 is not on PATH")
    tag = subprocess.run(
        [python, "-c", "import sys; print(f'{sys.implementation.cache_tag}')"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    site = FIXTURE_TARGET / f"awslambdaric-{AWSLAMBDARIC.split('==')[1]}-{tag}"
    if not (site / "awslambdaric" / "__init__.py").is_file():
        shutil.rmtree(site, ignore_errors=True)
        proc = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--target", str(site), AWSLAMBDARIC],
            capture_output=True, text=True, timeout=600,
        )
        if proc.returncode != 0:
            shutil.rmtree(site, ignore_errors=True)
            pytest.skip(f"pip could not install {AWSLAMBDARIC} for {python}:\n{proc.stderr[-2000:]}")
    files = {}
    for path in sorted(site.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[str(path.relative_to(site))] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return files


@pytest.fixture(scope="module")
def ric_function(lam, awslambdaric_files):  # noqa: F811
    def make(handler="app.handler", **kwargs):
        files = dict(awslambdaric_files)
        files["bootstrap"] = (AWSLAMBDARIC_BOOTSTRAP, 0o755)
        files["app.py"] = (PYTHON_APP, 0o644)
        return create_function(
            lam, "", Runtime="provided.al2023", Handler=handler,
            Code={"ZipFile": zip_with_modes(files)}, **kwargs,
        )

    return make


def test_awslambdaric_success_context_and_warm_invocation(lam, ric_function):  # noqa: F811
    fn = ric_function(Timeout=10)
    arn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    first = invoke(lam, fn, {"n": 1}, LogType="Tail")
    assert first["StatusCode"] == 200
    assert "FunctionError" not in first, first["Body"]
    body = json.loads(first["Body"])
    assert body["count"] == 1 and body["event"] == {"n": 1}
    assert body["requestId"] == request_id_of(first)
    assert body["invokedFunctionArn"] == arn
    assert body["functionName"] == fn and body["memoryLimitInMB"] == "128"
    assert 0 < body["remainingMs"] <= 10_000
    # AWS's runtimes set _X_AMZN_TRACE_ID from Lambda-Runtime-Trace-Id.
    assert body["traceId"].startswith("Root=1-")
    assert f"awslambdaric handler invoked {body['requestId']}" in tail_log(first)

    second = invoke(lam, fn, {"n": 2})
    assert "FunctionError" not in second, second["Body"]
    warm = json.loads(second["Body"])
    assert warm["count"] == 2 and warm["requestId"] == request_id_of(second)


def test_awslambdaric_exception_is_a_function_error(lam, ric_function):  # noqa: F811
    fn = ric_function()
    r = invoke(lam, fn, {"fail": True, "size": 7}, LogType="Tail")
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    err = json.loads(r["Body"])
    assert err["errorType"] == "ImageTooLarge"
    assert err["errorMessage"] == "image of 7 bytes is too large"
    assert isinstance(err["stackTrace"], list) and err["stackTrace"]
    assert err["requestId"] == request_id_of(r)
    # The runtime logs the error in Lambda's format: "[ERROR] Type: message".
    assert "[ERROR] ImageTooLarge: image of 7 bytes is too large" in tail_log(r)
    # The environment survives the exception.
    ok = invoke(lam, fn, {})
    assert "FunctionError" not in ok, ok["Body"]
    assert json.loads(ok["Body"])["count"] == 2


def test_awslambdaric_exception_with_a_large_xray_cause(lam, ric_function):  # noqa: F811
    """awslambdaric sends the exception's X-Ray cause in the
    Lambda-Runtime-Function-XRay-Error-Cause header, up to 1 MiB: a long message must
    still reach the caller as the function's error, not end the runtime."""
    fn = ric_function()
    r = invoke(lam, fn, {"fail": True, "size": "9" * 600_000})
    assert r["FunctionError"] == "Unhandled"
    err = json.loads(r["Body"])
    assert err["errorType"] == "ImageTooLarge", err.get("errorType")
    assert err["errorMessage"] == f"image of {'9' * 600_000} bytes is too large"
    ok = invoke(lam, fn, {})
    assert "FunctionError" not in ok, ok["Body"]
    assert json.loads(ok["Body"])["count"] == 2


def test_awslambdaric_missing_handler_module(lam, ric_function):  # noqa: F811
    fn = ric_function(handler="nothere.handler")
    r = invoke(lam, fn, {})
    assert r["FunctionError"] == "Unhandled"
    err = json.loads(r["Body"])
    assert err["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'nothere'" in err["errorMessage"]
