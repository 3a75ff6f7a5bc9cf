import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';

/**
 * GitHub's workflow parser ships source maps that point at sources it does not ship: loaded
 * without them, so vite does not warn about each of its files.
 */
const withoutSourceMaps: Plugin = {
  name: 'workflow-parser-without-source-maps',
  load(id) {
    if (!id.includes('/node_modules/@actions/') || !id.endsWith('.js')) return null;
    return readFileSync(id, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  },
};

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        plugins: [withoutSourceMaps],
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // GitHub's workflow parser imports its schema as JSON without an import attribute, which
          // Node refuses: vitest transforms it instead of loading it as it is.
          server: { deps: { inline: ['@actions/workflow-parser'] } },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
