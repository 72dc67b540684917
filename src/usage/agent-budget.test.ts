import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigurationError } from '../errors/configuration-error.ts';
import { budgetPolicy } from './agent-budget.ts';
import { costOf } from './model-price.ts';
import { addSpend, summariseSpend, type SpendByModel } from './budget-spend.ts';

test('a budget gets its defaults: counts the agent, fails at the limit, a raise adds the limits again', () => {
  assert.equal(budgetPolicy(undefined), undefined);
  assert.deepEqual(budgetPolicy({ tokens: 100 }), {
    limits: { tokens: 100 },
    prices: undefined,
    counts: 'agent',
    onExceeded: 'fail',
    raiseBy: { tokens: 100 },
    raiseTimeout: undefined,
  });
  const prices = { m: { inputPerMillion: 1, outputPerMillion: 2 } };
  assert.deepEqual(budgetPolicy({ tokens: 100, cost: 3, prices, raiseBy: { cost: 1 }, counts: 'task', onExceeded: 'suspend', raiseTimeout: 60 }), {
    limits: { tokens: 100, cost: 3 },
    prices,
    counts: 'task',
    onExceeded: 'suspend',
    raiseBy: { tokens: 100, cost: 1 },
    raiseTimeout: 60,
  });
});

test('a bad budget names the setting to fix', () => {
  const settingOf = (budget: unknown) => {
    try {
      budgetPolicy(budget as never);
    } catch (error) {
      assert.ok(error instanceof ConfigurationError);
      return error.setting;
    }
    return 'accepted';
  };
  assert.equal(settingOf(null), 'budget');
  assert.equal(settingOf({ raiseBy: { tokens: 1 } }), 'budget');
  assert.equal(settingOf({ tokens: Number.NaN }), 'budget.tokens');
  assert.equal(settingOf({ tokens: 1, raiseBy: { tokens: -2 } }), 'budget.raiseBy.tokens');
  assert.equal(settingOf({ tokens: 1, raiseTimeout: 'soon' }), 'budget.raiseTimeout');
  assert.equal(settingOf({ cost: 1, prices: null }), 'budget.prices');
});

test('cost prices cached input apart when a cached price is given; spend sums per model', () => {
  const tokens = { inputTokens: 1_000_000, outputTokens: 500_000, cachedInputTokens: 400_000 };
  assert.equal(costOf(tokens, { inputPerMillion: 2, outputPerMillion: 8 }), 2 + 4);
  assert.equal(costOf(tokens, { inputPerMillion: 2, outputPerMillion: 8, cachedInputPerMillion: 0.5 }), 1.2 + 0.2 + 4);
  const spend: SpendByModel = new Map();
  addSpend(spend, 'a', { modelCalls: 1, inputTokens: 10, outputTokens: 5, cachedInputTokens: 0 });
  addSpend(spend, 'a', { modelCalls: 2, inputTokens: 20, outputTokens: 5, cachedInputTokens: 0 });
  addSpend(spend, 'b', { modelCalls: 1, inputTokens: 1, outputTokens: 1, cachedInputTokens: 0 });
  assert.deepEqual(summariseSpend(spend, undefined), { modelCalls: 4, tokens: 42, unpricedModels: ['a', 'b'] });
  assert.deepEqual(summariseSpend(spend, { a: { inputPerMillion: 1_000_000, outputPerMillion: 0 } }), { modelCalls: 4, tokens: 42, unpricedModels: ['b'] });
  assert.deepEqual(
    summariseSpend(spend, { a: { inputPerMillion: 1_000_000, outputPerMillion: 0 }, b: { inputPerMillion: 0, outputPerMillion: 0 } }),
    { modelCalls: 4, tokens: 42, cost: 30, unpricedModels: [] },
  );
});
