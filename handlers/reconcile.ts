/** Lambda entry point: reconcile. Not built yet; it fails loudly instead of pretending to work. */
import { NotImplementedError } from '../lib/runtime/errors.js';
import { keeperHandler } from '../lib/runtime/handler.js';

export const handler = keeperHandler(
  'reconcile',
  (event: unknown) => event,
  async () => {
    throw new NotImplementedError('reconcile is not implemented yet');
  },
);
