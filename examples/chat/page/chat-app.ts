// Picks the chat (its id lives in the address, `?chat=…`, so a reload finds it), loads the messages of its
// latest turn, then shows it; `useChat` resumes the turn's answer from the durable stream.
import { createElement as h, useEffect, useState } from 'react';
import type { UIMessage } from '@ai-sdk/react';
import { ChatView } from './chat-view.ts';

function currentChatId(): string {
  const url = new URL(window.location.href);
  const existing = url.searchParams.get('chat');
  if (existing && /^[A-Za-z0-9_-]{1,100}$/.test(existing)) return existing;
  const created = crypto.randomUUID();
  url.searchParams.set('chat', created);
  window.history.replaceState(null, '', url);
  return created;
}

export function ChatApp() {
  const [chatId] = useState(currentChatId);
  const [history, setHistory] = useState<{ messages: UIMessage[] } | { error: string } | undefined>();

  useEffect(() => {
    const controller = new AbortController();
    fetch(`/api/chat/${encodeURIComponent(chatId)}/messages`, { signal: controller.signal })
      .then(async (response) => {
        if (!response.ok) throw new Error((await response.text()) || `status ${response.status}`);
        setHistory((await response.json()) as { messages: UIMessage[] });
      })
      .catch((error: Error) => {
        if (error.name !== 'AbortError') setHistory({ error: error.message });
      });
    return () => controller.abort();
  }, [chatId]);

  const body =
    history === undefined
      ? h('p', { className: 'notice' }, 'Loading the conversation…')
      : 'error' in history
        ? h('p', { className: 'notice error' }, `The conversation could not be loaded: ${history.error}`)
        : h(ChatView, { chatId, initialMessages: history.messages });

  return h(
    'main',
    { className: 'app' },
    h(
      'header',
      null,
      h('h1', null, 'Durable chat'),
      h('p', null, 'Each answer is a durable task. Reload the page or kill the worker: the answer picks up where it was.'),
    ),
    body,
  );
}
