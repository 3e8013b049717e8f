"""nimbus's Python runtime: runs a Lambda handler against the Lambda Runtime API.

Standard library only. nimbus starts one of these per execution environment with
AWS's environment variables (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, ...)
and the function's code directory as the working directory.
"""

import importlib
import json
import logging
import os
import socket
import sys
import time

API_PREFIX = "/2018-06-01/runtime"
# Written to stdout after each invocation so nimbus knows the invocation's output
# is complete (stdout and stderr share one pipe).
END_MARKER = "\x1eNIMBUS-END:"


class CognitoIdentity:
    def __init__(self, identity):
        identity = identity or {}
        self.cognito_identity_id = identity.get("cognitoIdentityId")
        self.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")


class Client:
    def __init__(self, client):
        client = client or {}
        self.installation_id = client.get("installation_id")
        self.app_title = client.get("app_title")
        self.app_version_name = client.get("app_version_name")
        self.app_version_code = client.get("app_version_code")
        self.app_package_name = client.get("app_package_name")


class ClientContext:
    def __init__(self, ctx):
        self.client = Client(ctx.get("client")) if ctx.get("client") else None
        self.custom = ctx.get("custom")
        self.env = ctx.get("env")


class LambdaContext:
    def __init__(self, request_id, deadline_ms, invoked_arn, identity, client_context):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = CognitoIdentity(identity) if identity else None
        self.client_context = ClientContext(client_context) if client_context else None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def __repr__(self):
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},identity={self.identity}])"
        )


class RequestIdFilter(logging.Filter):
    request_id = None

    def filter(self, record):
        record.aws_request_id = RequestIdFilter.request_id
        return True


def setup_logging():
    handler = logging.StreamHandler(sys.stdout)
    fmt = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S",
    )
    fmt.converter = time.gmtime
    handler.setFormatter(fmt)
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


class Response:
    """The part of an HTTP response the runtime needs."""

    def __init__(self, status, headers):
        self.status = status
        self._headers = headers

    def getheader(self, name, default=None):
        return self._headers.get(name.lower(), default)


class RuntimeApi:
    """A minimal keep-alive HTTP/1.1 client for the Runtime API on loopback.

    http.client would do, but importing it (and the email package it pulls in) costs
    ~30 ms of every cold start; the Runtime API's responses always carry a
    Content-Length, which is all this client reads.
    """

    def __init__(self, address):
        host, _, port = address.partition(":")
        self.host = host
        self.port = int(port or 80)
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = socket.create_connection((self.host, self.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _read_until(self, marker):
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the Runtime API closed the connection")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _read_exactly(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("the Runtime API closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def request(self, method, path, body=None, headers=None):
        body = body or b""
        lines = [f"{method} {API_PREFIX}{path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Content-Length: {len(body)}"]
        lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self._connect()
                self.sock.sendall(raw)
                head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
                status = int(head[0].split(" ", 2)[1])
                fields = {}
                for line in head[1:]:
                    name, _, value = line.partition(":")
                    fields[name.strip().lower()] = value.strip()
                data = self._read_exactly(int(fields.get("content-length", "0")))
                if fields.get("connection", "").lower() == "close":
                    self.sock.close()
                    self.sock = None
                return Response(status, fields), data
            except (ConnectionError, OSError, ValueError, IndexError):
                if self.sock is not None:
                    self.sock.close()
                self.sock = None
                if attempt == 1:
                    raise ConnectionError("cannot reach the Runtime API")
        raise RuntimeError("unreachable")

    def next(self):
        return self.request("GET", "/invocation/next")

    def post(self, path, payload, error_type=None):
        headers = {"Content-Type": "application/json"}
        if error_type:
            headers["Lambda-Runtime-Function-Error-Type"] = error_type
        return self.request("POST", path, body=payload, headers=headers)


def error_body(exc, error_type=None, request_id=None):
    import traceback  # only on the error path: it costs ~5 ms of every cold start

    tb = traceback.extract_tb(exc.__traceback__)
    body = {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(tb),
    }
    if request_id:
        body["requestId"] = request_id
    return body


def log_error(body):
    lines = [f"[ERROR] {body['errorType']}: {body['errorMessage']}"]
    if body.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(s.rstrip("\n") for s in body["stackTrace"])
    sys.stdout.write("\r".join(lines) + "\n")


def end_invocation(request_id):
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os.write(1, (END_MARKER + request_id + "\n").encode())


def load_handler(spec):
    module_path, _, func_name = spec.rpartition(".")
    if not module_path or not func_name:
        raise HandlerError(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)",
        )
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise HandlerError("Runtime.ImportModuleError", f"Unable to import module '{module_path}': {e}") from e
    except SyntaxError as e:
        raise HandlerError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_path}': {e}",
        ) from e
    try:
        return getattr(module, func_name)
    except AttributeError:
        raise HandlerError(
            "Runtime.HandlerNotFound",
            f"Handler '{func_name}' missing on module '{module_path}'",
        ) from None


class HandlerError(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def main():
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    setup_logging()

    init_error = None
    handler = None
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except HandlerError as e:
        init_error = {"errorMessage": str(e), "errorType": e.error_type, "stackTrace": []}
    except Exception as e:  # module-level code raised
        init_error = error_body(e, error_type="Runtime.InitError")
    if init_error is not None:
        log_error(init_error)
        end_invocation("init")
        api.post("/init/error", json.dumps(init_error).encode(), init_error["errorType"])
        sys.exit(1)
    end_invocation("init")

    while True:
        try:
            resp, payload = api.next()
        except (ConnectionError, OSError):
            return  # nimbus went away
        if resp.status != 200:
            time.sleep(0.05)
            continue
        request_id = resp.getheader("Lambda-Runtime-Aws-Request-Id", "")
        deadline = int(resp.getheader("Lambda-Runtime-Deadline-Ms", "0") or 0)
        arn = resp.getheader("Lambda-Runtime-Invoked-Function-Arn", "")
        trace = resp.getheader("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        client_context = _json_header(resp, "Lambda-Runtime-Client-Context")
        identity = _json_header(resp, "Lambda-Runtime-Cognito-Identity")
        RequestIdFilter.request_id = request_id
        context = LambdaContext(request_id, deadline, arn, identity, client_context)
        try:
            event = json.loads(payload) if payload else {}
            result = handler(event, context)
        except Exception as e:
            body = error_body(e, request_id=request_id)
            log_error(body)
            end_invocation(request_id)
            api.post(f"/invocation/{request_id}/error", json.dumps(body).encode(), body["errorType"])
            continue
        try:
            out = json.dumps(result).encode()
        except Exception as e:
            body = {
                "errorMessage": f"Unable to marshal response: {e}",
                "errorType": "Runtime.MarshalError",
                "requestId": request_id,
                "stackTrace": [],
            }
            log_error(body)
            end_invocation(request_id)
            api.post(f"/invocation/{request_id}/error", json.dumps(body).encode(), body["errorType"])
            continue
        end_invocation(request_id)
        api.post(f"/invocation/{request_id}/response", out)


def _json_header(resp, name):
    raw = resp.getheader(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


if __name__ == "__main__":
    main()
