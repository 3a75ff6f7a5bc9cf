/** Writes schema/keeper.config.schema.json from the zod schema (npm run schema). */
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../lib/config/json-schema.js';

const out = new URL('../schema/keeper.config.schema.json', import.meta.url);
writeFileSync(out, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out.pathname}`);
