// The demo's model when no API key is set: the scripted analyst on the local OpenAI-compatible server, so the
// demo's workers still make real HTTP model calls through the OpenAI provider, and the demo can prove which calls
// were made and that none was asked twice.
import { startOpenAICompatibleServer } from './openai-compatible-server.ts';
import type { OpenAICompatibleServer, RecordedModelRequest } from './openai-compatible-server.ts';
import type { ModelScript } from './openai-wire-format.ts';
import { scriptedAnalystReply } from './scripted-analyst.ts';

export type ScriptedModelServer = OpenAICompatibleServer;
export type ScriptedModelRequest = RecordedModelRequest;

export interface ScriptedModelServerOptions {
  /** How long the model "thinks" before answering, so a person can follow the demo (default 800 ms). */
  readonly thinkMs?: number;
  readonly script?: ModelScript;
}

/** Starts the scripted analyst on 127.0.0.1; `createOpenAI({ baseURL: server.baseURL })` talks to it. */
export function startScriptedModelServer(options: ScriptedModelServerOptions = {}): Promise<ScriptedModelServer> {
  return startOpenAICompatibleServer({
    script: options.script ?? scriptedAnalystReply,
    replyDelayMs: options.thinkMs ?? 800,
  });
}
