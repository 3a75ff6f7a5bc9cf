/** Lambda entry point: prewarm. Not built yet; it fails loudly instead of pretending to work. */
import { NotImplementedError } from '../lib/runtime/errors.js';
import { keeperHandler } from '../lib/runtime/handler.js';

export const handler = keeperHandler(
  'prewarm',
  (event: unknown) => event,
  async () => {
    throw new NotImplementedError('prewarm is not implemented yet');
  },
);
