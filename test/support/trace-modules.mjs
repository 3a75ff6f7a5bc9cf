// Loaded with `node --import`: records every module URL the process resolves in MODULE_TRACE, so a
// test can say which files a command loaded.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
    import { appendFileSync } from 'node:fs';
    let file;
    export function initialize(data) { file = data.file; }
    export async function resolve(specifier, context, next) {
      const result = await next(specifier, context);
      appendFileSync(file, result.url + '\\n');
      return result;
    }`)}`,
  { data: { file: process.env.MODULE_TRACE } },
);
