"""Lambda runtimes beyond Python, written from AWS's Lambda developer guide: Node.js
handlers (CommonJS, ES modules, async and callback styles, AWS's console log format,
error shapes) and custom runtimes on provided.al2023 — the "Building a custom runtime"
tutorial's shell-and-curl bootstrap, unmodified, which relies on bash features
(`set -o pipefail`) because Amazon Linux 2023's /bin/sh is bash."""

from __future__ import annotations

import base64
import io
import json
import shutil
import zipfile

import pytest

import nimbus_helpers as h
from lambda_helpers import ROLE, invoke, lam  # noqa: F401  (lam is a fixture)
from lambda_helpers import create as create_function

NODE_CJS = '''
let count = 0;
console.log("module init");
exports.handler = async (event, context) => {
  count += 1;
  if (event.fail) {
    class ImageTooLarge extends Error { constructor(m) { super(m); this.name = "ImageTooLarge"; } }
    throw new ImageTooLarge("too big");
  }
  console.log("hello from node", event.n);
  console.error("to stderr");
  return {
    count,
    event,
    requestId: context.awsRequestId,
    functionName: context.functionName,
    arn: context.invokedFunctionArn,
    memory: context.memoryLimitInMB,
    remaining: context.getRemainingTimeInMillis(),
    execEnv: process.env.AWS_EXECUTION_ENV,
    region: process.env.AWS_REGION,
  };
};
'''

NODE_ESM = '''
export const handler = async (event) => ({ esm: true, echo: event });
'''

NODE_CALLBACK = '''
exports.handler = function (event, context, callback) {
  setTimeout(() => callback(null, { via: "callback", n: event.n }), 10);
};
'''

# AWS's "Building a custom runtime" tutorial, verbatim.
TUTORIAL_BOOTSTRAP = '''#!/bin/sh

set -euo pipefail

# Initialization - load function handler
source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"

# Processing
while true
do
  HEADERS="$(mktemp)"
  # Get an event. The HTTP request will block until one is received
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")

  # Extract request ID by scraping response headers received above
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)

  # Run the handler function from the script
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")

  # Send the response
  curl "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response"  -d "$RESPONSE"
done
'''

TUTORIAL_FUNCTION = '''function handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2;
  RESPONSE="Echoing request: '$EVENT_DATA'"

  echo $RESPONSE
}
'''


def zip_with_modes(files: dict) -> bytes:
    """A package whose entries keep unix modes: {name: (text, mode)}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (body, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, body)
    return buf.getvalue()


@pytest.fixture(scope="module")
def node_available():
    if not shutil.which("node"):
        pytest.skip("node is not installed on this machine")


def create_node(lam, code, filename="index.js", **kw):
    return create_function(
        lam, code, Runtime="nodejs20.x", Handler="index.handler",
        Code={"ZipFile": zip_with_modes({filename: (code, 0o644)})}, **kw,
    )


def test_node_handler_cold_then_warm_with_context_and_logs(lam, node_available):
    fn = create_node(lam, NODE_CJS)
    first = invoke(lam, fn, {"n": 1}, LogType="Tail")
    assert "FunctionError" not in first, first["Body"]
    body = json.loads(first["Body"])
    assert body["count"] == 1 and body["event"] == {"n": 1}
    assert body["requestId"] == first["ResponseMetadata"]["RequestId"]
    assert body["functionName"] == fn and body["memory"] == "128"
    assert body["arn"].endswith(f":function:{fn}")
    assert 0 < body["remaining"] <= 3000
    assert body["execEnv"] == "AWS_Lambda_nodejs20.x" and body["region"] == h.REGION
    log = base64.b64decode(first["LogResult"]).decode()
    assert "module init" in log
    # Node's console format: timestamp, request id, level, message.
    assert f"\t{body['requestId']}\tINFO\thello from node 1" in log
    assert f"\t{body['requestId']}\tERROR\tto stderr" in log
    assert f"REPORT RequestId: {body['requestId']}" in log and "Init Duration" in log
    second = json.loads(invoke(lam, fn, {"n": 2})["Body"])
    assert second["count"] == 2, "a warm environment keeps module state"


def test_node_error_shape(lam, node_available):
    fn = create_node(lam, NODE_CJS)
    r = invoke(lam, fn, {"fail": True})
    assert r["FunctionError"] == "Unhandled"
    err = json.loads(r["Body"])
    assert err["errorType"] == "ImageTooLarge" and err["errorMessage"] == "too big"
    assert isinstance(err["trace"], list) and err["trace"][0].startswith("ImageTooLarge: too big")


def test_node_es_module_and_callback_handlers(lam, node_available):
    esm = create_node(lam, NODE_ESM, filename="index.mjs")
    assert json.loads(invoke(lam, esm, {"a": 1})["Body"]) == {"esm": True, "echo": {"a": 1}}
    cb = create_node(lam, NODE_CALLBACK)
    assert json.loads(invoke(lam, cb, {"n": 5})["Body"]) == {"via": "callback", "n": 5}


def test_node_missing_module_is_an_import_error(lam, node_available):
    fn = create_function(lam, NODE_ESM, Runtime="nodejs20.x", Handler="nothere.handler",
                         Code={"ZipFile": zip_with_modes({"index.mjs": (NODE_ESM, 0o644)})})
    r = invoke(lam, fn, {})
    assert r["FunctionError"] == "Unhandled"
    assert json.loads(r["Body"])["errorType"] == "Runtime.ImportModuleError"


def test_aws_tutorial_shell_bootstrap_runs_unmodified(lam):
    if not shutil.which("curl"):
        pytest.skip("curl is not installed on this machine")
    package = zip_with_modes({"bootstrap": (TUTORIAL_BOOTSTRAP, 0o755), "function.sh": (TUTORIAL_FUNCTION, 0o755)})
    fn = create_function(lam, "", Runtime="provided.al2023", Handler="function.handler", Code={"ZipFile": package})
    r = invoke(lam, fn, {"text": "Hello"}, LogType="Tail")
    assert "FunctionError" not in r, r["Body"]
    assert r["Body"].decode() == "Echoing request: '{\"text\": \"Hello\"}'"
    log = base64.b64decode(r["LogResult"]).decode()
    assert '{"text": "Hello"}' in log, log  # the handler's stderr reaches the log
    # Warm: the same bootstrap loop serves the next event.
    assert invoke(lam, fn, {"text": "again"})["Body"].decode() == "Echoing request: '{\"text\": \"again\"}'"


def test_provided_without_bootstrap_is_an_invalid_entrypoint(lam):
    fn = create_function(lam, "", Runtime="provided.al2", Handler="x",
                         Code={"ZipFile": zip_with_modes({"handler.sh": ("echo", 0o755)})})
    r = invoke(lam, fn, {})
    assert r["FunctionError"] == "Unhandled"
    err = json.loads(r["Body"])
    assert err["errorType"] == "Runtime.InvalidEntrypoint"
    assert "Couldn't find valid bootstrap(s)" in err["errorMessage"]


def test_runtimes_nimbus_cannot_run_are_refused_clearly(lam):
    err = h.expect_client_error(
        lambda: create_function(lam, "x", Runtime="java21", Handler="example.Handler::handleRequest"),
        "InvalidParameterValueException",
    )
    assert "not supported by nimbus" in err.response["Error"]["Message"]
