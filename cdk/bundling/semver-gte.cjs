/**
 * What the bundled functions get for `require('semver')` (esbuild alias, cdk/constructs/function.ts
 * BUNDLING): semver's own `gte`, nothing else. The one bundled module that requires semver is
 * aws-xray-sdk-core's AWS SDK v2 patcher (`semver.gte(AWS.VERSION, …)`); the whole package index
 * pulled every semver function and range class into each bundle (about 29 KB). The unit test
 * test/cdk/bundling.test.ts fails when a bundled dependency starts using another
 * semver export. semver is required by path: the alias also catches `semver/...` specifiers.
 */
/* global module, require */
'use strict';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module on purpose (required by CommonJS code)
module.exports = { gte: require('../../node_modules/semver/functions/gte.js') };
