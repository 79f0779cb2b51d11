// Cold-start child (plain CommonJS, no bundling step of its own): a fresh Node process loads one Lambda
// bundle and answers one event, then prints one JSON line with the milliseconds since the process began.
//   node bench/lib/cold-child.js BUNDLE.js EVENT.json
'use strict';
const { readFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');

const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  functionName: 'bench',
  awsRequestId: 'cold-1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
  functionVersion: '1',
  memoryLimitInMB: '1024',
  getRemainingTimeInMillis: () => 30000,
};
const started = performance.now(); // ms since this process's time origin (node boot)
const mod = require(bundle);
const loaded = performance.now();
Promise.resolve(mod.handler(event, context)).then(
  (res) => {
    const answered = performance.now();
    const status = res && typeof res === 'object' && 'statusCode' in res ? res.statusCode : 'ok';
    process.stdout.write(
      JSON.stringify({ bootMs: started, requireMs: loaded - started, firstMs: answered - loaded, totalMs: answered, status }) + '\n',
    );
  },
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  },
);
