/** The stack's functions, as serverless.yml names them (one handler file each in handlers/). */
module.exports = [
  'reconcile',
  'prewarm',
  'prewarmPlan',
  'warmImage',
  'prewarmReport',
  'checkCredential',
  'rotateCredential',
  'cacheMetrics',
  'pullEvents',
];
