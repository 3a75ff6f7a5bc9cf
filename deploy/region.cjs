/**
 * The stack's region when neither --region nor AWS_REGION / AWS_DEFAULT_REGION give it: the
 * profile's region, resolved as the AWS CLI and `cache-keeper` resolve it (lib/aws/region.ts), so
 * the functions are deployed where `plan` and `apply` look. No region at all is an error naming
 * the ways to set one, never a silent us-east-1.
 */
const tsx = require('tsx/cjs/api');

const { resolveRegion } = tsx.require('../lib/aws/region.ts', __filename);

module.exports = { region: () => resolveRegion(process.env).region };
