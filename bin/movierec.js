#!/usr/bin/env node
// `movierec` CLI entry (package.json "bin"). The CLI is TypeScript (bin/cli.ts); see run-ts.js.
'use strict';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { bundle } = require('./run-ts.js');
require(bundle('bin/cli.ts'));
