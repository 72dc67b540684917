// The scripted "analyst" model: it reads the quarters named in the prompt, asks for their revenue with parallel
// `getRevenue` calls, records a note with `recordNote`, then writes a report. Each reply depends only on what the
// conversation already contains, so a resumed run asking the same question gets the same answer.
import { quartersIn, readQuarter } from '../../src/demo/scripted-analyst.ts';
import type { ModelScript } from './openai-wire-format.ts';

export { quartersIn };

export interface AnalystScenarioOptions {
  /** Pads the final report to at least this many characters (for large-response tests). */
  readonly reportLength?: number;
}

export const analystInstructions =
  'You are a financial analyst. Look up the revenue of every quarter the user names, record one note, then report.';

export function analystScenario(options: AnalystScenarioOptions = {}): ModelScript {
  return (conversation) => {
    const offers = (name: string) => conversation.toolNames.includes(name);
    if (!offers('getRevenue')) return { text: `You asked: ${conversation.userPrompt}` };

    const quarters = quartersIn(conversation.userPrompt);
    const requested = new Set(
      conversation.toolCalls.filter((call) => call.toolName === 'getRevenue').map((call) => readQuarter(call.input)),
    );
    const missing = quarters.filter((quarter) => !requested.has(quarter));
    if (missing.length > 0) {
      return { toolCalls: missing.map((quarter) => ({ toolName: 'getRevenue', input: { quarter } })) };
    }

    const revenue = conversation.toolResults
      .filter((result) => result.toolName === 'getRevenue')
      .map((result) => result.output)
      .join('; ');
    const noted = conversation.toolCalls.some((call) => call.toolName === 'recordNote');
    if (!noted && offers('recordNote')) {
      return { toolCalls: [{ toolName: 'recordNote', input: { text: `Revenue for ${quarters.join(', ')}: ${revenue}` } }] };
    }

    const report = `Report for ${quarters.join(', ')}. Revenue: ${revenue}.${noted ? ' Note recorded.' : ''}`;
    return { text: padReport(report, options.reportLength ?? 0) };
  };
}

function padReport(report: string, length: number): string {
  let padded = report;
  for (let paragraph = 1; padded.length < length; paragraph += 1) {
    padded += `\n\nAppendix ${paragraph}: the figures above are restated here so the report reaches its requested length.`;
  }
  return padded;
}
