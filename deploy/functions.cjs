/** The stack's functions, as serverless.yml names them (one handler file each in handlers/). */
module.exports = [
  'reconcile',
  'prewarm',
  'checkCredential',
  'rotateCredential',
  'cacheMetrics',
  'pullEvents',
];
