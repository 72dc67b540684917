// Prices that turn a model call's tokens into cost: per model, per token kind, in one currency of the
// caller's choice. None are built in, because prices change.
import { ConfigurationError } from '../errors/configuration-error.ts';

/** Price of one model's tokens, per million tokens, in any one currency. */
export interface ModelPrice {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
  /** Input tokens read from the provider's prompt cache; default: `inputPerMillion`. */
  readonly cachedInputPerMillion?: number;
}

/** The tokens of some model calls of one model. */
export interface TokenCounts {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Of `inputTokens`, those read from the prompt cache. */
  readonly cachedInputTokens: number;
}

/** What `tokens` cost at `price`. Reasoning tokens are output tokens and are priced as such. */
export function costOf(tokens: TokenCounts, price: ModelPrice): number {
  const cached = price.cachedInputPerMillion === undefined ? 0 : Math.min(tokens.cachedInputTokens, tokens.inputTokens);
  const cachedPrice = price.cachedInputPerMillion ?? price.inputPerMillion;
  return ((tokens.inputTokens - cached) * price.inputPerMillion + cached * cachedPrice + tokens.outputTokens * price.outputPerMillion) / 1_000_000;
}

/** Refuses a price table that is not model id → { inputPerMillion, outputPerMillion } of numbers >= 0. */
export function validatePrices(prices: unknown, setting: string): void {
  if (prices === undefined) return;
  const bad =
    prices === null || typeof prices !== 'object'
      ? ['', prices]
      : Object.entries(prices).find(([, price]) => !isPrice(price));
  if (bad) {
    throw new ConfigurationError({
      setting,
      message:
        `${setting === 'prices' ? 'usage: prices' : setting} must map model ids to { inputPerMillion, outputPerMillion } ` +
        `(numbers >= 0, and cachedInputPerMillion if given); got ${JSON.stringify(bad[1])}${bad[0] ? ` for "${bad[0]}"` : ''}.`,
    });
  }
}

function isPrice(price: unknown): boolean {
  if (price === null || typeof price !== 'object') return false;
  const { inputPerMillion, outputPerMillion, cachedInputPerMillion } = price as Partial<ModelPrice>;
  const amounts = cachedInputPerMillion === undefined ? [inputPerMillion, outputPerMillion] : [inputPerMillion, outputPerMillion, cachedInputPerMillion];
  return amounts.every((value) => typeof value === 'number' && Number.isFinite(value) && value >= 0);
}
