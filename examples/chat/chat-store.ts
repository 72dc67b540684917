// Which task answers each chat, and the messages it was spawned with: one row per chat, in the same database as
// the tasks, so a reloaded page (or a restarted web process) finds the turn in progress and its stream.
import type { UIMessage } from 'ai';
import type { Queryable } from '../../src/index.ts';

export interface ChatTurn {
  /** The task answering the chat's latest message. */
  readonly taskID: string;
  /** The conversation that task was spawned with, ending with the user's latest message. */
  readonly messages: UIMessage[];
}

export class ChatStore {
  private readonly database: Queryable;

  constructor(database: Queryable) {
    this.database = database;
  }

  /** Creates the table if it is missing (idempotent). */
  async prepare(): Promise<void> {
    await this.database.query(
      `create table if not exists public.example_chats (
         chat_id text primary key,
         task_id uuid not null,
         messages jsonb not null,
         updated_at timestamptz not null default now()
       )`,
    );
  }

  /** Records that `taskID` now answers the chat. */
  async startTurn(chatId: string, turn: ChatTurn): Promise<void> {
    await this.database.query(
      `insert into public.example_chats (chat_id, task_id, messages) values ($1, $2, $3::jsonb)
       on conflict (chat_id) do update set task_id = excluded.task_id, messages = excluded.messages, updated_at = now()`,
      [chatId, turn.taskID, JSON.stringify(turn.messages)],
    );
  }

  /** The chat's latest turn, or undefined for a chat nobody wrote in yet. */
  async latestTurn(chatId: string): Promise<ChatTurn | undefined> {
    const { rows } = await this.database.query<{ task_id: string; messages: unknown }>(
      'select task_id, messages from public.example_chats where chat_id = $1',
      [chatId],
    );
    const row = rows[0];
    if (!row) return undefined;
    const messages = typeof row.messages === 'string' ? JSON.parse(row.messages) : row.messages;
    return { taskID: row.task_id, messages: messages as UIMessage[] };
  }
}
