// The conversation: `useChat` over `AbsurdChatTransport` with `resume: true`, so a reloaded page resumes the
// answer in progress. A dropped connection (the web process restarted) is resumed from the last chunk received.
import { createElement as h, useEffect, useRef, useState, type FormEvent } from 'react';
import { useChat, type UIMessage } from '@ai-sdk/react';
import { AbsurdChatTransport } from '../../../src/chat/index.ts';
import { MessageView } from './message-view.ts';

const reconnectDelayMs = 1000;
const maxReconnects = 120;

function isConnectionLoss(error: Error): boolean {
  return error instanceof TypeError || /network|failed to fetch|load failed/i.test(error.message);
}

export function ChatView({ chatId, initialMessages }: { chatId: string; initialMessages: UIMessage[] }) {
  const [transport] = useState(() => new AbsurdChatTransport({ api: '/api/chat' }));
  // Counts lost connections: each one schedules a reconnect, however quickly the previous reconnect failed.
  const [connectionLosses, setConnectionLosses] = useState(0);
  const reconnects = useRef(0);
  const { messages, sendMessage, status, error, resumeStream, clearError } = useChat({
    id: chatId,
    messages: initialMessages,
    // `as never`: an @ai-sdk/react built on another release of `ai` declares its own (equal) transport type.
    transport: transport as never,
    resume: true,
    onError: (failure) => {
      if (isConnectionLoss(failure)) setConnectionLosses((count) => count + 1);
    },
  });
  const [draft, setDraft] = useState('');
  const bottom = useRef<HTMLDivElement>(null);
  const currentStatus = useRef(status);
  currentStatus.current = status;

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: 'end' });
  }, [messages]);

  useEffect(() => {
    if (status === 'streaming') reconnects.current = 0;
  }, [status]);

  // Reconnect while the connection is lost; the transport asks only for the chunks after the ones received.
  useEffect(() => {
    if (connectionLosses === 0 || reconnects.current >= maxReconnects) return;
    const timer = setTimeout(() => {
      if (currentStatus.current !== 'error') return;
      reconnects.current += 1;
      void resumeStream();
    }, reconnectDelayMs);
    return () => clearTimeout(timer);
  }, [connectionLosses, resumeStream]);

  const busy = status === 'submitted' || status === 'streaming';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text || busy) return;
    if (status === 'error') clearError();
    setDraft('');
    void sendMessage({ text });
  };

  return h(
    'section',
    { className: 'chat' },
    h(
      'ol',
      { className: 'messages', 'aria-live': 'polite' },
      messages.length === 0 ? h('li', { className: 'notice' }, 'Ask about revenue, for example: “How was revenue in Q1?”') : null,
      messages.map((message) => h(MessageView, { key: message.id, message })),
    ),
    h('div', { ref: bottom }),
    h(StatusLine, { status, error, connectionLost: status === 'error' && error !== undefined && isConnectionLoss(error) }),
    h(
      'form',
      { className: 'composer', onSubmit: submit },
      h('input', {
        name: 'message',
        'aria-label': 'Message',
        placeholder: 'How was revenue in Q1?',
        autoComplete: 'off',
        value: draft,
        onChange: (event: { target: { value: string } }) => setDraft(event.target.value),
      }),
      h('button', { type: 'submit', disabled: busy || draft.trim() === '' }, busy ? 'Answering…' : 'Send'),
    ),
  );
}

function StatusLine({ status, error, connectionLost }: { status: string; error: Error | undefined; connectionLost: boolean }) {
  const text =
    status === 'submitted'
      ? 'Waiting for a worker…'
      : status === 'streaming'
        ? 'Streaming the answer…'
        : status === 'error'
          ? connectionLost
            ? 'Connection lost. Reconnecting…'
            : `Error: ${error?.message ?? 'unknown'}`
          : '';
  return h('p', { className: `status ${status}`, 'data-testid': 'status', 'data-status': status }, text);
}
