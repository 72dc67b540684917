// Loaded with `node --import` to run documentation code as a user would write it: `import … from 'ai-sdk-absurd'`
// resolves to this repository's sources, so the snippets run without a build.
import { registerHooks } from 'node:module';

const source = new URL('../../../src/index.ts', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'ai-sdk-absurd') return { url: source, format: 'module-typescript', shortCircuit: true };
    return nextResolve(specifier, context);
  },
});
