// Measures the checkpoint codec on the hot path: every model response is encoded before its
// checkpoint is written and decoded on the way back, live or replayed.
import { pathToFileURL } from 'node:url';
import { decodeCheckpoint, encodeCheckpoint } from '../src/codec/checkpoint-codec.ts';
import { fingerprint } from '../src/codec/fingerprint.ts';

export interface CodecBenchmarkResult {
  name: string;
  payloadBytes: number;
  iterations: number;
  microsecondsPerOperation: number;
}

/** A model response shaped like `doGenerate`'s result from a real provider, about `targetBytes` of JSON. */
export function sampleModelResult(targetBytes = 20_000) {
  const paragraph =
    'The forecast for San Francisco shows fog in the morning clearing by noon, with highs near 68F and a light westerly breeze. ';
  const content: unknown[] = [{ type: 'reasoning', text: 'The user asked about weather in two cities; call the tool twice.' }];
  let index = 0;
  while (JSON.stringify(content).length < targetBytes - 1_500) {
    content.push({ type: 'text', text: paragraph.repeat(4), providerMetadata: { openai: { itemId: `msg_${index}` } } });
    content.push({
      type: 'tool-call',
      toolCallId: `call_${index}`,
      toolName: 'weather',
      input: JSON.stringify({ city: 'San Francisco', unit: 'fahrenheit', days: index % 7 }),
      providerExecuted: undefined,
    });
    index++;
  }
  return {
    content,
    finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
    usage: {
      inputTokens: { total: 1_234, noCache: 1_234, cacheRead: 0, cacheWrite: undefined },
      outputTokens: { total: 567, text: 500, reasoning: undefined },
      raw: { prompt_tokens: 1_234, completion_tokens: 567 },
    },
    providerMetadata: { openai: { responseId: 'resp_123', serviceTier: 'default' } },
    request: { url: 'https://api.openai.com/v1/responses' },
    response: {
      id: 'resp_123',
      timestamp: new Date('2026-01-02T03:04:05.678Z'),
      modelId: 'gpt-4o-2024-08-06',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req_abc' },
    },
    warnings: [],
  };
}

function measure(name: string, payloadBytes: number, operation: () => void): CodecBenchmarkResult {
  for (let warmup = 0; warmup < 2_000; warmup++) operation();
  const iterations = 20_000;
  const started = process.hrtime.bigint();
  for (let iteration = 0; iteration < iterations; iteration++) operation();
  const elapsed = Number(process.hrtime.bigint() - started) / 1_000;
  return { name, payloadBytes, iterations, microsecondsPerOperation: elapsed / iterations };
}

export function runCodecBenchmarks(): CodecBenchmarkResult[] {
  const result = sampleModelResult();
  const options = { stepName: 'model:1', subject: 'model "gpt-4o"' };
  const encoded = encodeCheckpoint(result, options);
  const storedText = JSON.stringify(encoded);
  const stored = JSON.parse(storedText);
  const bytes = Buffer.byteLength(storedText);
  const plain = JSON.parse(JSON.stringify(result));
  const results = [
    measure('encode + decode (live run: raw value handed back)', bytes, () => {
      decodeCheckpoint(encodeCheckpoint(result, options), options);
    }),
    measure('decode (replay: value parsed from jsonb)', bytes, () => {
      decodeCheckpoint(stored, options);
    }),
    measure('encode + decode of plain JSON (fast path)', bytes, () => {
      decodeCheckpoint(encodeCheckpoint(plain, options), options);
    }),
    measure('JSON.stringify alone (baseline)', bytes, () => {
      JSON.stringify(result);
    }),
    measure('fingerprint', bytes, () => {
      fingerprint(plain);
    }),
  ];
  console.log('checkpoint codec');
  for (const entry of results) {
    console.log(
      `  ${entry.name.padEnd(54)} ${entry.microsecondsPerOperation.toFixed(1).padStart(7)} µs/op  (${entry.payloadBytes} B, ${entry.iterations} ops)`,
    );
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) runCodecBenchmarks();
