// The checkpointed MCP tool listing, against real MCP servers over stdio and Streamable HTTP, inside real
// Absurd tasks: listed once (all pages), identical on replay, and a replay never reaches the server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MCPClient } from '@ai-sdk/mcp';
import { z } from 'zod';
import { durableMCPClient } from '../../src/agent/durable-mcp-client.ts';
import { Absurd } from '../../src/client/absurd.ts';
import { getCurrentTask } from '../../src/client/current-task.ts';
import { NotInTaskError } from '../../src/errors/not-in-task-error.ts';
import { startMcpFixture, type McpFixture, type McpTransportKind } from '../support/mcp-fixtures.ts';
import { quietLog, runTaskToEnd } from '../support/mcp-task-runner.ts';
import { mcpServerInstructions, mcpTestTools, mcpToolsPageSize } from '../support/mcp-test-server.ts';
import { snapshotTools } from '../support/mcp-tool-snapshot.ts';
import { createTestDatabase, uniqueQueueName, type TestDatabase } from '../support/test-database.ts';

const executionOptions = { toolCallId: 'call-1', messages: [] };
type ExecutableTool = { execute: (input: unknown, options: typeof executionOptions) => Promise<unknown> };

for (const kind of ['stdio', 'http'] as McpTransportKind[]) {
  describe(`durable MCP listing over ${kind}`, () => {
    let database: TestDatabase;
    let fixture: McpFixture;

    before(async () => {
      database = await createTestDatabase();
      fixture = await startMcpFixture(kind);
    });
    after(async () => {
      await fixture?.close();
      await database?.close();
    });

    function newAbsurd(): Absurd {
      return new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.db, queueName: uniqueQueueName('mcp'), log: quietLog });
    }

    test('lists every page once, and a retried attempt replays the listing without reaching the server', async () => {
      const reference = await fixture.createClient();
      const expected = await snapshotTools(await reference.tools());
      await reference.close();

      const attempts: Array<{ snapshot: unknown; instructions: unknown; traffic: number; connections: number; clients: number }> = [];
      const absurd = newAbsurd();
      absurd.registerTask({ name: 'list-weather-tools' }, async () => {
        // A new client per attempt, as a new worker process would have after a crash.
        const weather = durableMCPClient({ name: 'weather', client: () => fixture.createClient() });
        try {
          const tools = await weather.tools();
          attempts.push({
            snapshot: await snapshotTools(tools),
            instructions: await weather.instructions(),
            traffic: fixture.traffic().length,
            connections: fixture.connections(),
            clients: fixture.clientsCreated,
          });
          if (getCurrentTask()?.attempt === 1) throw new Error('worker crashed after listing');
          return { tools: Object.keys(tools) };
        } finally {
          await weather.close();
        }
      });
      const trafficBefore = fixture.traffic().length;
      const clientsBefore = fixture.clientsCreated;
      const snapshot = await runTaskToEnd(absurd, 'list-weather-tools', {});
      assert.deepEqual(snapshot, { state: 'completed', result: { tools: mcpTestTools.map((tool) => tool.name) } });
      assert.equal(attempts.length, 2);
      const [live, replay] = attempts as [(typeof attempts)[0], (typeof attempts)[0]];

      // The live attempt connected once and followed pagination.
      assert.equal(live.clients, clientsBefore + 1);
      const listed = fixture.traffic().slice(trafficBefore).filter((entry) => entry.method === 'tools/list');
      assert.equal(listed.length, Math.ceil(mcpTestTools.length / mcpToolsPageSize));
      assert.deepEqual(live.snapshot, expected);
      assert.equal(live.instructions, mcpServerInstructions);

      // The replay saw the same tools and instructions, and nothing reached the server.
      assert.deepEqual(replay.snapshot, live.snapshot);
      assert.equal(replay.instructions, mcpServerInstructions);
      assert.equal(replay.clients, live.clients);
      assert.equal(replay.traffic, live.traffic);
      assert.equal(replay.connections, live.connections);
    });

    test('tools from a replayed listing connect on their first call, once', async () => {
      const results: unknown[] = [];
      let trafficAtReplay = 0;
      let clientsAtReplay = 0;
      const absurd = newAbsurd();
      absurd.registerTask({ name: 'call-after-replay' }, async () => {
        const weather = durableMCPClient({ name: 'weather', client: () => fixture.createClient() });
        try {
          const tools = (await weather.tools()) as unknown as Record<string, ExecutableTool>;
          if (getCurrentTask()?.attempt === 1) throw new Error('crash before any call');
          trafficAtReplay = fixture.traffic().length;
          clientsAtReplay = fixture.clientsCreated;
          results.push(await tools.forecast!.execute({ city: 'Vienna' }, executionOptions));
          results.push(await tools.lookup_station!.execute({ code: 'XX' }, executionOptions));
          results.push(await tools.render_chart!.execute({ city: 'Vienna' }, executionOptions));
          return {};
        } finally {
          await weather.close();
        }
      });
      const snapshot = await runTaskToEnd(absurd, 'call-after-replay', {});
      assert.equal(snapshot.state, 'completed');
      assert.equal(fixture.clientsCreated, clientsAtReplay + 1);
      const methods = fixture.traffic().slice(trafficAtReplay).map((entry) => entry.method);
      assert.ok(!methods.includes('tools/list'), `no listing after replay, got ${methods.join(', ')}`);
      assert.deepEqual(
        methods.filter((method) => method === 'tools/call'),
        ['tools/call', 'tools/call', 'tools/call'],
      );
      const [forecast, missing, chart] = results as Array<{ content: unknown[]; isError?: boolean; structuredContent?: unknown }>;
      assert.deepEqual(forecast!.structuredContent, { city: 'Vienna', high: 22, unit: 'C' });
      assert.equal(missing!.isError, true);
      assert.deepEqual(chart!.content[1], { type: 'image', data: (chart!.content[1] as { data: string }).data, mimeType: 'image/png' });
    });

    test('tools() and instructions() share one listing per execution; schemas select typed tools', async () => {
      const absurd = newAbsurd();
      let trafficBefore = 0;
      let listed: string[][] = [];
      absurd.registerTask({ name: 'list-twice' }, async () => {
        const weather = durableMCPClient({ name: 'weather', client: () => fixture.createClient() });
        try {
          trafficBefore = fixture.traffic().length;
          const [first, second, instructions] = await Promise.all([weather.tools(), weather.tools(), weather.instructions()]);
          assert.notEqual(first, second);
          assert.deepEqual(await snapshotTools(first), await snapshotTools(second));
          assert.equal(instructions, mcpServerInstructions);
          const typed = await weather.tools({ schemas: { forecast: { inputSchema: z.object({ city: z.string() }) } } });
          listed = [Object.keys(first), Object.keys(typed)];
          const output = await (typed.forecast as unknown as ExecutableTool).execute({ city: 'Oslo' }, executionOptions);
          return { output } as never;
        } finally {
          await weather.close();
        }
      });
      const snapshot = await runTaskToEnd(absurd, 'list-twice', {});
      assert.equal(snapshot.state, 'completed');
      const lists = fixture.traffic().slice(trafficBefore).filter((entry) => entry.method === 'tools/list');
      assert.equal(lists.length, Math.ceil(mcpTestTools.length / mcpToolsPageSize));
      assert.deepEqual(listed, [mcpTestTools.map((tool) => tool.name), ['forecast']]);
    });

    test('a listing that fails is retried in the same execution under the same checkpoint', async () => {
      const absurd = newAbsurd();
      let factoryCalls = 0;
      const outcomes: string[] = [];
      absurd.registerTask({ name: 'flaky-connect' }, async () => {
        const weather = durableMCPClient({
          name: 'weather',
          client: () => {
            factoryCalls++;
            if (factoryCalls === 1) throw new Error('server not reachable yet');
            return fixture.createClient();
          },
        });
        try {
          await weather.tools().catch((error: Error) => outcomes.push(error.message));
          outcomes.push(Object.keys(await weather.tools()).join(','));
          if (getCurrentTask()?.attempt === 1) throw new Error('crash');
          return {};
        } finally {
          await weather.close();
        }
      });
      const snapshot = await runTaskToEnd(absurd, 'flaky-connect', {});
      assert.equal(snapshot.state, 'completed');
      const names = mcpTestTools.map((tool) => tool.name).join(',');
      // Attempt 1: failure, then a live listing; attempt 2 replays it without calling the factory.
      assert.deepEqual(outcomes, ['server not reachable yet', names, names]);
      assert.equal(factoryCalls, 2);
    });

    test('a closed connection is replaced on the next call', async () => {
      const absurd = newAbsurd();
      const created: MCPClient[] = [];
      const outputs: unknown[] = [];
      absurd.registerTask({ name: 'reconnect' }, async () => {
        const weather = durableMCPClient({
          name: 'weather',
          client: async () => {
            const client = await fixture.createClient();
            created.push(client);
            return client;
          },
        });
        try {
          const tools = (await weather.tools()) as unknown as Record<string, ExecutableTool>;
          outputs.push(await tools.forecast!.execute({ city: 'Rome' }, executionOptions));
          await created[0]!.close();
          outputs.push(await tools.forecast!.execute({ city: 'Oslo' }, executionOptions));
          return {};
        } finally {
          await weather.close();
        }
      });
      const snapshot = await runTaskToEnd(absurd, 'reconnect', {});
      assert.equal(snapshot.state, 'completed');
      assert.equal(created.length, 2);
      assert.deepEqual(
        outputs.map((output) => (output as { structuredContent: { city: string } }).structuredContent.city),
        ['Rome', 'Oslo'],
      );
    });

    test('outside a task, tools() and instructions() throw NotInTaskError and never connect', async () => {
      const clientsBefore = fixture.clientsCreated;
      const weather = durableMCPClient({ name: 'weather', client: () => fixture.createClient() });
      await assert.rejects(weather.tools(), (error: unknown) => {
        assert.ok(error instanceof NotInTaskError);
        assert.match(error.message, /durableMCPClient\("weather"\)\.tools\(\) was called outside an Absurd task/);
        return true;
      });
      await assert.rejects(weather.instructions(), NotInTaskError);
      await weather.close();
      assert.equal(fixture.clientsCreated, clientsBefore);
    });
  });
}

test('durableMCPClient checks its options', () => {
  assert.throws(() => durableMCPClient({ name: '', client: () => Promise.reject(new Error('unused')) }), /needs a name/);
  assert.throws(() => durableMCPClient({ name: 'a/b', client: () => Promise.reject(new Error('unused')) }), /reserve/);
  assert.throws(() => durableMCPClient({ name: 'weather', client: undefined as never }), /takes a function/);
});
