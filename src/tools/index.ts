export { sleepTool, type SleepToolInput, type SleepToolOptions, type SleepToolResult } from './sleep-tool.ts';
export {
  waitForEventTool,
  type WaitForEventToolInput,
  type WaitForEventToolOptions,
  type WaitForEventToolResult,
} from './wait-for-event-tool.ts';
export { subAgentTool, type SubAgentToolOptions, type SubAgentToolResult } from './sub-agent-tool.ts';
export { subAgentPartType, type SubAgentPart, type SubAgentPartData } from './sub-agent-stream-forwarding.ts';
