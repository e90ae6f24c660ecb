#!/usr/bin/env node
// The TypeScript sources run as they are through tsx's loader: one code path, no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
