//! Drives `Lambda::call` as the edge would, with real Python environments.

use std::io::Write;

use base64::Engine;
use nimbus_core::RequestContext;
use nimbus_lambda::Lambda;
use nimbus_store::Durability;
use nimbus_wire::ServiceHandler;
use serde_json::{json, Value};

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

fn ctx() -> RequestContext {
    RequestContext {
        account: "000000000000".into(),
        region: "us-east-1".into(),
        access_key: "test".into(),
        request_id: nimbus_core::ids::uuid4(),
        host: "localhost".into(),
        path: "/".into(),
    }
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn unb64(s: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s.as_str().unwrap()).unwrap()
}

fn zip(files: &[(&str, &str)]) -> String {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    b64(&w.finish().unwrap().into_inner())
}

const HANDLER: &str = r#"
import os, sys, time
COUNT = 0
print("init ran")

def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("fail"):
        raise ValueError("boom")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    print("to stdout")
    print("to stderr", file=sys.stderr)
    return {
        "count": COUNT,
        "event": event,
        "request_id": context.aws_request_id,
        "name": context.function_name,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "group": context.log_group_name,
        "greeting": os.environ.get("GREETING"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "tmp": os.environ.get("TMPDIR"),
        "cwd": os.getcwd() == os.environ["LAMBDA_TASK_ROOT"],
    }
"#;

async fn create(l: &Lambda, name: &str, extra: Value) -> Value {
    let mut input = json!({
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": zip(&[("app.py", HANDLER)])},
        "Environment": {"Variables": {"GREETING": "hi"}},
    });
    if let (Value::Object(m), Value::Object(e)) = (&mut input, extra) {
        m.extend(e);
    }
    l.call(&ctx(), "CreateFunction", input).await.unwrap()
}

async fn invoke(l: &Lambda, name: &str, event: Value, tail: bool) -> (String, Value) {
    let c = ctx();
    let mut input = json!({"FunctionName": name, "Payload": b64(event.to_string().as_bytes())});
    if tail {
        input["LogType"] = json!("Tail");
    }
    (c.request_id.clone(), l.call(&c, "Invoke", input).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_and_invocation() {
    let l = Lambda::open(None, Durability::Process, "http://127.0.0.1:4566".into(), nimbus_core::targets::TargetRegistry::new()).unwrap();
    let conf = create(&l, "f1", json!({"Timeout": 2})).await;
    // Pending in the create response, Active for every later read (as on AWS).
    assert_eq!(conf["State"], "Pending");
    let got = l.call(&ctx(), "GetFunctionConfiguration", json!({"FunctionName": "f1"})).await.unwrap();
    assert_eq!(got["State"], "Active");
    assert_eq!(conf["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:f1");
    let dup = l
        .call(&ctx(), "CreateFunction", json!({"FunctionName": "f1", "Role": ROLE, "Runtime": "python3.12", "Handler": "a.b", "Code": {"ZipFile": zip(&[("a.py", "")])}}))
        .await
        .unwrap_err();
    assert_eq!((dup.status, dup.code.as_str()), (409, "ResourceConflictException"));

    // Cold, then warm: module state persists.
    let (rid, out) = invoke(&l, "f1", json!({"a": 1}), true).await;
    assert_eq!(out["StatusCode"], 200);
    assert!(out.get("FunctionError").is_none(), "{out}");
    let body: Value = serde_json::from_slice(&unb64(&out["Payload"])).unwrap();
    assert_eq!(body["count"], 1);
    assert_eq!(body["event"], json!({"a": 1}));
    assert_eq!(body["request_id"], rid.as_str());
    assert_eq!(body["name"], "f1");
    assert_eq!(body["memory"], "128");
    assert_eq!(body["greeting"], "hi");
    assert_eq!(body["endpoint"], "http://127.0.0.1:4566");
    assert_eq!(body["group"], "/aws/lambda/f1");
    assert_eq!(body["cwd"], true);
    assert!(body["remaining"].as_i64().unwrap() > 1000);
    let log = String::from_utf8(unb64(&out["LogResult"])).unwrap();
    assert!(log.contains("init ran\nSTART RequestId: "), "{log}");
    assert!(log.contains("to stdout\nto stderr\nEND RequestId: "), "{log}");
    assert!(log.contains(&format!("REPORT RequestId: {rid}\tDuration: ")), "{log}");
    assert!(log.contains("Init Duration: "), "{log}");
    let (_, out) = invoke(&l, "f1", json!({}), true).await;
    let body: Value = serde_json::from_slice(&unb64(&out["Payload"])).unwrap();
    assert_eq!(body["count"], 2);
    let log = String::from_utf8(unb64(&out["LogResult"])).unwrap();
    assert!(!log.contains("Init Duration"), "{log}");
    assert_eq!(l.idle_environments(), 1);

    // Handler exception.
    let (_, out) = invoke(&l, "f1", json!({"fail": true}), false).await;
    assert_eq!(out["FunctionError"], "Unhandled");
    let err: Value = serde_json::from_slice(&unb64(&out["Payload"])).unwrap();
    assert_eq!(err["errorType"], "ValueError");
    assert_eq!(err["errorMessage"], "boom");
    assert!(err["stackTrace"].as_array().is_some_and(|s| !s.is_empty()));

    // Timeout kills the environment; the next call is cold again.
    let (rid, out) = invoke(&l, "f1", json!({"sleep": 5}), false).await;
    assert_eq!(out["FunctionError"], "Unhandled");
    let err: Value = serde_json::from_slice(&unb64(&out["Payload"])).unwrap();
    let msg = err["errorMessage"].as_str().unwrap();
    assert!(msg.ends_with(&format!("{rid} Task timed out after 2.00 seconds")), "{msg}");
    let (_, out) = invoke(&l, "f1", json!({}), false).await;
    let body: Value = serde_json::from_slice(&unb64(&out["Payload"])).unwrap();
    assert_eq!(body["count"], 1);

    // Configuration change retires warm environments.
    let c = l
        .call(&ctx(), "UpdateFunctionConfiguration", json!({"FunctionName": "f1", "Environment": {"Variables": {"GREETING": "yo"}}}))
        .await
        .unwrap();
    assert_eq!(c["Environment"]["Variables"]["GREETING"], "yo");
    let (_, out) = invoke(&l, "f1", json!({}), false).await;
    let body: Value = serde_json::from_slice(&unb64(&out["Payload"])).unwrap();
    assert_eq!((body["greeting"].as_str(), body["count"].as_i64()), (Some("yo"), Some(1)));

    // New code.
    l.call(&ctx(), "UpdateFunctionCode", json!({"FunctionName": "f1", "ZipFile": zip(&[("app.py", "def handler(e, c):\n    return 'v2'\n")])}))
        .await
        .unwrap();
    let (_, out) = invoke(&l, "f1", json!({}), false).await;
    assert_eq!(unb64(&out["Payload"]), b"\"v2\"");

    // Event and DryRun.
    let out = l.call(&ctx(), "Invoke", json!({"FunctionName": "f1", "InvocationType": "Event"})).await.unwrap();
    assert_eq!(out["StatusCode"], 202);
    let out = l.call(&ctx(), "Invoke", json!({"FunctionName": "f1", "InvocationType": "DryRun"})).await.unwrap();
    assert_eq!(out["StatusCode"], 204);

    let list = l.call(&ctx(), "ListFunctions", json!({})).await.unwrap();
    assert_eq!(list["Functions"].as_array().unwrap().len(), 1);
    let got = l.call(&ctx(), "GetFunction", json!({"FunctionName": "f1"})).await.unwrap();
    assert_eq!(got["Configuration"]["FunctionName"], "f1");
    l.call(&ctx(), "DeleteFunction", json!({"FunctionName": "f1"})).await.unwrap();
    let e = l.call(&ctx(), "GetFunction", json!({"FunctionName": "f1"})).await.unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (404, "ResourceNotFoundException"));
    assert_eq!(e.message, "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_errors_and_bad_input() {
    let l = Lambda::open(None, Durability::Process, "http://127.0.0.1:4566".into(), nimbus_core::targets::TargetRegistry::new()).unwrap();
    let base = json!({"Role": ROLE, "Runtime": "python3.12"});
    let mk = |name: &str, handler: &str, files: &[(&str, &str)]| {
        let mut v = base.clone();
        v["FunctionName"] = json!(name);
        v["Handler"] = json!(handler);
        v["Code"] = json!({"ZipFile": zip(files)});
        v
    };
    l.call(&ctx(), "CreateFunction", mk("missing", "nope.handler", &[("app.py", "")])).await.unwrap();
    let (_, out) = invoke(&l, "missing", json!({}), false).await;
    let err: Value = serde_json::from_slice(&unb64(&out["Payload"])).unwrap();
    assert_eq!(err["errorType"], "Runtime.ImportModuleError", "{err}");
    l.call(&ctx(), "CreateFunction", mk("initfail", "app.handler", &[("app.py", "raise RuntimeError('bad init')\n")]))
        .await
        .unwrap();
    let (_, out) = invoke(&l, "initfail", json!({}), true).await;
    assert_eq!(out["FunctionError"], "Unhandled");
    let err: Value = serde_json::from_slice(&unb64(&out["Payload"])).unwrap();
    assert_eq!(err["errorType"], "Runtime.InitError", "{err}");
    assert_eq!(err["errorMessage"], "bad init");

    let mut image = mk("img", "a.b", &[("a.py", "")]);
    image["PackageType"] = json!("Image");
    let e = l.call(&ctx(), "CreateFunction", image).await.unwrap_err();
    assert_eq!(e.code, "InvalidParameterValueException");
    assert!(e.message.contains("not supported"));
    let mut bad_rt = mk("rt", "a.b", &[("a.py", "")]);
    bad_rt["Runtime"] = json!("cobol85");
    assert_eq!(l.call(&ctx(), "CreateFunction", bad_rt).await.unwrap_err().code, "InvalidParameterValueException");
    let e = l
        .call(&ctx(), "Invoke", json!({"FunctionName": "missing", "Payload": b64(b"{not json")}))
        .await
        .unwrap_err();
    assert_eq!(e.code, "InvalidRequestContentException");
    let e = l.call(&ctx(), "Invoke", json!({"FunctionName": "nope"})).await.unwrap_err();
    assert_eq!(e.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_get_their_own_environments_and_functions_persist() {
    let dir = std::env::temp_dir().join(format!("nimbus-lambda-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let l = std::sync::Arc::new(Lambda::open(Some(&dir), Durability::Process, "http://127.0.0.1:4566".into(), nimbus_core::targets::TargetRegistry::new()).unwrap());
        create(&l, "conc", json!({})).await;
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let l = l.clone();
            tasks.push(tokio::spawn(async move { invoke(&l, "conc", json!({"sleep": 0.5}), false).await }));
        }
        for t in tasks {
            let (_, out) = t.await.unwrap();
            let body: Value = serde_json::from_slice(&unb64(&out["Payload"])).unwrap();
            assert_eq!(body["count"], 1, "each concurrent call runs in a fresh environment");
        }
        assert_eq!(l.idle_environments(), 3);
        l.shutdown().await;
    }
    let l = Lambda::open(Some(&dir), Durability::Process, "http://127.0.0.1:4566".into(), nimbus_core::targets::TargetRegistry::new()).unwrap();
    assert_eq!(l.function_count(), 1);
    let (_, out) = invoke(&l, "conc", json!({}), false).await;
    let body: Value = serde_json::from_slice(&unb64(&out["Payload"])).unwrap();
    assert_eq!(body["greeting"], "hi");
    drop(l);
    let _ = std::fs::remove_dir_all(&dir);
}
