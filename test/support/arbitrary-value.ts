// Seeded generator of values the checkpoint codec must round-trip, for property-style tests.

export interface Random {
  next(): number;
  integer(limit: number): number;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: small, fast and reproducible from one seed. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    integer: (limit) => Math.floor(next() * limit),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}

const awkwardStrings = [
  '',
  'plain',
  'nul\u0000inside',
  '\u0000',
  'lone high \ud800 surrogate',
  'lone low \udc00',
  'emoji 🙂 pair',
  '~t',
  '__proto__',
  'quote " and \\ backslash',
  'line\nbreak\ttab',
  'ünïcödé',
];

const awkwardNumbers = [0, -0, 1, -1, 3.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53];

export function arbitraryString(random: Random): string {
  if (random.next() < 0.6) return random.pick(awkwardStrings);
  let text = '';
  const length = random.integer(12);
  for (let index = 0; index < length; index++) text += String.fromCharCode(random.integer(0x10000));
  return text;
}

export function arbitraryValue(random: Random, depth = 0): unknown {
  const leafOnly = depth >= 4;
  const kind = random.integer(leafOnly ? 12 : 18);
  switch (kind) {
    case 0:
      return arbitraryString(random);
    case 1:
      return random.pick(awkwardNumbers);
    case 2:
      return random.next() < 0.5;
    case 3:
      return null;
    case 4:
      return undefined;
    case 5:
      return BigInt(random.integer(1_000_000)) * (random.next() < 0.5 ? -1n : 1n) * 10n ** 20n;
    case 6:
      return random.next() < 0.1 ? new Date(Number.NaN) : new Date(random.integer(2 ** 42));
    case 7:
      return Uint8Array.from({ length: random.integer(40) }, () => random.integer(256));
    case 8:
      return new URL(`https://example.com/${encodeURIComponent(arbitraryString(random).toWellFormed())}?q=${random.integer(100)}`);
    case 9:
      return random.pick([
        () => Buffer.from('buffer bytes'),
        () => new Float64Array([1.5, -0, Number.NaN]),
        () => new Int16Array([1, -2, 3]),
        () => new BigInt64Array([5n, -6n]),
        () => new Uint8Array([1, 2, 3]).buffer,
        () => /a+b/giu,
      ])();
    case 10:
      return random.integer(1000);
    case 11:
      return random.pick(['text', 'tool-call', 'finish']);
    case 12:
    case 13: {
      const object: Record<string, unknown> = {};
      const size = random.integer(6);
      for (let index = 0; index < size; index++) {
        // defineProperty, so a generated "__proto__" key stays an own property instead of setting the prototype.
        const value = arbitraryValue(random, depth + 1);
        Object.defineProperty(object, arbitraryString(random), { value, enumerable: true, writable: true, configurable: true });
      }
      return object;
    }
    case 14:
    case 15:
      return Array.from({ length: random.integer(6) }, () => arbitraryValue(random, depth + 1));
    case 16:
      return random.next() < 0.5
        ? new Map<unknown, unknown>([
            [arbitraryString(random), arbitraryValue(random, depth + 1)],
            [random.integer(9), arbitraryValue(random, depth + 1)],
          ])
        : new Set([arbitraryValue(random, depth + 1), arbitraryString(random)]);
    default: {
      const error = new Error(arbitraryString(random), { cause: arbitraryValue(random, depth + 1) });
      (error as Error & { detail?: unknown }).detail = arbitraryValue(random, depth + 1);
      return error;
    }
  }
}
