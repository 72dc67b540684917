// The chat page's entry point, bundled by esbuild when the web process starts.
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { ChatApp } from './chat-app.ts';

const root = document.getElementById('root');
if (!root) throw new Error('The chat page has no #root element.');
createRoot(root).render(createElement(ChatApp));
