#!/usr/bin/env node
// Entry point of the `ai-sdk-absurd` command: the compiled CLI when installed from the registry,
// the TypeScript sources when run from a clone of the repository.
import { existsSync } from 'node:fs';

const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(`ai-sdk-absurd needs Node.js 22 or newer; this is Node.js ${process.versions.node}.`);
  process.exit(1);
}
const compiled = new URL('../dist/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
// The published package ships only dist/; a clone of the repository runs its sources.
const { main } = await import(existsSync(source) ? source.href : compiled.href);
process.exitCode = await main(process.argv.slice(2));
