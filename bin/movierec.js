#!/usr/bin/env node
// `movierec` CLI entry (package.json "bin"). The CLI is TypeScript (bin/cli.ts), bundled on first use
// by run-ts.js into .build/ and re-bundled only when a source file changes.
'use strict';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { bundle } = require('./run-ts.js');
require(bundle('bin/cli.ts'))
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(`movierec: ${e && e.stack ? e.stack : e}`);
      process.exitCode = 1;
    },
  );
