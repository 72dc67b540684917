import { appendFile } from 'node:fs/promises';
import { openai } from '@ai-sdk/openai';
import { tool } from 'ai';
import { Absurd, AbsurdAgent } from '../../src/index.ts';
import { z } from 'zod';

// The queue lives in an embedded database in ./.data. Set ABSURD_DATABASE_URL=postgres://… to use a server.
export const absurd = new Absurd({
  db: process.env.ABSURD_DATABASE_URL ?? 'pglite:./.data/absurd',
  queueName: 'analysis',
});

const revenueByQuarter = { Q1: 1_200_000, Q2: 1_450_000, Q3: 1_380_000, Q4: 1_720_000 };

export const analyst = new AbsurdAgent(
  {
    // The id names every checkpoint this agent writes: keep it stable.
    id: 'analyst',
    model: openai('gpt-5-mini'),
    instructions:
      'You are a financial analyst. Look up the revenue of every quarter the user names with getRevenue, ' +
      'save a one-sentence summary with recordNote, then answer in one or two sentences.',
    tools: {
      getRevenue: tool({
        description: 'Revenue of one quarter of this year, in US dollars.',
        inputSchema: z.object({ quarter: z.enum(['Q1', 'Q2', 'Q3', 'Q4']) }),
        execute: async ({ quarter }) => {
          console.log(`  (tool) looking up ${quarter}`);
          return { quarter, revenue: revenueByQuarter[quarter] };
        },
      }),
      recordNote: tool({
        description: 'Saves a note for the finance team. Call it once.',
        inputSchema: z.object({ text: z.string() }),
        execute: async ({ text }, { toolCallId }) => {
          console.log('  (tool) saving a note');
          await appendFile('notes.txt', `${toolCallId} ${text}\n`);
          return { saved: true };
        },
      }),
    },
  },
  absurd,
);
