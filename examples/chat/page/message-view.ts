// One message: text parts as text (React escapes it; model output is never HTML), tool calls as small cards.
import { createElement as h } from 'react';
import type { UIMessage } from '@ai-sdk/react';

type Part = UIMessage['parts'][number];
type ToolPart = Extract<Part, { toolCallId: string }>;

function isToolPart(part: Part): part is ToolPart {
  return part.type === 'dynamic-tool' || part.type.startsWith('tool-');
}

function toolName(part: ToolPart): string {
  return part.type === 'dynamic-tool' ? (part as { toolName: string }).toolName : part.type.slice('tool-'.length);
}

export function MessageView({ message }: { message: UIMessage }) {
  return h(
    'li',
    { className: `message ${message.role}`, 'data-testid': 'message', 'data-role': message.role },
    h('span', { className: 'author' }, message.role === 'user' ? 'You' : 'Assistant'),
    message.parts.map((part, index) => h(PartView, { key: index, part })),
  );
}

function PartView({ part }: { part: Part }) {
  if (part.type === 'text') return h('p', { className: 'text', 'data-testid': 'text' }, part.text);
  if (isToolPart(part)) {
    const done = part.state === 'output-available';
    return h(
      'div',
      { className: `tool ${part.state}`, 'data-testid': 'tool-call', 'data-tool': toolName(part) },
      h('span', { className: 'tool-name' }, `${toolName(part)}(${part.input === undefined ? '' : JSON.stringify(part.input)})`),
      h('span', { className: 'tool-state' }, done ? `→ ${JSON.stringify(part.output)}` : part.state === 'output-error' ? `failed: ${part.errorText}` : 'running…'),
    );
  }
  return null;
}
