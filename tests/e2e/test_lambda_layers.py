"""Lambda layers, written from AWS's developer guide ("Managing Lambda dependencies with
layers", "Layer paths for each Lambda runtime"): publishing versions, listing, using a
layer's Python package and Node.js module from a function, a custom runtime's bootstrap
from a layer, and the errors for each mistake."""

from __future__ import annotations

import json
import shutil

import pytest

import nimbus_helpers as h
from lambda_helpers import create, invoke, lam, make_zip  # noqa: F401  (lam is a fixture)
from test_lambda_runtimes import zip_with_modes


def publish(lam, name, files, runtimes=("python3.12",)):
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": make_zip(files)},
                                     CompatibleRuntimes=list(runtimes), Description=f"{name} layer")


def test_publish_get_list_delete(lam):
    name = "deps-" + h.new_name("l")[-8:]
    v1 = publish(lam, name, {"python/greet.py": "HELLO = 'one'\n"})
    assert v1["Version"] == 1
    assert v1["LayerArn"].endswith(f":layer:{name}") and v1["LayerVersionArn"] == v1["LayerArn"] + ":1"
    assert v1["Content"]["CodeSize"] > 0 and v1["Content"]["CodeSha256"]
    v2 = publish(lam, name, {"python/greet.py": "HELLO = 'two'\n"})
    assert v2["Version"] == 2
    assert lam.get_layer_version(LayerName=name, VersionNumber=1)["Description"] == f"{name} layer"
    assert lam.get_layer_version_by_arn(Arn=v2["LayerVersionArn"])["Version"] == 2
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name)["LayerVersions"]] == [2, 1]
    listed = {l["LayerName"]: l for l in lam.list_layers()["Layers"]}
    assert listed[name]["LatestMatchingVersion"]["Version"] == 2
    lam.delete_layer_version(LayerName=name, VersionNumber=1)
    h.expect_client_error(lambda: lam.get_layer_version(LayerName=name, VersionNumber=1), "ResourceNotFoundException", status=404)
    # Numbers are never reused.
    assert publish(lam, name, {"python/greet.py": "x = 1\n"})["Version"] == 3


def test_python_function_imports_from_its_layers(lam):
    base = h.new_name("l")[-8:]
    first = publish(lam, "a-" + base, {"python/greet.py": "HELLO = 'from layer a'\n", "python/only_a.py": "A = 1\n"})
    second = publish(lam, "b-" + base, {"python/lib/python3.12/site-packages/greet.py": "HELLO = 'from layer b'\n"})
    code = "import greet, only_a\ndef handler(e, c):\n    return {'hello': greet.HELLO, 'a': only_a.A}\n"
    fn = create(lam, code, Layers=[first["LayerVersionArn"], second["LayerVersionArn"]])
    conf = lam.get_function_configuration(FunctionName=fn)
    assert [l["Arn"] for l in conf["Layers"]] == [first["LayerVersionArn"], second["LayerVersionArn"]]
    # The later layer wins where both provide a module, as /opt is merged in order.
    assert json.loads(invoke(lam, fn, {})["Body"]) == {"hello": "from layer b", "a": 1}
    lam.update_function_configuration(FunctionName=fn, Layers=[first["LayerVersionArn"]])
    assert json.loads(invoke(lam, fn, {})["Body"])["hello"] == "from layer a"


def test_node_function_requires_from_a_layer(lam):
    if not shutil.which("node"):
        pytest.skip("node is not installed")
    layer = publish(lam, "nodedeps-" + h.new_name("l")[-8:],
                    {"nodejs/node_modules/shout/index.js": "module.exports = (s) => s.toUpperCase();\n"},
                    runtimes=("nodejs20.x",))
    code = "const shout = require('shout');\nexports.handler = async (e) => shout(e.text);\n"
    fn = create(lam, code, Runtime="nodejs20.x", Handler="index.handler",
                Code={"ZipFile": make_zip({"index.js": code})}, Layers=[layer["LayerVersionArn"]])
    assert json.loads(invoke(lam, fn, {"text": "hi"})["Body"]) == "HI"


def test_custom_runtime_bootstrap_from_a_layer(lam):
    bootstrap = '''#!/bin/bash
set -euo pipefail
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/response" -d '"from the layer runtime"' >/dev/null
done
'''
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    layer = lam.publish_layer_version(LayerName="rt-" + h.new_name("l")[-8:],
                                      Content={"ZipFile": zip_with_modes({"bootstrap": (bootstrap, 0o755)})},
                                      CompatibleRuntimes=["provided.al2023"])
    fn = create(lam, "", Runtime="provided.al2023", Handler="x",
                Code={"ZipFile": zip_with_modes({"README": ("no bootstrap here", 0o644)})},
                Layers=[layer["LayerVersionArn"]])
    assert json.loads(invoke(lam, fn, {})["Body"]) == "from the layer runtime"


def test_layer_errors(lam):
    h.expect_client_error(lambda: lam.get_layer_version(LayerName="nope-never", VersionNumber=1), "ResourceNotFoundException")
    missing = "arn:aws:lambda:us-east-1:000000000000:layer:nope-never:3"
    h.expect_client_error(lambda: create(lam, "def handler(e, c): pass\n", Layers=[missing]), "InvalidParameterValueException")
    h.expect_client_error(
        lambda: lam.publish_layer_version(LayerName="bad name", Content={"ZipFile": make_zip({"a": "b"})}),
        "ValidationException",
    )
