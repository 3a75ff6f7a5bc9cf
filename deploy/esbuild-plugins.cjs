/** esbuild plugins for the Lambda bundles (serverless-esbuild `plugins`). */
const path = require('node:path');

const lambdaCredentials = {
  name: 'lambda-credentials',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({
      path: path.join(__dirname, 'lambda-credentials.mjs'),
    }));
  },
};

module.exports = [lambdaCredentials];
