/** Lambda entry point: checkCredential. Not built yet; it fails loudly instead of pretending to work. */
import { NotImplementedError } from '../lib/runtime/errors.js';
import { keeperHandler } from '../lib/runtime/handler.js';

export const handler = keeperHandler(
  'checkCredential',
  (event: unknown) => event,
  async () => {
    throw new NotImplementedError('checkCredential is not implemented yet');
  },
);
