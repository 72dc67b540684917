// The conversation view of the local OpenAI-compatible server, which lives with the demo that ships it.
export { readModelConversation, shortHash } from '../../src/demo/model-conversation.ts';
export type {
  ConversationToolCall,
  ConversationToolResult,
  ModelConversation,
  OpenAIApi,
} from '../../src/demo/model-conversation.ts';
export { canonicalJson } from '../../src/codec/fingerprint.ts';
