// Builds the chat page (React, `useChat`, `AbsurdChatTransport`) with esbuild when the web process starts, into
// memory: the page loads nothing from another site.
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';

export interface PageBundle {
  readonly html: string;
  readonly script: string;
  readonly styles: string;
}

const pageFolder = new URL('./page/', import.meta.url);

export async function buildPage(): Promise<PageBundle> {
  const result = await build({
    entryPoints: [new URL('main.ts', pageFolder).pathname],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const script = result.outputFiles[0]?.text;
  if (!script) throw new Error('esbuild produced no chat page script.');
  const styles = await readFile(new URL('chat.css', pageFolder), 'utf8');
  return { html: pageHtml, script, styles };
}

const pageHtml = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Durable chat · ai-sdk-absurd</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/assets/chat.css">
    <script type="module" src="/assets/chat.js"></script>
  </head>
  <body>
    <div id="root"></div>
  </body>
</html>
`;
