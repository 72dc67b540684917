// The AbsurdAgent over the real `@ai-sdk/openai` provider (Chat Completions and Responses APIs) against a
// local OpenAI-compatible server: a run interrupted right after each of its checkpoint writes resumes to the
// same report, never asks the model a question it already answered, and runs each checkpointed tool once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { tool } from 'ai';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { describeCheckpoint } from '../../src/agent/checkpoint-format.ts';
import { analystInstructions } from '../support/analyst-scenario.ts';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '../support/openai-compatible-server.ts';
import { currentAttempt, openAgentHarness, type AgentHarness } from './agent-harness.ts';

for (const api of ['chat', 'responses'] as const) {
  for (const mode of ['generate', 'stream'] as const) {
    describe(`AbsurdAgent over @ai-sdk/openai (${api} API, ${mode})`, () => {
      let harness: AgentHarness;
      let server: OpenAICompatibleServer;
      const effects: Array<{ taskID: string; toolCallId: string; step: string; attempt: number }> = [];
      const responses: Array<{ taskID: string; attempt: number; stepNumber: number; response: unknown }> = [];
      const reports = new Map<string, string>();

      before(async () => {
        harness = await openAgentHarness();
        server = await startOpenAICompatibleServer();
        const provider = createOpenAI({ baseURL: server.baseURL, apiKey: 'test-key' });
        const effect = (toolName: string, toolCallId: string) => {
          const task = currentTaskID();
          if (harness.crash.crashed) return;
          const modelCall = toolName === 'recordNote' ? 2 : 1;
          effects.push({ taskID: task, toolCallId, step: `analyst:1/model:${modelCall}/tool:${toolName}:${toolCallId}`, attempt: currentAttempt() });
        };
        let currentTaskID = () => '';
        const agent = new AbsurdAgent(
          {
            id: 'analyst',
            model: api === 'chat' ? provider.chat('gpt-analyst') : provider('gpt-analyst'),
            instructions: analystInstructions,
            tools: {
              getRevenue: tool({
                description: 'Revenue of one quarter, in dollars.',
                inputSchema: z.object({ quarter: z.string() }),
                execute: async ({ quarter }, { toolCallId }) => {
                  effect('getRevenue', toolCallId);
                  return { quarter, revenue: Number(quarter.slice(1)) * 1000 };
                },
              }),
              recordNote: tool({
                description: 'Saves a note for the finance team.',
                inputSchema: z.object({ text: z.string() }),
                execute: async (_input, { toolCallId }) => {
                  effect('recordNote', toolCallId);
                  return { saved: true };
                },
              }),
            },
          },
          harness.absurd,
        );
        harness.absurd.registerTask({ name: 'analyse' }, async (params: { prompt: string }, ctx) => {
          currentTaskID = () => ctx.taskID;
          const onStepEnd = (step: { stepNumber: number; response: { id: string; timestamp: Date; modelId: string } }) => {
            if (harness.crash.crashed) return;
            const { id, timestamp, modelId } = step.response;
            responses.push({ taskID: ctx.taskID, attempt: currentAttempt(), stepNumber: step.stepNumber, response: { id, timestamp, modelId } });
          };
          let text: string;
          if (mode === 'generate') {
            text = (await agent.generate({ prompt: params.prompt, onStepEnd })).text;
          } else {
            const result = await agent.stream({ prompt: params.prompt, onStepEnd });
            for await (const part of result.stream) if (part.type === 'error') throw part.error;
            text = await result.text;
          }
          reports.set(ctx.taskID, text);
          return { text };
        });
      });
      after(async () => {
        await server.close();
        await harness.close();
      });

      test('resumes after a crash at every checkpoint boundary', async () => {
        const baseline = await harness.run('analyse', { prompt: 'Analyse Q1 and Q3 revenue (run 0)' });
        assert.equal(baseline.snapshot.state, 'completed');
        const written = (await harness.checkpoints(baseline.taskID)).map((checkpoint) => checkpoint.name);
        assert.equal(written.length, 6, written.join(', '));
        assert.match(reports.get(baseline.taskID)!, /^Report for Q1, Q3\. Revenue: .*1000.*3000.*Note recorded\.$/);

        for (let crashAfter = 1; crashAfter <= written.length; crashAfter++) {
          harness.crash.arm(crashAfter);
          const prompt = `Analyse Q1 and Q3 revenue (run ${crashAfter})`;
          const { taskID, snapshot } = await harness.run('analyse', { prompt });
          const label = `crash after ${harness.crash.writtenBeforeCrash.at(-1)}`;
          assert.equal(snapshot.state, 'completed', label);
          assert.equal(reports.get(taskID), reports.get(baseline.taskID), label);

          const asked = server.requests.filter((request) => request.conversation.userPrompt === prompt);
          const repeated = server.repeatedRequests().filter((request) => request.conversation.userPrompt === prompt);
          assert.deepEqual(repeated, [], `${label}: a completed model request was repeated`);
          assert.equal(asked.filter((request) => request.outcome === 'completed').length, 3, label);

          const durable = harness.crash.committed;
          for (const step of new Set(effects.filter((entry) => entry.taskID === taskID).map((entry) => entry.step))) {
            const resumed = effects.filter((entry) => entry.taskID === taskID && entry.step === step && entry.attempt === 2).length;
            assert.equal(resumed, durable.has(step) ? 0 : 1, `${label}: ${step} on attempt 2`);
          }
          // Replayed model calls keep the response id and timestamp the first attempt saw.
          for (const first of responses.filter((entry) => entry.taskID === taskID && entry.attempt === 1)) {
            if (!durable.has(`analyst:1/model:${first.stepNumber + 1}`)) continue;
            const again = responses.find((entry) => entry.taskID === taskID && entry.attempt === 2 && entry.stepNumber === first.stepNumber);
            assert.deepEqual(again?.response, first.response, `${label}: step ${first.stepNumber}`);
          }
        }
      });

      test('a rate-limited model call is retried inside its checkpoint', async () => {
        const prompt = 'Analyse Q2 revenue (rate limited)';
        server.injectFault({ kind: 'rate-limit', retryAfterSeconds: 0.01, match: (conversation) => conversation.userPrompt === prompt });
        const { taskID, snapshot } = await harness.run('analyse', { prompt });
        assert.equal(snapshot.state, 'completed');
        const timeline = (await harness.checkpoints(taskID)).map(({ name, state }) => describeCheckpoint(name, state));
        const modelCalls = timeline.flatMap((entry) => (entry.type === 'model-call' ? [[entry.name, entry.attempts]] : []));
        assert.deepEqual(modelCalls, [
          ['analyst:1/model:1', 2],
          ['analyst:1/model:2', 1],
          ['analyst:1/model:3', 1],
        ]);
        const statuses = server.requests.filter((request) => request.conversation.userPrompt === prompt).map((request) => request.status);
        assert.deepEqual(statuses, [429, 200, 200, 200]);
      });
    });
  }
}
