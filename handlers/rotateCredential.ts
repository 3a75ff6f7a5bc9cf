/** Lambda entry point: rotateCredential. Not built yet; it fails loudly instead of pretending to work. */
import { NotImplementedError } from '../lib/runtime/errors.js';
import { keeperHandler } from '../lib/runtime/handler.js';

export const handler = keeperHandler(
  'rotateCredential',
  (event: unknown) => event,
  async () => {
    throw new NotImplementedError('rotateCredential is not implemented yet');
  },
);
