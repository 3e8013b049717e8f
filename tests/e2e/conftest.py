"""Fixtures for the nimbus end-to-end suite.

A session-wide `nimbus serve` is started on a free port with a fresh data
directory; tests that need servers of their own (restart, crash, strict auth)
use `nimbus_factory`.

Set NIMBUS_ENDPOINT=http://host:port to run the protocol tests against an
already running server instead (tests that start their own servers are then
skipped).  NIMBUS_BIN overrides the binary (default target/release/nimbus).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid

import pytest

import nimbus_helpers as h

EXTERNAL = os.environ.get("NIMBUS_ENDPOINT")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes tens of seconds (retention expiry, crash tests)")
    config.addinivalue_line("markers", "own_server: starts nimbus processes of its own")


@pytest.fixture(scope="session")
def server():
    if EXTERNAL:
        yield None
        return
    binary = h.nimbus_bin()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        pytest.exit(
            f"nimbus binary not found at {binary}. Build it first (`cargo build --release`) "
            f"or set NIMBUS_BIN.",
            returncode=2,
        )
    srv = h.NimbusServer()
    try:
        srv.start(timeout=10)
    except RuntimeError as exc:
        pytest.exit(f"could not start nimbus: {exc}", returncode=2)
    yield srv
    try:
        code = srv.stop()
        assert code == 0, f"nimbus exited with {code} on SIGTERM\n{srv.stderr()[-4000:]}"
    finally:
        srv.cleanup()
        shutil.rmtree(srv.workdir, ignore_errors=True)


@pytest.fixture
def local_server(server):
    """The session server process itself (skipped against NIMBUS_ENDPOINT)."""
    if server is None:
        pytest.skip("needs the nimbus process started by this suite")
    return server


@pytest.fixture(scope="session")
def endpoint(server):
    return EXTERNAL.rstrip("/") if EXTERNAL else server.endpoint


@pytest.fixture(scope="session")
def account():
    return os.environ.get("NIMBUS_ACCOUNT", h.DEFAULT_ACCOUNT)


@pytest.fixture(scope="session")
def sqs(endpoint):
    return h.make_client(endpoint)


@pytest.fixture(scope="session")
def client_factory(endpoint):
    def make(region=h.REGION, key="test", secret="test", **config):
        return h.make_client(endpoint, region=region, key=key, secret=secret, **config)

    return make


@pytest.fixture
def name():
    """A fresh unique queue name."""
    return h.new_name()


@pytest.fixture(scope="session")
def make_queue(sqs):
    """Create a queue with a unique name; returns its URL."""

    def make(prefix="q", fifo=False, attributes=None, tags=None, client=None, name=None):
        c = client or sqs
        qname = name or h.new_name(prefix, fifo=fifo)
        attrs = dict(attributes or {})
        if fifo:
            attrs.setdefault("FifoQueue", "true")
        kwargs = {"QueueName": qname}
        if attrs:
            kwargs["Attributes"] = attrs
        if tags:
            kwargs["tags"] = tags
        return c.create_queue(**kwargs)["QueueUrl"]

    return make


@pytest.fixture(scope="session")
def queue_arn(sqs):
    def arn(url, client=None):
        return (client or sqs).get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    return arn


@pytest.fixture(scope="session")
def query(endpoint):
    """query(action, params, region=..., ...) -> QueryResult (status, root, helpers)."""

    def call(action, params=None, **kwargs):
        return h.query_request(endpoint, action, params, **kwargs)

    return call


@pytest.fixture(scope="session")
def json_call(endpoint):
    def call(operation, body=None, **kwargs):
        return h.json_request(endpoint, operation, body, **kwargs)

    return call


def _aws_executable():
    found = h.aws_executable()
    if not found:
        pytest.skip("the aws CLI is not installed in this environment")
    return found


@pytest.fixture(scope="session")
def aws_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("awscli-home")
    env = dict(os.environ)
    for var in list(env):
        if var.startswith("AWS_"):
            env.pop(var)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION=h.REGION,
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
        HOME=str(home),
    )
    return env


@pytest.fixture(scope="session")
def aws_cli(endpoint, aws_env):
    """aws_cli('sqs', 'create-queue', '--queue-name', 'x') -> (returncode, parsed json or None, stderr)."""
    exe = _aws_executable()

    def run(*args, check=True, endpoint_url=True, env=None, timeout=60):
        cmd = [exe, *args, "--output", "json"]
        if endpoint_url:
            cmd += ["--endpoint-url", endpoint]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env or aws_env, timeout=timeout)
        out = proc.stdout.strip()
        parsed = json.loads(out) if out else None
        if check:
            assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}"
        return proc.returncode, parsed, proc.stderr

    return run


@pytest.fixture
def nimbus_factory():
    """start(args=(...), data_dir=None, port=None) -> a running NimbusServer.
    Every server started here is killed at the end of the test."""
    if EXTERNAL:
        pytest.skip("starts its own nimbus processes (NIMBUS_ENDPOINT is set)")
    started = []

    def start(args=(), data_dir=None, port=None, env=None, timeout=10.0):
        srv = h.NimbusServer(data_dir=data_dir, args=args, port=port, env=env)
        started.append(srv)
        srv.start(timeout=timeout)
        return srv

    yield start
    for srv in started:
        srv.cleanup()
        shutil.rmtree(srv.workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def s3(endpoint):
    """A boto3 S3 client on the test server (SigV4, path-style addressing)."""
    from test_s3_basics import s3_client

    return s3_client(endpoint)


@pytest.fixture
def bucket(s3):
    """A fresh bucket with a unique name."""
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """A server of the module's own with `--auth strict` (unsigned requests are anonymous)."""
    if os.environ.get("NIMBUS_ENDPOINT"):
        pytest.skip("starts its own nimbus processes")
    srv = h.NimbusServer(data_dir=tmp_path_factory.mktemp("strict"), args=["--auth", "strict"])
    srv.start()
    yield srv
    srv.cleanup()


@pytest.fixture
def public_bucket(s3):
    """A fresh bucket that may be made public: no public access block, ACLs enabled."""
    name = f"w-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=name)
    return name
