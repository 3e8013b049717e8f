"""Lambda helpers shared by the Lambda test modules: zip packages, function creation,
invocation, and the `lam` client fixture."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest
import requests

import nimbus_helpers as h

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def make_zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()


@pytest.fixture(scope="module")
def lam(endpoint):
    try:
        services = requests.get(f"{endpoint}/_nimbus/health", timeout=5).json().get("services", [])
    except Exception:
        services = []
    if "lambda" not in services:
        pytest.skip("this nimbus does not serve Lambda yet")
    return h.make_client(endpoint, service="lambda")


def create(lam, code, **kwargs):
    name = kwargs.pop("FunctionName", None) or "fn-" + uuid.uuid4().hex[:12]
    params = dict(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
    )
    params.update(kwargs)
    lam.create_function(**params)
    return name


def invoke(lam, name, event=None, **kwargs):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}), **kwargs)
    resp["Body"] = resp["Payload"].read()
    return resp


