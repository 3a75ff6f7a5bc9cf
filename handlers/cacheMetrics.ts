/** Lambda entry point: cacheMetrics. Not built yet; it fails loudly instead of pretending to work. */
import { NotImplementedError } from '../lib/runtime/errors.js';
import { keeperHandler } from '../lib/runtime/handler.js';

export const handler = keeperHandler(
  'cacheMetrics',
  (event: unknown) => event,
  async () => {
    throw new NotImplementedError('cacheMetrics is not implemented yet');
  },
);
