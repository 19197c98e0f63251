/**
 * The formatted statements one compile carries to the next: used only when sql-formatter's
 * version and options match and each statement's text is as it was saved (its hash); the output
 * is the same either way. Every cache is the compile's own: a second
 * compile in the same process starts from nothing but what it was carried.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
// @ts-expect-error: the bench's generator is plain JavaScript
import { writeMixedProject } from '../bench/mixed-project.js';
import { getDialect } from '../src/dialect/index.js';
import { statementSeparator } from '../src/emit/templates.js';

const shape = [
  'select "swph0", count(*) as "swph1" from "swph2" where "swph0" is not null group by "swph0";',
  'delete from "swph2" where "swph1" = \'swph3\';',
].join(statementSeparator);

/** A fresh copy of the format module, with its calls of sql-formatter counted. */
async function freshFormat() {
  vi.resetModules();
  const calls = { n: 0 };
  vi.doMock('../src/emit/sql-formatter.js', async (original) => {
    const real = await original<typeof import('../src/emit/sql-formatter.js')>();
    return { ...real, formatSql: (...args: Parameters<typeof real.formatSql>) => (calls.n++, real.formatSql(...args)) };
  });
  const { SqlFormatter } = await import('../src/emit/format.js');
  return { fmt: new SqlFormatter(), SqlFormatter, calls };
}

let saved: string;
let expected: string;

beforeEach(async () => {
  const first = await freshFormat();
  expected = first.fmt.formatScript(getDialect('postgres'), shape);
  expect(first.calls.n).toBe(2);
  saved = first.fmt.save();
});

describe('the formatting of one compile', () => {
  it('keeps nothing for another compile in the same process', async () => {
    const first = await freshFormat();
    first.fmt.formatScript(getDialect('postgres'), shape);
    expect(first.calls.n).toBe(2);
    first.fmt.formatScript(getDialect('postgres'), shape);
    expect(first.calls.n).toBe(2);
    const other = new first.SqlFormatter();
    expect(other.formatScript(getDialect('postgres'), shape)).toBe(expected);
    expect(first.calls.n).toBe(4);
  });

  it('gives the same script without formatting again', async () => {
    const next = await freshFormat();
    next.fmt.load(saved);
    expect(next.fmt.formatScript(getDialect('postgres'), shape)).toBe(expected);
    expect(next.calls.n).toBe(0);
    // What it saves is what it used.
    expect(JSON.parse(next.fmt.save())).toEqual(JSON.parse(saved));
  });

  it('formats again a statement whose carried text says something else', async () => {
    const data = JSON.parse(saved) as { statements: [string, string][] };
    data.statements[0]![1] = data.statements[0]![1].replace('IS NOT NULL', 'IS NULL');
    const next = await freshFormat();
    next.fmt.load(JSON.stringify(data));
    expect(next.fmt.formatScript(getDialect('postgres'), shape)).toBe(expected);
    expect(next.calls.n).toBe(1);
  });

  it('formats again a statement whose carried text changes the case of a quoted name', async () => {
    const data = JSON.parse(saved) as { statements: [string, string][] };
    data.statements[1]![1] = data.statements[1]![1].replace('"swph0"', '"SWPH0"');
    expect(data.statements[1]![1]).toContain('"SWPH0"');
    const next = await freshFormat();
    next.fmt.load(JSON.stringify(data));
    expect(next.fmt.formatScript(getDialect('postgres'), shape)).toBe(expected);
    expect(next.calls.n).toBe(1);
  });

  it("carries a statement whose comment has an apostrophe (the templates' comments do)", async () => {
    const commented = `-- the model's rows\nselect 'a' as "swph0", 'b' as "swph1" from "swph2";`;
    const first = await freshFormat();
    const text = first.fmt.formatScript(getDialect('postgres'), commented);
    const next = await freshFormat();
    next.fmt.load(first.fmt.save());
    expect(next.fmt.formatScript(getDialect('postgres'), commented)).toBe(text);
    expect(next.calls.n).toBe(0);
  });

  it('formats again a statement whose carried comment says something else', async () => {
    const commented = `-- the model's rows\n${shape}`;
    const first = await freshFormat();
    const text = first.fmt.formatScript(getDialect('postgres'), commented);
    const data = JSON.parse(first.fmt.save()) as { statements: [string, string][] };
    data.statements[0]![1] = data.statements[0]![1].replace("model's", "MODEL'S");
    const next = await freshFormat();
    next.fmt.load(JSON.stringify(data));
    expect(next.fmt.formatScript(getDialect('postgres'), commented)).toBe(text);
    expect(next.calls.n).toBe(1);
  });

  it("formats again a statement whose keywords a hand put in another case: the output is a first compile's, byte for byte", async () => {
    const data = JSON.parse(saved) as { statements: [string, string, string][] };
    const edited = data.statements[1]![1].replace('WHERE', 'where');
    expect(edited).not.toBe(data.statements[1]![1]);
    data.statements[1]![1] = edited;
    const next = await freshFormat();
    next.fmt.load(JSON.stringify(data));
    expect(next.fmt.formatScript(getDialect('postgres'), shape)).toBe(expected);
    expect(next.calls.n).toBe(1);
  });

  it('reads nothing from another sql-formatter version, or from a damaged file', async () => {
    for (const text of [saved.replace(/sql-formatter \d+\.\d+\.\d+/, 'sql-formatter 0.0.1'), saved.slice(0, -10), '[]', '{"statements":{}}']) {
      const next = await freshFormat();
      next.fmt.load(text);
      expect(next.fmt.formatScript(getDialect('postgres'), shape)).toBe(expected);
      expect(next.calls.n).toBe(2);
    }
  });
});

describe('statement shapes', () => {
  /** sql-formatter calls of one compile, in fresh modules, of a project of `copies` renamed copies of each example. */
  async function formatCalls(copies: number): Promise<{ calls: number; syncs: number }> {
    const { calls } = await freshFormat();
    const { compile } = await import('../src/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'sw-shapes-'));
    try {
      const syncs = writeMixedProject(dir, { syncs: 44 * copies, files: 3 });
      const files = readdirSync(dir).map((f) => ({ path: f, text: readFileSync(join(dir, f), 'utf8') }));
      const result = compile(files);
      expect(result.ok).toBe(true);
      expect(result.artifacts.length).toBe(syncs);
      return { calls: calls.n, syncs };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('are formatted once, however many syncs differ from one another only in names', async () => {
    // Every example's syncs once (API and warehouse alike), then three times, names changed.
    const once = await formatCalls(1);
    const thrice = await formatCalls(3);
    expect(thrice.syncs).toBe(3 * once.syncs);
    expect(once.calls).toBeGreaterThan(0);
    expect(thrice.calls).toBe(once.calls);
  });
});
