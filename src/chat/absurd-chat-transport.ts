import { parseJsonEventStream, uiMessageChunkSchema, type ChatRequestOptions, type ChatTransport, type UIMessage, type UIMessageChunk } from 'ai';

export interface AbsurdChatTransportOptions {
  /** The chat route: `POST api` starts a turn; `GET ${api}/${chatId}/stream?startIndex=N` resumes its stream. */
  api?: string;
  headers?: Record<string, string>;
  credentials?: RequestCredentials;
  fetch?: typeof fetch;
}

/**
 * A `ChatTransport` for `useChat` over a durable stream: it counts the chunks it received per chat,
 * so a reconnect asks the server only for the chunks after them. It imports no database code.
 */
export class AbsurdChatTransport<UI_MESSAGE extends UIMessage = UIMessage> implements ChatTransport<UI_MESSAGE> {
  private readonly api: string;
  private readonly options: AbsurdChatTransportOptions;
  private readonly received = new Map<string, number>();
  private lastReconnectStart: number | undefined;

  constructor(options: AbsurdChatTransportOptions = {}) {
    this.api = options.api ?? '/api/chat';
    this.options = options;
  }

  /**
   * Whether the latest reconnect replays the stream from its beginning (nothing of it was received yet, as
   * after a page reload): `useChat` then starts the message afresh at its `start` chunk instead of adding to it.
   */
  get resumeStreamIsReplay(): boolean {
    return this.lastReconnectStart === 0;
  }

  /** How many chunks of the chat's current stream were received (the `startIndex` of a reconnect). */
  receivedChunks(chatId: string): number {
    return this.received.get(chatId) ?? 0;
  }

  async sendMessages(
    options: { trigger: 'submit-message' | 'regenerate-message'; chatId: string; messageId: string | undefined; messages: UI_MESSAGE[]; abortSignal: AbortSignal | undefined } & ChatRequestOptions,
  ): Promise<ReadableStream<UIMessageChunk>> {
    this.received.set(options.chatId, 0);
    const response = await this.request(this.api, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.options.headers, ...toRecord(options.headers) },
      body: JSON.stringify({ ...options.body, id: options.chatId, messages: options.messages, trigger: options.trigger, messageId: options.messageId }),
      signal: options.abortSignal,
    });
    return this.chunks(options.chatId, response);
  }

  async reconnectToStream(
    options: { chatId: string; abortSignal?: AbortSignal } & ChatRequestOptions,
  ): Promise<ReadableStream<UIMessageChunk> | null> {
    const startIndex = this.receivedChunks(options.chatId);
    this.lastReconnectStart = startIndex;
    const url = `${this.api}/${encodeURIComponent(options.chatId)}/stream?startIndex=${startIndex}`;
    const response = await this.request(url, {
      method: 'GET',
      headers: { ...this.options.headers, ...toRecord(options.headers) },
      ...(options.abortSignal ? { signal: options.abortSignal } : {}),
    });
    if (response.status === 204) return null;
    return this.chunks(options.chatId, response);
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    const response = await (this.options.fetch ?? fetch)(url, { ...init, credentials: this.options.credentials });
    if (!response.ok && response.status !== 204) throw new Error((await response.text()) || `Chat request failed with status ${response.status}.`);
    return response;
  }

  private chunks(chatId: string, response: Response): ReadableStream<UIMessageChunk> {
    if (!response.body) throw new Error('The chat response has no body.');
    return parseJsonEventStream({ stream: response.body, schema: uiMessageChunkSchema }).pipeThrough(
      new TransformStream({
        transform: (part, controller) => {
          if (!part.success) throw part.error;
          this.received.set(chatId, this.receivedChunks(chatId) + 1);
          controller.enqueue(part.value as UIMessageChunk);
        },
      }),
    );
  }
}

function toRecord(headers: ChatRequestOptions['headers']): Record<string, string> {
  if (!headers) return {};
  return headers instanceof Headers ? Object.fromEntries(headers.entries()) : (headers as Record<string, string>);
}
