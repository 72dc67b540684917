export { AbsurdAgent, type AbsurdAgentSettings, type AbsurdAgentStreamParameters, type DurableAgentOptions } from './absurd-agent.ts';
export { absurdModelMiddleware, durableModel, durableModelMiddleware, isDurableModel, type DurableModelOptions } from './durable-model.ts';
export { durableTool, durableTools, type DurableToolOptions } from './durable-tool.ts';
export {
  describeCheckpoint,
  type CheckpointDescription,
  type McpToolListingCheckpoint,
  type MCPToolListingCheckpoint,
  type ModelCallCheckpoint,
  type ToolCallCheckpoint,
} from './checkpoint-format.ts';
export type { ReplayDivergencePolicy } from './run-scope.ts';
export type { DurableCallOptions } from './standalone-binding.ts';
