// The local OpenAI-compatible server of the demo (src/demo), answering with the tests' analyst scenario unless a
// suite gives its own script.
import { startOpenAICompatibleServer as startServer } from '../../src/demo/openai-compatible-server.ts';
import type { OpenAICompatibleServer, OpenAICompatibleServerOptions } from '../../src/demo/openai-compatible-server.ts';
import { analystScenario } from './analyst-scenario.ts';

export type {
  InjectedFault,
  ModelFault,
  OpenAICompatibleServer,
  OpenAICompatibleServerOptions,
  RecordedModelRequest,
  RequestOutcome,
} from '../../src/demo/openai-compatible-server.ts';

export function startOpenAICompatibleServer(options: OpenAICompatibleServerOptions = {}): Promise<OpenAICompatibleServer> {
  return startServer({ ...options, script: options.script ?? analystScenario() });
}
