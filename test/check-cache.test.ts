/**
 * `syncwright check` resuming from what the last check of the same paths kept
 * (src/cli/check-cache.ts): after each edit, what it reports is what a whole check reports
 * (`--no-cache`), including an error that an edit of one file causes in another the edit left
 * alone; it resumes only from its own cache, of this compiler, paths and options; it keeps none
 * after reading a dbt artifact; and `--no-cache` reads and writes nothing.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { cacheFolder, cachesKept } from '../src/cli/check-cache.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'syncwright-check-cache-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function check(dir: string, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['check', '--format', 'json', ...argv], { out: (t) => out.push(t), err: (t) => err.push(t), colour: false, cwd: dir });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The diagnostics a JSON report holds. */
function reported(r: { out: string }): { code: string; severity: string; file: string; message: string }[] {
  return (JSON.parse(r.out) as { diagnostics: ReturnType<typeof reported> }).diagnostics;
}

/** The cache files of `dir`'s checks, by name, with their text. */
function caches(dir: string): Map<string, string> {
  const at = cacheFolder(dir);
  if (!existsSync(at)) return new Map();
  return new Map(
    readdirSync(at)
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f, readFileSync(join(at, f), 'utf8')]),
  );
}

const models = `source wh : postgres { database "acme" }
model users { from wh  table analytics.users  primary key id  columns { id bigint  email string  plan string } }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
`;
const syncs = `sync users_to_crm { from users  to crm object contacts  mode upsert  identifier email -> email  map { plan -> plan } }
sync plans_to_crm { from users  to crm object contacts  mode update  identifier email -> email }
`;

describe('check resumed from its cache', () => {
  it('reports after each edit what a whole check reports, and resumes only from what it kept', async () => {
    const dir = folder({ 'models.sync': models, 'syncs.sync': syncs });
    const same = async (code: number) => {
      const resumed = await check(dir);
      const whole = await check(dir, '--no-cache');
      expect(resumed).toEqual(whole);
      expect(resumed.code).toBe(code);
      return resumed;
    };
    await same(0);
    expect(caches(dir).size).toBe(1);
    expect(readFileSync(join(cacheFolder(dir), '.gitignore'), 'utf8')).toBe('*\n');
    await same(0);

    // The model loses the column a sync of the other file maps: that file's sync is checked again.
    writeFileSync(join(dir, 'models.sync'), models.replace('  plan string', ''));
    const broken = await same(1);
    expect(reported(broken)).toEqual([expect.objectContaining({ severity: 'error', file: 'syncs.sync' })]);
    writeFileSync(join(dir, 'models.sync'), models);
    await same(0);
    // A second sync of the same name, in a new file; then the first file goes.
    writeFileSync(join(dir, 'more.sync'), syncs.split('\n')[1]!);
    expect(reported(await same(1)).map((d) => d.code)).toContain('SW0101');
    unlinkSync(join(dir, 'syncs.sync'));
    await same(0);
    // Broken text, then mended.
    writeFileSync(join(dir, 'more.sync'), 'sync plans_to_crm { from users  to crm object contacts  mode update  identifier email -> \n');
    await same(1);
    writeFileSync(join(dir, 'more.sync'), syncs);
    await same(0);

    // What it resumes from is the cache: a diagnostic put in the outline of a file that has not changed is reported as the check's own...
    const [[name, text]] = [...caches(dir)] as [[string, string]];
    const kept = JSON.parse(text) as { outline: { files: { path: string; diagnostics: object[] }[] } };
    const planted = {
      code: 'SW0205',
      severity: 'warning',
      message: 'kept',
      hints: [],
      span: { file: 'models.sync', line: 1, column: 1, offset: 0, endLine: 1, endColumn: 2, endOffset: 1 },
    };
    kept.outline.files.find((f) => f.path === 'models.sync')!.diagnostics.push(planted);
    writeFileSync(join(cacheFolder(dir), name), JSON.stringify(kept));
    expect(reported(await check(dir))).toEqual([expect.objectContaining({ message: 'kept' })]);
    // ...but not by --no-cache, nor once that file is edited.
    expect(reported(await check(dir, '--no-cache'))).toEqual([]);
    writeFileSync(join(dir, 'models.sync'), `${models}\n`);
    expect(reported(await check(dir))).toEqual([]);

    // Another compiler's cache, or none that parses: a whole check, and the cache is written anew.
    for (const other of [text.replace(/"compiler":"[^"]+"/, '"compiler":"another"'), '{"compiler":']) {
      writeFileSync(join(cacheFolder(dir), name), other);
      writeFileSync(join(dir, 'models.sync'), models.replace('  plan string', ''));
      await same(1);
      expect(JSON.parse(caches(dir).get(name)!)).toMatchObject({ outline: { files: expect.any(Array) } });
      writeFileSync(join(dir, 'models.sync'), models);
      await same(0);
    }

    // A cache edited into another shape is not resumed from: a reference's kinds that name no kind (an array's `length`).
    writeFileSync(join(cacheFolder(dir), name), text.replace(/\["users",\d\]/g, '["users","length"]'));
    expect(caches(dir).get(name)).toContain('["users","length"]');
    writeFileSync(join(dir, 'models.sync'), models.replace('  plan string', ''));
    await same(1);
    writeFileSync(join(dir, 'models.sync'), models);
    await same(0);

    // Other paths, or another dbt target, keep a cache of their own; the same paths in another order are the same project.
    await check(dir, 'models.sync', 'more.sync');
    await check(dir, 'more.sync', 'models.sync');
    await check(dir, '--target', 'staging');
    expect(caches(dir).size).toBe(3);
    // Only the caches written last are kept.
    for (let i = 0; i < cachesKept + 2; i++) writeFileSync(join(dir, `extra${i}.sync`), `# ${i}\n`);
    for (let i = 0; i < cachesKept + 2; i++) await check(dir, 'models.sync', 'more.sync', `extra${i}.sync`);
    expect(caches(dir).size).toBe(cachesKept);
  });

  it('--no-cache reads and writes nothing; a check that read dbt artifacts keeps none', async () => {
    const dir = folder({ 'models.sync': models, 'syncs.sync': syncs });
    expect((await check(dir, '--no-cache')).code).toBe(0);
    expect(existsSync(join(dir, '.syncwright'))).toBe(false);

    const shop = mkdtempSync(join(tmpdir(), 'syncwright-check-cache-dbt-'));
    made.push(shop);
    cpSync(join(import.meta.dirname, '..', 'examples', 'dbt-shop'), shop, { recursive: true });
    const r = await check(shop);
    expect(r.code).toBe(0);
    expect(caches(shop).size).toBe(0);
  });

  it('reads and writes nothing through a link where one of its folders would be, and a cache it cannot write changes nothing', async () => {
    for (const linked of ['.syncwright', '.syncwright/check']) {
      const dir = folder({ 'models.sync': models, 'syncs.sync': syncs });
      const elsewhere = mkdtempSync(join(tmpdir(), 'syncwright-check-cache-elsewhere-'));
      made.push(elsewhere);
      mkdirSync(join(dir, '.syncwright'), { recursive: true });
      rmSync(join(dir, linked), { recursive: true, force: true });
      symlinkSync(elsewhere, join(dir, linked));
      expect(await check(dir)).toEqual(await check(dir, '--no-cache'));
      expect(readdirSync(elsewhere)).toEqual([]);
      // A cache put there is not read either.
      const first = folder({ 'models.sync': models, 'syncs.sync': syncs });
      await check(first);
      const planted = [...caches(first)][0]!;
      mkdirSync(join(elsewhere, 'check'), { recursive: true });
      const there = linked === '.syncwright' ? join(elsewhere, 'check') : elsewhere;
      writeFileSync(
        join(there, planted[0]),
        planted[1].replace(
          /"diagnostics":\[\]/,
          `"diagnostics":[${JSON.stringify({ code: 'SW0205', severity: 'warning', message: 'kept', hints: [], span: { file: 'models.sync', line: 1, column: 1, offset: 0, endLine: 1, endColumn: 2, endOffset: 1 } })}]`,
        ),
      );
      expect(planted[1]).toContain('"diagnostics":[]');
      expect(await check(dir)).toEqual(await check(dir, '--no-cache'));
    }
    // `.syncwright` a file: no cache, the same report, no stack trace.
    const dir = folder({ 'models.sync': models, 'syncs.sync': syncs, '.syncwright': 'not a folder' });
    const r = await check(dir);
    expect(r).toEqual(await check(dir, '--no-cache'));
    expect(r.code).toBe(0);
  });
});
