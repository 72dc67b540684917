// The wire formats of the local OpenAI-compatible server, which lives with the demo that ships it.
export {
  chatCompletionBody,
  chatCompletionEvents,
  renderReply,
  responsesBody,
  responsesEvents,
} from '../../src/demo/openai-wire-format.ts';
export type { ModelScript, RenderedReply, RenderedToolCall, ScriptedReply } from '../../src/demo/openai-wire-format.ts';
