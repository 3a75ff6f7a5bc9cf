/** JSON Schema of keeper.config.yaml for editors. Cross-field rules are only checked at load. */
// A namespace import, as in schema.ts: the bundle keeps only what is used.
import * as z from 'zod';
import { configSchema } from './schema.js';

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
  return {
    ...schema,
    $id: 'https://ecr-cache-keeper/keeper.config.schema.json',
    title: 'ecr-cache-keeper desired state (keeper.config.yaml)',
  };
}
