#!/usr/bin/env node
// The cache-keeper command. Runs the TypeScript sources directly (tsx), so `npx cache-keeper`
// works in a checkout with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
