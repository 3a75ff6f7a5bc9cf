/** npm run schema: writes schema/keeper.config.schema.json and docs/configuration.md from the zod schema. */
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../lib/config/json-schema.js';
import { configurationReference } from '../lib/config/reference.js';

const schema = new URL('../schema/keeper.config.schema.json', import.meta.url);
writeFileSync(schema, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
const docs = new URL('../docs/configuration.md', import.meta.url);
writeFileSync(docs, configurationReference());
console.log(`wrote ${schema.pathname} and ${docs.pathname}`);
