// The mock models of the in-process sub-agent suites. The researcher answers from its prompt alone, so a
// replay gets the same answer, and fails (for good) on a prompt that says "explode"; the lead asks for
// every topic in one step, then reports what came back.
import { toolOutputsInPrompt, turnIndex, type TurnScript } from '../agent/agent-harness.ts';

export const researcherScript: TurnScript = (options) => {
  const prompt = options.prompt.findLast((message) => message.role === 'user');
  const text = prompt?.content.map((part) => (part.type === 'text' ? part.text : '')).join('') ?? '';
  if (text.includes('explode')) throw Object.assign(new Error(`cannot research "${text}"`), { isRetryable: false });
  return { text: `finding on ${text}` };
};

export function leadScript(topics: readonly string[]): TurnScript {
  return (options) =>
    turnIndex(options) === 0
      ? { toolCalls: topics.map((topic, index) => ({ toolCallId: `call-${index}`, toolName: 'research', input: { prompt: topic } })) }
      : { text: `report: ${toolOutputsInPrompt(options).join(' | ')}` };
}
