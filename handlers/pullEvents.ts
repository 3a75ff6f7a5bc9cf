/** Lambda entry point: pullEvents. Not built yet; it fails loudly instead of pretending to work. */
import { NotImplementedError } from '../lib/runtime/errors.js';
import { keeperHandler } from '../lib/runtime/handler.js';

export const handler = keeperHandler(
  'pullEvents',
  (event: unknown) => event,
  async () => {
    throw new NotImplementedError('pullEvents is not implemented yet');
  },
);
