// `AbsurdAgent.stream()` publishes the chunks of `toUIMessageStream()` to the task's durable stream: once
// across attempts, with one `start`, a marker before a step that a failed attempt left unfinished, and
// nothing at all when turned off. Retried attempts run in this process (real database, mock models).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { readUIMessageStream, tool, type UIMessage, type UIMessageChunk } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';
import { AbsurdAgent } from '../../src/agent/absurd-agent.ts';
import { ConfigurationError } from '../../src/errors/configuration-error.ts';
import { appendStreamChunk } from '../../src/streams/append-stream-chunk.ts';
import { discardSupersededChunks, isSupersededMarker } from '../../src/streams/superseded-marker.ts';
import {
  currentAttempt,
  openAgentHarness,
  scriptedModel,
  streamOf,
  streamParts,
  toolOutputsInPrompt,
  turnIndex,
  type AgentHarness,
  type TurnScript,
} from '../agent/agent-harness.ts';

let harness: AgentHarness;
before(async () => {
  harness = await openAgentHarness();
});
after(() => harness.close());

/** A tool call, then an answer quoting the tool's output. */
const lookupThenAnswer: TurnScript = (options) =>
  turnIndex(options) === 0
    ? { toolCalls: [{ toolCallId: 'call-1', toolName: 'lookup', input: { city: 'Oslo' } }] }
    : { text: `The weather is ${toolOutputsInPrompt(options).join(',')} today, as forecast.` };

const weatherAnswer = 'The weather is {"type":"text","value":"sunny in Oslo"} today, as forecast.';

const tools = {
  lookup: tool({ inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => `sunny in ${city}` }),
};

async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<T>) out.push(chunk);
  return out;
}

async function storedChunks(taskID: string): Promise<UIMessageChunk[]> {
  return collect(harness.absurd.readStream(taskID, { pollIntervalMs: 50 }));
}

async function assembled(chunks: UIMessageChunk[]): Promise<UIMessage | undefined> {
  let last: UIMessage | undefined;
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  for await (const message of readUIMessageStream({ stream })) last = message;
  return last;
}

function textOf(message: UIMessage | undefined): string {
  return (message?.parts ?? []).flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
}

function count(chunks: UIMessageChunk[], type: string): number {
  return chunks.filter((chunk) => chunk.type === type).length;
}

describe('stream() publishes to the durable stream', () => {
  test('the chunks are those of toUIMessageStream(), and the caller reads its own stream unchanged', async () => {
    const agent = new AbsurdAgent({ id: 'weather', model: scriptedModel(lookupThenAnswer), tools }, harness.absurd);
    const seen: { own?: UIMessageChunk[]; text?: string } = {};
    harness.absurd.registerTask({ name: 'publish-basic' }, async () => {
      const result = await agent.stream({ prompt: 'weather?' });
      seen.own = await collect(result.toUIMessageStream());
      seen.text = await result.text;
      return { text: seen.text };
    });
    const { taskID, snapshot } = await harness.run('publish-basic', {});
    assert.equal(snapshot.state, 'completed');
    assert.equal(seen.text, weatherAnswer);
    assert.deepEqual(await storedChunks(taskID), seen.own);
  });

  test('a caller that stops reading its streams early does not stop publishing', async () => {
    const agent = new AbsurdAgent({ id: 'weather', model: scriptedModel(lookupThenAnswer), tools }, harness.absurd);
    harness.absurd.registerTask({ name: 'publish-break' }, async () => {
      const result = await agent.stream({ prompt: 'weather?' });
      for await (const _chunk of result.toUIMessageStream()) break;
      for await (const _delta of result.textStream) break;
      return { text: await result.text };
    });
    const { taskID, snapshot } = await harness.run('publish-break', {});
    assert.equal(snapshot.state, 'completed');
    const chunks = await storedChunks(taskID);
    assert.equal(chunks.at(-1)?.type, 'finish');
    assert.equal(textOf(await assembled(chunks)), weatherAnswer);
  });

  test('nothing needs to be consumed: a handler that only awaits the text publishes every chunk', async () => {
    const agent = new AbsurdAgent({ id: 'weather', model: scriptedModel(lookupThenAnswer), tools }, harness.absurd);
    harness.absurd.registerTask({ name: 'publish-unread' }, async () => {
      const result = await agent.stream({ prompt: 'weather?' });
      return { finishReason: await result.finishReason };
    });
    const { taskID } = await harness.run('publish-unread', {});
    const chunks = await storedChunks(taskID);
    assert.equal(chunks[0]?.type, 'start');
    assert.equal(chunks.at(-1)?.type, 'finish');
    assert.equal(textOf(await assembled(chunks)), weatherAnswer);
  });

  test('durableStream: false on the agent or the call turns publishing off; a call can turn it back on', async () => {
    const quiet = new AbsurdAgent({ id: 'quiet', model: scriptedModel(lookupThenAnswer), tools, durableStream: false }, harness.absurd);
    const loud = new AbsurdAgent({ id: 'loud', model: scriptedModel(lookupThenAnswer), tools }, harness.absurd);
    harness.absurd.registerTask({ name: 'publish-off' }, async (params: { which: string }) => {
      const result =
        params.which === 'agent'
          ? await quiet.stream({ prompt: 'weather?' })
          : params.which === 'call'
            ? await loud.stream({ prompt: 'weather?', durableStream: false })
            : await quiet.stream({ prompt: 'weather?', durableStream: true });
      return { text: await result.text };
    });
    for (const which of ['agent', 'call']) {
      const { taskID, snapshot } = await harness.run('publish-off', { which });
      assert.equal(snapshot.state, 'completed');
      assert.deepEqual(await storedChunks(taskID), [], which);
    }
    const { taskID } = await harness.run('publish-off', { which: 'override' });
    assert.equal(count(await storedChunks(taskID), 'finish'), 1);
  });

  test('a durableStream setting that is not a boolean or an object is refused', () => {
    assert.throws(
      () => new AbsurdAgent({ id: 'bad', model: scriptedModel(lookupThenAnswer), durableStream: 'yes' as never }, harness.absurd),
      (error: unknown) => error instanceof ConfigurationError && /durableStream must be true, false or an object/.test(error.message),
    );
  });

  test('options shape the chunks: sendFinish: false leaves the finish out', async () => {
    const agent = new AbsurdAgent({ id: 'weather', model: scriptedModel(lookupThenAnswer), tools }, harness.absurd);
    harness.absurd.registerTask({ name: 'publish-options' }, async () => {
      const result = await agent.stream({ prompt: 'weather?', durableStream: { sendFinish: false } });
      return { text: await result.text };
    });
    const { taskID } = await harness.run('publish-options', {});
    assert.equal(count(await storedChunks(taskID), 'finish'), 0);
  });

  test('a chunk over the size limit ends the run with InvalidPayloadError; what was stored stays readable', async () => {
    const huge = { dump: tool({ inputSchema: z.object({}), execute: async () => 'x'.repeat(1_100_000) }) };
    const script: TurnScript = (options) =>
      turnIndex(options) === 0 ? { toolCalls: [{ toolCallId: 'call-1', toolName: 'dump', input: {} }] } : { text: 'done' };
    const agent = new AbsurdAgent({ id: 'dumper', model: scriptedModel(script), tools: huge }, harness.absurd);
    harness.absurd.registerTask({ name: 'publish-huge' }, async () => {
      const result = await agent.stream({ prompt: 'dump' });
      return { text: await result.text };
    });
    const { taskID, snapshot } = await harness.run('publish-huge', {}, { maxAttempts: 1 });
    assert.equal(snapshot.state, 'failed');
    assert.match(JSON.stringify(snapshot.state === 'failed' ? snapshot.failure : null), /over the 1048576-byte limit/);
    const chunks = await storedChunks(taskID);
    assert.ok(chunks.some((chunk) => chunk.type === 'tool-input-available'));
    assert.equal(chunks.at(-1)?.type, 'error');
    assert.match((chunks.at(-1) as { errorText: string }).errorText, /over the 1048576-byte limit/);
  });

  test('two stream() calls in one task: one start, the calls in order', async () => {
    const first = new AbsurdAgent({ id: 'first', model: scriptedModel(() => ({ text: 'First answer.' })) }, harness.absurd);
    const second = new AbsurdAgent({ id: 'second', model: scriptedModel(() => ({ text: 'Second answer.' })) }, harness.absurd);
    harness.absurd.registerTask({ name: 'publish-two' }, async () => {
      const a = await first.stream({ prompt: 'one', durableStream: { sendFinish: false } });
      await a.text;
      const b = await second.stream({ prompt: 'two' });
      return { text: await b.text };
    });
    const { taskID } = await harness.run('publish-two', {});
    const chunks = await storedChunks(taskID);
    assert.equal(count(chunks, 'start'), 1);
    assert.equal(count(chunks, 'finish'), 1);
    assert.equal(textOf(await assembled(chunks)), 'First answer.Second answer.');
  });
});

describe('stream() across attempts', () => {
  test('steps replayed from checkpoints are not written again', async () => {
    const agent = new AbsurdAgent({ id: 'weather', model: scriptedModel(lookupThenAnswer), tools }, harness.absurd);
    const uninterrupted: UIMessageChunk[][] = [];
    harness.absurd.registerTask({ name: 'replay-whole' }, async () => {
      const result = await agent.stream({ prompt: 'weather?' });
      uninterrupted.push(await collect(result.toUIMessageStream()));
      if (currentAttempt() === 1) throw new Error('lost after the stream');
      return { text: await result.text };
    });
    const { taskID, snapshot } = await harness.run('replay-whole', {}, { maxAttempts: 2 });
    assert.equal(snapshot.state, 'completed');
    const chunks = await storedChunks(taskID);
    assert.equal(count(chunks, 'start'), 1);
    assert.equal(count(chunks, 'finish'), 1);
    assert.equal(chunks.filter(isSupersededMarker).length, 0);
    assert.deepEqual(chunks, uninterrupted[0]);
  });

  test('chunks a crashed attempt stored of a replayed step are completed, not repeated', async () => {
    const agent = new AbsurdAgent({ id: 'weather', model: scriptedModel(lookupThenAnswer), tools }, harness.absurd);
    let stored = 0;
    harness.absurd.registerTask({ name: 'replay-tail' }, async (_params, ctx) => {
      const result = await agent.stream({ prompt: 'weather?' });
      const text = await result.text;
      if (currentAttempt() === 1) {
        // As if the process died before its last batches were committed.
        const { rows } = await harness.absurd.database.query('select count(*)::int as n from ai_sdk_absurd.stream_chunks where task_id = $1', [ctx.taskID]);
        stored = rows[0].n;
        await harness.absurd.database.query('delete from ai_sdk_absurd.stream_batches where task_id = $1 and first_index >= $2', [ctx.taskID, stored - 5]);
        await harness.absurd.database.query(
          `update ai_sdk_absurd.stream_batches b set last_index = $2 - 1, chunks = (
             select jsonb_agg(e.value order by e.ordinality) from jsonb_array_elements(b.chunks) with ordinality as e(value, ordinality)
             where b.first_index + e.ordinality - 1 < $2)
           where b.task_id = $1 and b.last_index >= $2`,
          [ctx.taskID, stored - 5],
        );
        throw new Error('lost after the stream');
      }
      return { text };
    });
    const { taskID } = await harness.run('replay-tail', {}, { maxAttempts: 2 });
    const chunks = await storedChunks(taskID);
    assert.equal(chunks.length, stored);
    assert.equal(chunks.filter(isSupersededMarker).length, 0);
    assert.equal(textOf(await assembled(chunks)), weatherAnswer);
  });

  test('a step a failed attempt left unfinished is superseded by a marker and written again', async () => {
    const answer = (attempt: number) => (attempt === 1 ? 'Partial words that will be lost' : 'The final and only answer.');
    const model = new MockLanguageModelV4({
      doStream: async (options) => {
        if (turnIndex(options) === 0) return { stream: streamOf(streamParts(lookupThenAnswer(options))) };
        const attempt = currentAttempt();
        const parts = streamParts({ text: answer(attempt) });
        if (attempt > 1) return { stream: streamOf(parts) };
        // Attempt 1: the text starts, then the stream breaks before its finish.
        const broken: LanguageModelV4StreamPart[] = [...parts.slice(0, 5), { type: 'error', error: new Error('connection reset') }];
        return { stream: slowly(broken) };
      },
    });
    const agent = new AbsurdAgent({ id: 'weather', model, tools }, harness.absurd);
    harness.absurd.registerTask({ name: 'replay-partial' }, async () => {
      const result = await agent.stream({ prompt: 'weather?' });
      return { text: await result.text };
    });
    const { taskID, snapshot } = await harness.run('replay-partial', {}, { maxAttempts: 2 });
    assert.equal(snapshot.state, 'completed');
    const late = await storedChunks(taskID);
    // A late reader: the voided chunks are transient markers, so the message is exactly the final one.
    const message = await assembled(late);
    assert.equal(textOf(message), 'The final and only answer.');
    assert.equal(message?.parts.filter((part) => part.type === 'tool-lookup').length, 1);
    assert.equal(count(late, 'start'), 1);
    assert.equal(count(late, 'finish'), 1);
    assert.ok(late.some(isSupersededMarker), 'no superseded marker was written');
    assert.ok(!late.some((chunk) => chunk.type === 'text-delta' && chunk.delta.includes('lost')), 'a late reader saw the lost text');
    assert.equal(count(late, 'reset-step'), 1);
    assert.deepEqual(discardSupersededChunks(late), late.filter((chunk) => !isSupersededMarker(chunk) && chunk.type !== 'reset-step'));
    assert.deepEqual(message?.parts.map((part) => part.type), ['step-start', 'tool-lookup', 'step-start', 'text']);
  });

  test('a live reader that saw the lost step discards it with the marker, and assembles the final message as received', async () => {
    const model = new MockLanguageModelV4({
      doStream: async (options) => {
        if (turnIndex(options) === 0) return { stream: streamOf(streamParts(lookupThenAnswer(options))) };
        const attempt = currentAttempt();
        const parts = streamParts({ text: attempt === 1 ? 'Lost words here' : 'Kept words only.' });
        if (attempt > 1) return { stream: streamOf(parts) };
        return { stream: slowly([...parts.slice(0, 4), { type: 'error', error: new Error('connection reset') }]) };
      },
    });
    const agent = new AbsurdAgent({ id: 'weather', model, tools }, harness.absurd);
    harness.absurd.registerTask({ name: 'replay-live' }, async () => {
      const result = await agent.stream({ prompt: 'weather?' });
      return { text: await result.text };
    });
    const { taskID } = await harness.absurd.spawn('replay-live', {}, { maxAttempts: 2 });
    const received: UIMessageChunk[] = [];
    const reading = (async () => {
      for await (const chunk of harness.absurd.readStream(taskID, { pollIntervalMs: 50 }) as unknown as AsyncIterable<UIMessageChunk>) received.push(chunk);
    })();
    // The first attempt fails after its partial step is stored; the reader sees it before the retry runs.
    await harness.absurd.workBatch('agent-test', 60, 1);
    await until(() => received.some((chunk) => chunk.type === 'text-delta'));
    const partial = received.filter((chunk) => chunk.type === 'text-delta').length;
    assert.ok(partial > 0);
    for (let runs = 0; runs < 5 && (await harness.absurd.fetchTaskResult(taskID))?.state !== 'completed'; runs++) {
      await harness.absurd.workBatch('agent-test', 60, 1);
    }
    await bounded(reading, 20_000);
    assert.ok(received.some(isSupersededMarker));
    const kept = discardSupersededChunks(received);
    assert.equal(textOf(await assembled(kept)), 'Kept words only.');
    assert.equal(count(kept, 'start'), 1);
    assert.equal(count(kept, 'finish'), 1);
    const stored = await storedChunks(taskID);
    assert.deepEqual(kept, discardSupersededChunks(stored));
    // Assembled as received, as useChat does: the reset-step after the marker clears the lost words.
    const live = await assembled(received);
    assert.equal(textOf(live), 'Kept words only.');
    assert.deepEqual(live?.parts, (await assembled(stored))?.parts);
  });

  test('appendStreamChunk inside ctx.step is written once across attempts; outside a step, once per attempt', async () => {
    harness.absurd.registerTask({ name: 'append-once' }, async (_params, ctx) => {
      await ctx.step('progress', async () => {
        await appendStreamChunk({ type: 'data-progress', data: { done: 1 } });
        return 'sent';
      });
      await appendStreamChunk({ type: 'data-attempt', data: { attempt: currentAttempt() } });
      if (currentAttempt() === 1) throw new Error('retry me');
      return 'ok';
    });
    const { taskID, snapshot } = await harness.run('append-once', {}, { maxAttempts: 2 });
    assert.equal(snapshot.state, 'completed');
    const chunks = await storedChunks(taskID);
    assert.deepEqual(chunks, [
      { type: 'data-progress', data: { done: 1 } },
      { type: 'data-attempt', data: { attempt: 1 } },
      { type: 'data-attempt', data: { attempt: 2 } },
    ]);
  });
});

/** A stream that yields each part on a later turn of the event loop, as a network stream does. */
function slowly<T>(parts: readonly T[]): ReadableStream<T> {
  let next = 0;
  return new ReadableStream({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      if (next < parts.length) controller.enqueue(parts[next++]!);
      else controller.close();
    },
  });
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function bounded<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
