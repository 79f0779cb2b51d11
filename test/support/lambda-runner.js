// Runs one deployed Lambda bundle the way the Node.js runtime does, in this (child) process: load
// $LAMBDA_TASK_ROOT/index.js once (a cold start), then invoke the handler named by $_HANDLER with each event in
// turn (warm invocations), each with a Lambda-shaped context. Plain CommonJS, no build step, so it runs on any
// Node binary; test/integration/lambda-runtime.test.ts runs it on the Node 24 that Lambda's nodejs24.x runs.
//   node lambda-runner.js EVENTS.json OUT.json
// OUT.json: { node: process.version, results: [{ ok: true, value } | { ok: false, error: { name, message } }] }
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { randomUUID } = require('node:crypto');

const [eventsFile, outFile] = process.argv.slice(2);
const root = process.env.LAMBDA_TASK_ROOT;
const [file, exportName] = process.env._HANDLER.split('.');
const events = JSON.parse(fs.readFileSync(eventsFile, 'utf8'));

function context() {
  const deadline = Date.now() + Number(process.env.MOVIEREC_TEST_TIMEOUT_MS || 60000);
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
  return {
    functionName: name,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${name}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: randomUUID(),
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

async function main() {
  const mod = require(path.join(root, file));
  const handler = mod[exportName];
  if (typeof handler !== 'function') throw new Error(`${file}.js exports no function "${exportName}"`);
  const results = [];
  for (const event of events) {
    try {
      results.push({ ok: true, value: await handler(event, context()) });
    } catch (e) {
      results.push({ ok: false, error: { name: e && e.name, message: e && e.message } });
    }
  }
  fs.writeFileSync(outFile, JSON.stringify({ node: process.version, results }));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  },
);
