'use strict';
// nimbus's Node.js runtime: runs a Lambda handler against the Lambda Runtime API.
//
// Standard library only. nimbus starts one of these per execution environment with
// AWS's environment variables (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, ...)
// and the function's code directory as the working directory. Handlers may be async
// functions, return promises, or take a callback; modules may be CommonJS or ES.

const fs = require('fs');
const http = require('http');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');

const API_PREFIX = '/2018-06-01/runtime';
// Written to stdout after each invocation so nimbus knows the invocation's output is
// complete (stdout and stderr share one pipe).
const END_MARKER = '\x1eNIMBUS-END:';

const [apiHost, apiPort] = (process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001').split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let currentRequestId;

function request(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: apiHost, port: Number(apiPort), method, path: API_PREFIX + p, agent, headers: headers || {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function post(p, payload, errorType) {
  const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) };
  if (errorType) headers['Lambda-Runtime-Function-Error-Type'] = errorType;
  return request('POST', p, payload, headers);
}

// console.* write AWS's text log format: timestamp, request id, level, message.
function patchConsole() {
  const write = (level) => (...args) => {
    const line = `${new Date().toISOString()}\t${currentRequestId || 'undefined'}\t${level}\t${util.format(...args)}`;
    process.stdout.write(line.replace(/\n/g, '\r') + '\n');
  };
  console.log = write('INFO');
  console.info = write('INFO');
  console.warn = write('WARN');
  console.error = write('ERROR');
  console.debug = write('DEBUG');
  console.trace = write('TRACE');
}

class HandlerError extends Error {
  constructor(errorType, message) {
    super(message);
    this.errorType = errorType;
  }
}

async function loadHandler(spec) {
  const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const dot = spec.lastIndexOf('.');
  if (dot <= 0 || dot === spec.length - 1) {
    throw new HandlerError('Runtime.MalformedHandlerName', `Bad handler ${spec}`);
  }
  const modulePath = spec.slice(0, dot);
  const name = spec.slice(dot + 1);
  const file = ['.js', '.mjs', '.cjs']
    .map((ext) => path.resolve(taskRoot, modulePath + ext))
    .find((f) => fs.existsSync(f));
  if (!file) {
    throw new HandlerError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${modulePath}'\nRequire stack:\n- /var/runtime/index.mjs`,
    );
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    if (e instanceof SyntaxError) throw new HandlerError('Runtime.UserCodeSyntaxError', `${e.name}: ${e.message}`);
    if (e && e.code === 'ERR_MODULE_NOT_FOUND') throw new HandlerError('Runtime.ImportModuleError', `Error: ${e.message}`);
    throw e;
  }
  let fn = mod[name];
  if (fn === undefined && mod.default) fn = mod.default[name];
  if (typeof fn !== 'function') {
    throw new HandlerError('Runtime.HandlerNotFound', `${modulePath}.${name} is undefined or not exported`);
  }
  return fn;
}

function errorBody(err, errorType) {
  if (!(err instanceof Error)) {
    return { errorType: errorType || 'Error', errorMessage: typeof err === 'string' ? err : JSON.stringify(err), trace: [] };
  }
  return {
    errorType: errorType || err.errorType || err.name || 'Error',
    errorMessage: err.message,
    trace: (err.stack || '').split('\n'),
  };
}

function logError(body, requestId) {
  const line = `${new Date().toISOString()}\t${requestId || 'undefined'}\tERROR\t${JSON.stringify(body)}`;
  process.stdout.write(line + '\n');
}

function endInvocation(id) {
  return new Promise((resolve) => process.stdout.write(END_MARKER + id + '\n', resolve));
}

function makeContext(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  const parse = (h) => {
    try {
      return h ? JSON.parse(h) : undefined;
    } catch (_) {
      return undefined;
    }
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parse(headers['lambda-runtime-cognito-identity']),
    clientContext: parse(headers['lambda-runtime-client-context']),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

// Runs the handler whichever way it finishes: a returned promise, a callback, or
// (for a function that takes no callback) a plain return value.
function runHandler(fn, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err, value) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err);
      else resolve(value);
    };
    context.done = settle;
    context.succeed = (v) => settle(null, v);
    context.fail = (e) => settle(e === undefined ? new Error('handled') : e);
    try {
      const out = fn(event, context, settle);
      if (out && typeof out.then === 'function') out.then((v) => settle(null, v), (e) => settle(e === undefined ? new Error('rejected') : e));
      else if (fn.length < 3) settle(null, out);
    } catch (e) {
      settle(e);
    }
  });
}

async function main() {
  patchConsole();
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || '');
  } catch (e) {
    const body = errorBody(e, e instanceof HandlerError ? e.errorType : 'Runtime.UserCodeSyntaxError');
    if (!(e instanceof HandlerError) && !(e instanceof SyntaxError)) body.errorType = e.name || 'Error';
    logError(body);
    await endInvocation('init');
    await post('/init/error', JSON.stringify(body), body.errorType).catch(() => {});
    process.exit(1);
  }
  await endInvocation('init');

  for (;;) {
    let next;
    try {
      next = await request('GET', '/invocation/next');
    } catch (_) {
      return; // nimbus went away
    }
    if (next.status !== 200) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const requestId = next.headers['lambda-runtime-aws-request-id'];
    currentRequestId = requestId;
    if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
    const context = makeContext(next.headers);
    let result;
    try {
      const event = next.body.length ? JSON.parse(next.body.toString('utf8')) : {};
      result = await runHandler(handler, event, context);
    } catch (e) {
      const body = errorBody(e);
      logError(body, requestId);
      await endInvocation(requestId);
      await post(`/invocation/${requestId}/error`, JSON.stringify(body), body.errorType).catch(() => {});
      continue;
    }
    let payload;
    try {
      payload = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      const body = { errorType: 'Runtime.MarshalError', errorMessage: `Unable to stringify response body: ${e.message}`, trace: [] };
      logError(body, requestId);
      await endInvocation(requestId);
      await post(`/invocation/${requestId}/error`, JSON.stringify(body), body.errorType).catch(() => {});
      continue;
    }
    await endInvocation(requestId);
    await post(`/invocation/${requestId}/response`, payload).catch(() => {});
  }
}

main();
