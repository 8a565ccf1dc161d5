import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { canonical, createAjv } from '../../src/services/schema-engine.js';

// uniqueItems and enum are replaced by map and set look-ups (issue 24, item 3): they must answer as ajv's own do.
const stock = new (Ajv as unknown as typeof Ajv.default)({ allErrors: true, strict: false });
const ours = createAjv();

function randomValue(depth = 0): unknown {
  const r = Math.random();
  if (depth > 2 || r < 0.35) return [0, 1, -0, 1.5, 2][Math.floor(Math.random() * 5)];
  if (r < 0.55) return ['a', '1', '', 'b'][Math.floor(Math.random() * 4)];
  if (r < 0.65) return [true, false, null][Math.floor(Math.random() * 3)];
  if (r < 0.8) return Array.from({ length: Math.floor(Math.random() * 3) }, () => randomValue(depth + 1));
  const o: Record<string, unknown> = {};
  for (const k of ['x', 'y', 'z'].sort(() => Math.random() - 0.5).slice(0, Math.floor(Math.random() * 3))) o[k] = randomValue(depth + 1);
  return o;
}

describe('schema engine', () => {
  it('uniqueItems answers as ajv does, on 2,000 random arrays', () => {
    const a = stock.compile({ type: 'array', uniqueItems: true });
    const b = ours.compile({ type: 'array', uniqueItems: true });
    for (let n = 0; n < 2000; n++) {
      const data = Array.from({ length: Math.floor(Math.random() * 5) }, () => randomValue());
      expect(b(data), JSON.stringify(data)).toBe(a(data));
    }
  });

  it('enum answers as ajv does, on 2,000 random values', () => {
    const members = [...new Map(Array.from({ length: 30 }, () => randomValue()).map((v) => [canonical(v), v])).values()];
    const a = stock.compile({ enum: members });
    const b = ours.compile({ enum: members });
    for (let n = 0; n < 2000; n++) {
      const data = Math.random() < 0.3 ? structuredClone(members[n % members.length]) : randomValue();
      expect(b(data), JSON.stringify(data)).toBe(a(data));
    }
  });

  it('40,000 integers with uniqueItems, and 30,000 values against a 5,000-member enum, validate in one pass', () => {
    const uniq = ours.compile({ type: 'array', uniqueItems: true });
    const ints = Array.from({ length: 40_000 }, (_, i) => i);
    expect(uniq(ints)).toBe(true);
    expect(uniq([...ints, 17])).toBe(false);
    expect(uniq.errors?.[0]).toMatchObject({ keyword: 'uniqueItems', params: { i: 40_000, j: 17 } });
    const e = ours.compile({ type: 'array', items: { enum: Array.from({ length: 5000 }, (_, i) => `v${i}`) } });
    expect(e(Array.from({ length: 30_000 }, (_, i) => `v${i % 5000}`))).toBe(true);
    expect(e(['v1', 'v5000'])).toBe(false);
    expect(e.errors?.[0]).toMatchObject({ keyword: 'enum', instancePath: '/1' });
  });
});
