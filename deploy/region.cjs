/**
 * The stack's region when neither --region nor AWS_REGION / AWS_DEFAULT_REGION give it: the
 * region of the profile serverless takes its credentials from (--aws-profile, then
 * AWS_<STAGE>_PROFILE, then AWS_PROFILE, as osls picks it), resolved as the AWS CLI and
 * `cache-keeper` resolve it (lib/aws/region.ts). Another profile's region would deploy the stack
 * where neither these credentials nor `plan` look. No region at all ends the command with the ways
 * to set one (never a silent us-east-1), without the stack trace serverless would print around it.
 */
const tsx = require('tsx/cjs/api');

const { resolveRegion } = tsx.require('../lib/aws/region.ts', __filename);

/** The profile osls deploys with, of those that name one (its credentials.js, in this order). */
function deployProfile(options, env) {
  const stageProfile = env[`AWS_${String(options.stage || 'dev').toUpperCase()}_PROFILE`];
  return options['aws-profile'] || stageProfile || env.AWS_PROFILE || undefined;
}

function region({ options = {} } = {}) {
  const profile = deployProfile(options, process.env);
  try {
    return resolveRegion({ ...process.env, ...(profile ? { AWS_PROFILE: profile } : {}) }).region;
  } catch (error) {
    if (error && error.name === 'RegionError') {
      process.stderr.write(`serverless: ${error.message}; nothing was done.\n`);
      process.exit(1);
    }
    throw error;
  }
}

module.exports = { region };
