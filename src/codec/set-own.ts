/**
 * Sets an own enumerable property, also for the key `__proto__`, which plain assignment would treat as the
 * object's prototype. The encoder and the decoder copy objects with it, so a `__proto__` key survives both ways.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
