"""Lambda versions and aliases, written from AWS's developer guide ("Lambda function
versions", "Lambda function aliases", weighted aliases): immutable published versions,
qualifiers on invoke and configuration calls, aliases with routing weights, and the
errors for each mistake."""

from __future__ import annotations

import json

import nimbus_helpers as h
from lambda_helpers import create, invoke, lam, make_zip  # noqa: F401  (lam is a fixture)

CODE = '''
import os
def handler(event, context):
    return {"code": "%s", "version": context.function_version,
            "env_version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"], "arn": context.invoked_function_arn}
'''


def code(tag):
    return CODE % tag


def test_publish_versions_and_invoke_them(lam):
    fn = create(lam, code("v1"))
    v1 = lam.publish_version(FunctionName=fn, Description="first")
    assert v1["Version"] == "1" and v1["Description"] == "first"
    assert v1["FunctionArn"].endswith(f":function:{fn}:1")
    # Nothing changed: PublishVersion returns the newest version instead of a new one.
    assert lam.publish_version(FunctionName=fn)["Version"] == "1"
    lam.update_function_code(FunctionName=fn, ZipFile=make_zip({"app.py": code("v2")}))
    latest_sha = lam.get_function_configuration(FunctionName=fn)["CodeSha256"]
    h.expect_client_error(lambda: lam.publish_version(FunctionName=fn, CodeSha256="nope"), "InvalidParameterValueException")
    v2 = lam.publish_version(FunctionName=fn, CodeSha256=latest_sha)
    assert v2["Version"] == "2"
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]]
    assert versions == ["$LATEST", "1", "2"]

    r = invoke(lam, fn, {}, Qualifier="1")
    body = json.loads(r["Body"])
    assert r["ExecutedVersion"] == "1"
    assert body == {"code": "v1", "version": "1", "env_version": "1", "arn": v1["FunctionArn"]}
    assert json.loads(invoke(lam, f"{fn}:2", {})["Body"])["code"] == "v2"
    unqualified = invoke(lam, fn, {})
    assert unqualified["ExecutedVersion"] == "$LATEST"
    assert json.loads(unqualified["Body"])["arn"].endswith(f":function:{fn}")
    conf = lam.get_function_configuration(FunctionName=fn, Qualifier="1")
    assert conf["Version"] == "1" and conf["Description"] == "first"
    h.expect_client_error(lambda: invoke(lam, fn, {}, Qualifier="9"), "ResourceNotFoundException", status=404)


def test_publish_on_create_and_update(lam):
    fn = create(lam, code("a"), Publish=True)
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]] == ["$LATEST", "1"]
    out = lam.update_function_code(FunctionName=fn, ZipFile=make_zip({"app.py": code("b")}), Publish=True)
    assert out["Version"] == "2"


def test_aliases_route_invocations(lam):
    fn = create(lam, code("one"))
    lam.publish_version(FunctionName=fn)
    lam.update_function_code(FunctionName=fn, ZipFile=make_zip({"app.py": code("two")}))
    lam.publish_version(FunctionName=fn)

    alias = lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1", Description="prod")
    assert alias["AliasArn"].endswith(f":function:{fn}:live") and alias["FunctionVersion"] == "1"
    r = invoke(lam, fn, {}, Qualifier="live")
    assert r["ExecutedVersion"] == "1"
    body = json.loads(r["Body"])
    assert body["code"] == "one" and body["arn"] == alias["AliasArn"]

    updated = lam.update_alias(FunctionName=fn, Name="live", FunctionVersion="2")
    assert updated["FunctionVersion"] == "2" and updated["RevisionId"] != alias["RevisionId"]
    assert json.loads(invoke(lam, f"{fn}:live", {})["Body"])["code"] == "two"

    # All traffic weighted to the additional version.
    lam.update_alias(FunctionName=fn, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}})
    got = lam.get_alias(FunctionName=fn, Name="live")
    assert got["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 1.0}}
    assert {invoke(lam, fn, {}, Qualifier="live")["ExecutedVersion"] for _ in range(3)} == {"2"}

    names = [a["Name"] for a in lam.list_aliases(FunctionName=fn)["Aliases"]]
    assert names == ["live"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=fn, FunctionVersion="2")["Aliases"]] == ["live"]

    # A version an alias uses cannot be deleted.
    h.expect_client_error(lambda: lam.delete_function(FunctionName=fn, Qualifier="2"), "ResourceConflictException", status=409)
    lam.delete_alias(FunctionName=fn, Name="live")
    h.expect_client_error(lambda: lam.get_alias(FunctionName=fn, Name="live"), "ResourceNotFoundException", status=404)
    lam.delete_function(FunctionName=fn, Qualifier="2")
    h.expect_client_error(lambda: lam.get_function_configuration(FunctionName=fn, Qualifier="2"), "ResourceNotFoundException")
    h.expect_client_error(lambda: lam.delete_function(FunctionName=fn, Qualifier="$LATEST"), "InvalidParameterValueException")


def test_alias_errors(lam):
    fn = create(lam, code("x"))
    lam.publish_version(FunctionName=fn)
    h.expect_client_error(lambda: lam.create_alias(FunctionName=fn, Name="a", FunctionVersion="7"), "ResourceNotFoundException")
    lam.create_alias(FunctionName=fn, Name="a", FunctionVersion="1")
    h.expect_client_error(lambda: lam.create_alias(FunctionName=fn, Name="a", FunctionVersion="1"), "ResourceConflictException")
    h.expect_client_error(
        lambda: lam.create_alias(FunctionName=fn, Name="b", FunctionVersion="$LATEST",
                                 RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}}),
        "InvalidParameterValueException",
    )
    h.expect_client_error(lambda: lam.create_alias(FunctionName=fn, Name="123", FunctionVersion="1"), "ValidationException")
    h.expect_client_error(
        lambda: lam.update_alias(FunctionName=fn, Name="a", RevisionId="stale"), "PreconditionFailedException", status=412
    )


def test_policies_and_event_invoke_configs_are_per_qualifier(lam):
    fn = create(lam, code("q"))
    lam.publish_version(FunctionName=fn)
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    lam.put_function_event_invoke_config(FunctionName=fn, Qualifier="live", MaximumRetryAttempts=0)
    lam.put_function_event_invoke_config(FunctionName=fn, MaximumRetryAttempts=2)
    live = lam.get_function_event_invoke_config(FunctionName=fn, Qualifier="live")
    assert live["MaximumRetryAttempts"] == 0 and live["FunctionArn"].endswith(":live")
    assert lam.get_function_event_invoke_config(FunctionName=fn)["MaximumRetryAttempts"] == 2
    h.expect_client_error(lambda: lam.get_function_event_invoke_config(FunctionName=fn, Qualifier="1"),
                          "ResourceNotFoundException")
    arns = sorted(c["FunctionArn"].rsplit(":", 1)[1]
                  for c in lam.list_function_event_invoke_configs(FunctionName=fn)["FunctionEventInvokeConfigs"])
    assert arns == ["$LATEST", "live"]

    out = lam.add_permission(FunctionName=fn, Qualifier="live", StatementId="s", Action="lambda:InvokeFunction",
                             Principal="s3.amazonaws.com")
    assert json.loads(out["Statement"])["Resource"].endswith(f":function:{fn}:live")
    policy = json.loads(lam.get_policy(FunctionName=fn, Qualifier="live")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["s"]
    h.expect_client_error(lambda: lam.get_policy(FunctionName=fn), "ResourceNotFoundException")
    # The same statement id may exist once per qualifier.
    lam.add_permission(FunctionName=fn, StatementId="s", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com")
    lam.remove_permission(FunctionName=fn, Qualifier="live", StatementId="s")
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=fn)["Policy"])["Statement"]] == ["s"]
