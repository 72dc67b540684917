// The demo's scripted model: a revenue analyst that looks up every quarter the user names with parallel
// `getRevenue` calls, hands a one-sentence summary to the other tool it is offered (`recordNote` in the demo;
// any tool taking `{ text }`), then writes a short report from the tool results.
import type { ModelConversation } from './model-conversation.ts';
import type { ScriptedReply } from './openai-wire-format.ts';

/** Quarters named in a prompt (`Q1`…`Q4`) in order of first mention; `Q1` when none is named. */
export function quartersIn(prompt: string): string[] {
  const quarters = [...new Set((prompt.match(/\bq[1-4]\b/gi) ?? []).map((quarter) => quarter.toUpperCase()))];
  return quarters.length > 0 ? quarters : ['Q1'];
}

export function scriptedAnalystReply(conversation: ModelConversation): ScriptedReply {
  if (!conversation.toolNames.includes('getRevenue')) {
    return { text: 'I am the scripted analyst of the demo: give me a getRevenue tool and name some quarters.' };
  }
  const quarters = quartersIn(conversation.userPrompt);
  const asked = new Set(
    conversation.toolCalls.filter((call) => call.toolName === 'getRevenue').map((call) => readQuarter(call.input)),
  );
  const missing = quarters.filter((quarter) => !asked.has(quarter));
  if (missing.length > 0) {
    return { toolCalls: missing.map((quarter) => ({ toolName: 'getRevenue', input: { quarter } })) };
  }

  const revenue = new Map<string, number>();
  for (const result of conversation.toolResults) {
    if (result.toolName !== 'getRevenue') continue;
    const parsed = parseRevenue(result.output);
    if (parsed) revenue.set(parsed.quarter, parsed.revenue);
  }
  const summary = summarise(quarters, revenue);
  const noteTool = conversation.toolNames.find((name) => name !== 'getRevenue');
  const noted = conversation.toolCalls.some((call) => call.toolName !== 'getRevenue');
  if (!noted && noteTool) return { toolCalls: [{ toolName: noteTool, input: { text: summary } }] };
  return { text: `${summary}${noted ? ' I recorded this in the notes.' : ''}` };
}

function summarise(quarters: string[], revenue: Map<string, number>): string {
  const known = quarters.filter((quarter) => revenue.has(quarter));
  if (known.length === 0) return `I could not find revenue for ${quarters.join(', ')}.`;
  const figures = known.map((quarter) => `${quarter} ${formatMoney(revenue.get(quarter) ?? 0)}`).join(', ');
  if (known.length < 2) return `Revenue: ${figures}.`;
  const first = revenue.get(known[0] as string) ?? 0;
  const last = revenue.get(known.at(-1) as string) ?? 0;
  const change = first === 0 ? 0 : ((last - first) / first) * 100;
  const direction = change >= 0 ? 'grew' : 'fell';
  return `Revenue ${direction} ${Math.abs(change).toFixed(1)}% from ${known[0]} to ${known.at(-1)} (${figures}).`;
}

function formatMoney(amount: number): string {
  return amount >= 1_000_000 ? `$${(amount / 1_000_000).toFixed(2)}M` : `$${amount.toLocaleString('en-US')}`;
}

/** The quarter a `getRevenue` call asked for, from its JSON arguments; empty when they name none. */
export function readQuarter(input: string): string {
  try {
    return String((JSON.parse(input) as { quarter?: unknown }).quarter ?? '').toUpperCase();
  } catch {
    return '';
  }
}

function parseRevenue(output: string): { quarter: string; revenue: number } | undefined {
  try {
    const value = JSON.parse(output) as { quarter?: unknown; revenue?: unknown };
    if (typeof value.quarter !== 'string' || typeof value.revenue !== 'number') return undefined;
    return { quarter: value.quarter.toUpperCase(), revenue: value.revenue };
  } catch {
    return undefined;
  }
}
