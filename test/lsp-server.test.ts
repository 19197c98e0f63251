/**
 * `syncwright lsp` over the protocol, as an editor drives it (test/support/lsp-client.ts), on a
 * copy of examples/ecommerce: diagnostics of the whole project as `check` reports them and
 * as files are edited, quick fixes, completion, hovers, definition, references, rename,
 * the outline, folding, formatting, files changed on disk, and a clean exit.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DidOpenTextDocumentNotification,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  FileChangeType,
  FoldingRangeRequest,
  HoverRequest,
  PrepareRenameRequest,
  ReferencesRequest,
  RenameRequest,
  type CompletionItem,
  type CompletionList,
  type Diagnostic,
  type DocumentSymbol,
  type MarkupContent,
  type Range,
  type TextEdit,
} from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { checkProject } from '../src/check/check.js';
import { checkedFrames } from '../src/lsp/frames.js';
import { loneFolders } from '../src/lsp/workspace.js';
import { formatSource } from '../src/syntax/format.js';
import { ensureBuilt } from './support/build.js';
import { LspClient, positionAt } from './support/lsp-client.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'bin', 'syncwright.js');

let dir: string;
let client: LspClient;

/** Apply text edits to a text (from the last, so earlier ranges hold). */
function applyEdits(text: string, edits: TextEdit[]): string {
  const offset = (p: Range['start']) => {
    const lines = text.split('\n');
    return lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  };
  return [...edits]
    .sort((a, b) => offset(b.range.start) - offset(a.range.start))
    .reduce((t, e) => t.slice(0, offset(e.range.start)) + e.newText + t.slice(offset(e.range.end)), text);
}

const labels = (r: CompletionItem[] | CompletionList | null) => (Array.isArray(r) ? r : (r?.items ?? [])).map((i) => i.label);
const hoverText = (h: { contents: unknown } | null) => (h?.contents as MarkupContent | undefined)?.value ?? '';
const codes = (ds: Diagnostic[]) => ds.map((d) => d.code);

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'syncwright-lsp-'));
  cpSync(join(repo, 'examples', 'ecommerce'), dir, { recursive: true });
  // Two mistakes on disk before the server starts: it reports them as `check` does.
  const ads = join(dir, 'syncs', 'ads.sync');
  writeFileSync(
    ads,
    readFileSync(ads, 'utf8').replace('mode       add', 'mode       ad').replace('phone        -> PHONE hashed', 'phnoe        -> PHONE hashed'),
  );
  client = await LspClient.start(dir);
});

afterAll(async () => {
  const code = await client?.stop();
  rmSync(dir, { recursive: true, force: true });
  expect(code).toBe(0);
});

describe('diagnostics', () => {
  it('reports the whole project at start with the codes, ranges and hints of `check`', async () => {
    const cli = JSON.parse(
      (() => {
        try {
          return execFileSync(process.execPath, [bin, 'check', '--format', 'json'], { cwd: dir, encoding: 'utf8' });
        } catch (e) {
          return (e as { stdout: string }).stdout;
        }
      })(),
    ) as { diagnostics: { code: string; file: string; line: number; column: number; endLine: number; endColumn: number; message: string; hints: string[] }[] };
    expect(cli.diagnostics.map((d) => d.code).sort()).toEqual(['SW0103', 'SW0116']);
    const published = await client.diagnosticsOf('syncs/ads.sync', (ds) => ds.length === 2);
    const asCli = published.map((d) => {
      const [message, ...hints] = d.message.split('\n');
      return {
        code: d.code,
        file: 'syncs/ads.sync',
        line: d.range.start.line + 1,
        column: d.range.start.character + 1,
        endLine: d.range.end.line + 1,
        endColumn: d.range.end.character + 1,
        message,
        hints: hints.map((h) => h.replace(/^hint: /, '')),
      };
    });
    expect(asCli).toEqual(
      cli.diagnostics.map(({ code, file, line, column, endLine, endColumn, message, hints }) => ({
        code,
        file,
        line,
        column,
        endLine,
        endColumn,
        message,
        hints,
      })),
    );
    expect(published.every((d) => d.source === 'syncwright')).toBe(true);
  });

  it('offers the fixes of a diagnostic as quick fixes, and applying one clears it', async () => {
    const path = 'syncs/ads.sync';
    await client.open(path);
    const [unknownMode] = (await client.diagnosticsOf(path, (ds) => ds.length === 2)).filter((d) => d.code === 'SW0116');
    const actions = (await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: client.uri(path) },
      range: unknownMode!.range,
      context: { diagnostics: [unknownMode!], only: ['quickfix'] },
    }))!;
    const fix = actions.find((a) => 'edit' in a && a.title.includes('add'));
    expect(fix).toMatchObject({ kind: 'quickfix', isPreferred: true });
    const edits = 'edit' in fix! ? fix.edit!.changes![client.uri(path)]! : [];
    expect(edits).toEqual([{ range: unknownMode!.range, newText: 'add' }]);
    await client.replace(path, applyEdits(client.text(path), edits));
    expect(codes(await client.diagnosticsOf(path, (ds) => ds.length === 1))).toEqual(['SW0103']);
    // The rest through "fix all": the column's "did you mean".
    const all = (await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: client.uri(path) },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [], only: ['source.fixAll'] },
    }))!;
    expect(all.map((a) => a.title)).toEqual(['Apply 1 fix (syncwright)']);
    await client.replace(path, applyEdits(client.text(path), 'edit' in all[0]! ? all[0].edit!.changes![client.uri(path)]! : []));
    await client.diagnosticsOf(path, (ds) => ds.length === 0);
    expect(client.text(path)).toBe(readFileSync(join(repo, 'examples/ecommerce/syncs/ads.sync'), 'utf8'));
  });

  it("offers the checker's fixes: a missing secret setting added, an inline secret moved to env()", async () => {
    const path = 'syncs/fixes.sync';
    writeFileSync(join(dir, path), '');
    await client.open(path);
    const fixOf = async (code: string) => {
      const [d] = (await client.diagnosticsOf(path, (ds) => ds.some((x) => x.code === code))).filter((x) => x.code === code);
      const actions = (await client.connection.sendRequest(CodeActionRequest.type, {
        textDocument: { uri: client.uri(path) },
        range: d!.range,
        context: { diagnostics: [d!], only: ['quickfix'] },
      }))!;
      expect(actions).toHaveLength(1);
      return 'edit' in actions[0]! ? actions[0].edit!.changes![client.uri(path)]! : [];
    };
    await client.replace(path, 'destination crm2 : hubspot {\n}\n');
    await client.replace(path, applyEdits(client.text(path), await fixOf('SW0403')));
    expect(client.text(path)).toMatch(/^destination crm2 : hubspot \{\n  token env\("[A-Z_]+"\)\n\}\n$/);
    await client.diagnosticsOf(path, (ds) => ds.length === 0);
    await client.replace(path, 'destination crm2 : hubspot {\n  token "pat-na1-0000"\n}\n');
    await client.replace(path, applyEdits(client.text(path), await fixOf('SW0402')));
    expect(client.text(path)).toMatch(/^destination crm2 : hubspot \{\n  token env\("[A-Z_]+"\)\n\}\n$/);
    await client.diagnosticsOf(path, (ds) => ds.length === 0);
    // A syntax error's fix: `&&` for `and` (the operator-spelling family).
    await client.replace(path, "audience pros {\n  from  customers\n  where email is not null && first_name = 'A'\n}\n");
    await client.replace(path, applyEdits(client.text(path), await fixOf('SW0014')));
    expect(client.text(path)).toBe("audience pros {\n  from  customers\n  where email is not null and first_name = 'A'\n}\n");
    await client.diagnosticsOf(path, (ds) => ds.length === 0);
    await client.replace(path, '');
  });

  it('links the related places of a diagnostic: a name defined twice, to its first definition in another file', async () => {
    const path = 'syncs/fixes.sync';
    await client.replace(path, 'destination meta_ads : webhook {\n  url "https://hooks.example.com/x"\n}\n');
    const [twice] = (await client.diagnosticsOf(path, (ds) => ds.some((d) => d.code === 'SW0101'))).filter((d) => d.code === 'SW0101');
    const first = client.position('destinations.sync', 'destination meta_ads', 'destination '.length);
    expect(twice!.relatedInformation).toEqual([
      {
        location: { uri: client.uri('destinations.sync'), range: { start: first, end: { line: first.line, character: first.character + 'meta_ads'.length } } },
        message: expect.stringContaining('meta_ads'),
      },
    ]);
    await client.replace(path, '');
    await client.diagnosticsOf(path, (ds) => ds.length === 0);
  });

  it('checks as one types: a model renamed in one file makes the syncs of other files fail, and renamed back, pass', async () => {
    const models = 'models.sync';
    await client.open(models);
    const original = client.text(models);
    const at = client.position(models, 'model customers {', 'model customers'.length);
    // Typing `2` after the name: one incremental change, as an editor sends a keystroke.
    await client.edit(models, [{ range: { start: at, end: at }, text: '2' }], original.replace('model customers {', 'model customers2 {'));
    const audiences = await client.diagnosticsOf('audiences.sync', (ds) => ds.some((d) => d.code === 'SW0102'));
    expect(audiences.filter((d) => d.code === 'SW0102').map((d) => d.message.split('\n')[0])).toContain('unknown model `customers`');
    const ads = await client.diagnosticsOf('syncs/ads.sync', (ds) => ds.some((d) => d.code === 'SW0102'));
    expect(ads.find((d) => d.code === 'SW0102')?.message).toContain('unknown model or audience `customers`');
    // The "did you mean" of the renamed definition, from the whole project.
    expect(ads.find((d) => d.code === 'SW0102')?.message).toContain('did you mean `customers2`?');
    await client.edit(models, [{ range: { start: at, end: { line: at.line, character: at.character + 1 } }, text: '' }], original);
    await client.diagnosticsOf('audiences.sync', (ds) => ds.length === 0);
    await client.diagnosticsOf('syncs/ads.sync', (ds) => ds.length === 0);
  });

  it('follows files changed on disk while they are not open', async () => {
    const path = 'syncs/extra.sync';
    writeFileSync(join(dir, path), 'sync extra {\n  from customers\n  to nowhere\n  mode upsert\n}\n');
    await client.watched(path, FileChangeType.Created);
    const ds = await client.diagnosticsOf(path, (d) => d.length > 0);
    expect(codes(ds)).toContain('SW0102');
    unlinkSync(join(dir, path));
    await client.watched(path, FileChangeType.Deleted);
    await client.diagnosticsOf(path, (d) => d.length === 0);
  });
});

let scratch = false;

/** Completion at the `|` of `text`, written in a file the editor has open. */
async function complete(text: string): Promise<string[]> {
  const path = 'syncs/scratch.sync';
  const at = text.indexOf('|');
  const body = text.slice(0, at) + text.slice(at + 1);
  if (!scratch) {
    writeFileSync(join(dir, path), '');
    await client.open(path);
    scratch = true;
  }
  await client.replace(path, body);
  return labels(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: client.uri(path) }, position: positionAt(body, at) }));
}

describe('completion', () => {
  // What the scratch file defines would count in the tests after these.
  afterAll(async () => {
    await client.replace('syncs/scratch.sync', '');
  });

  it('offers definition keywords at the top level, and destination types and dialects after the colon', async () => {
    expect(await complete('|')).toEqual(['source', 'model', 'audience', 'destination', 'sync']);
    expect(await complete('destination d : |')).toEqual([
      'amplitude',
      'bigquery',
      'braze',
      'facebook_ads',
      'gcs',
      'google_ads',
      'hubspot',
      'kafka',
      'kinesis',
      'klaviyo',
      'mixpanel',
      'postgres',
      's3',
      'salesforce',
      'slack',
      'snowflake',
      'webhook',
    ]);
    expect(await complete('source w : |')).toEqual(['postgres', 'snowflake', 'bigquery']);
  });

  it("offers a type's settings not yet written, with their descriptions, and a setting's values", async () => {
    expect(await complete('destination d : mixpanel {\n  project_token env("T")\n  |\n}')).toEqual([
      'project_id',
      'api_secret',
      'service_account_username',
      'service_account_secret',
      'region',
    ]);
    const path = 'syncs/scratch.sync';
    const items = (await client.connection.sendRequest(CompletionRequest.type, {
      textDocument: { uri: client.uri(path) },
      position: { line: 2, character: 2 },
    })) as CompletionItem[];
    expect((items.find((i) => i.label === 'project_id')!.documentation as MarkupContent).value).toContain('the numeric project id');
    expect(items.find((i) => i.label === 'api_secret')?.detail).toBe('secret: env("NAME")');
    expect(await complete('destination d : mixpanel {\n  region |\n}')).toEqual(['"us"', '"eu"', '"in"', 'env("…")']);
  });

  it('offers the items a block takes, but those already written', async () => {
    expect(await complete('sync s {\n  from customers\n  to meta_ads audience "x"\n  |\n}')).toEqual([
      'mode',
      'identifier',
      'map',
      'batch',
      'guard',
      'schedule',
      'message',
      'format',
    ]);
    expect(await complete('model m {\n  from snowflake_dw\n  |\n}')).toEqual(['table', 'sql', 'primary key', 'order by', 'columns']);
    expect(await complete('audience a {\n  |\n}')).toEqual(['from', 'where']);
  });

  it('offers the modes that this destination takes for this sync, from the mode matrix', async () => {
    // Records to an ad platform: upsert and mirror; an audience: add, remove, mirror (no attributes to upsert).
    expect(await complete('sync s {\n  from customers\n  to meta_ads audience "x"\n  mode |\n}')).toEqual(['upsert', 'mirror']);
    expect(await complete('sync s {\n  from high_value_customers\n  to meta_ads audience "x"\n  mode |\n}')).toEqual(['add', 'remove', 'mirror']);
    expect(await complete('sync s {\n  from customers\n  to klaviyo object profiles\n  mode |\n}')).toEqual(['upsert', 'insert']);
    expect(await complete('sync s {\n  from customers\n  to amplitude event "e"\n  mode in|\n}')).toEqual(['upsert', 'insert']);
  });

  it('offers names where a sync reads and writes, and object kinds after the destination', async () => {
    const from = await complete('sync s {\n  from |\n}');
    expect(from).toEqual(expect.arrayContaining(['customers', 'orders', 'high_value_customers', 'vip_customers']));
    expect(from).not.toContain('meta_ads');
    const to = await complete('sync s {\n  from customers\n  to |\n}');
    expect(to).toEqual(expect.arrayContaining(['meta_ads', 'klaviyo', 'marketing_bq', 'snowflake_dw']));
    expect(to).not.toContain('customers');
    expect((await complete('sync s {\n  from customers\n  to mixpanel |\n}')).slice(0, 2)).toEqual(['event', 'object']);
    expect((await complete('sync s {\n  from high_value_customers\n  to klaviyo |\n}'))[0]).toBe('list');
  });

  it("offers the model's columns in identifier, map, where and order by", async () => {
    const customers = ['customer_id', 'email', 'phone', 'first_name', 'last_name'];
    expect(await complete('sync s {\n  from customers\n  to klaviyo object profiles\n  identifier |\n}')).toEqual(expect.arrayContaining(customers));
    expect(await complete('sync s {\n  from high_value_customers\n  to klaviyo list "x"\n  map {\n    |\n  }\n}')).toEqual(expect.arrayContaining(customers));
    expect(await complete('audience a {\n  from customers\n  where |\n}')).toEqual(expect.arrayContaining(customers));
    expect(await complete('audience a {\n  from customers\n  where email |\n}')).toEqual([
      'in',
      'not in',
      'is null',
      'is not null',
      'like',
      'not like',
      'between',
    ]);
    expect(await complete('model m {\n  from snowflake_dw\n  table t\n  order by |\n  columns {\n    a int\n    b string\n  }\n}')).toEqual(['a', 'b']);
    expect(await complete('model m {\n  from snowflake_dw\n  columns {\n    a |\n  }\n}')).toEqual([
      'string',
      'int',
      'bigint',
      'float',
      'decimal',
      'bool',
      'date',
      'timestamp',
      'json',
    ]);
    // An open set of fields: the column's own name is offered.
    expect(await complete('sync s {\n  from customers\n  to klaviyo object profiles\n  identifier email -> |\n}')).toEqual(['email']);
    // A closed set: Meta's customer-file keys, whatever the column; Google's identifiers, one spelling each.
    const meta = await complete('sync s {\n  from high_value_customers\n  to meta_ads audience "x"\n  map {\n    phone -> |\n  }\n}');
    expect(meta).toEqual(expect.arrayContaining(['EMAIL', 'PHONE', 'FN', 'LN', 'ZIP', 'COUNTRY']));
    expect(meta).not.toContain('phone');
    expect(await complete('sync s {\n  from high_value_customers\n  to google_ads audience "x"\n  identifier email -> |\n}')).toEqual([
      'hashed_email',
      'hashed_phone_number',
    ]);
  });
});

describe('hover', () => {
  const hover = async (path: string, needle: string, shift = 0, nth = 0) =>
    hoverText(
      await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri: client.uri(path) }, position: client.position(path, needle, shift, nth) }),
    );

  it("shows a destination type's modes and limits with the matrix's reason", async () => {
    const text = await hover('destinations.sync', 'facebook_ads', 2);
    expect(text).toContain('**record modes:** `upsert`, `mirror`');
    expect(text).toContain('**audience modes:** `add`, `remove`, `mirror`');
    expect(text).toContain('ad platforms take identifiers into a list');
    expect(text).toContain('up to 10,000 rows per call');
  });

  it("shows a setting's description, a column's type and where it is declared, a mode's meaning here", async () => {
    expect(await hover('destinations.sync', 'project_id', 1)).toContain('the numeric project id, needed with a service account');
    const column = await hover('syncs/ads.sync', 'phone        ->', 1);
    expect(column).toMatch(/\*\*column\*\* `phone string\??` of model `customers`, declared at models\.sync:\d+/);
    const mode = await hover('syncs/ads.sync', 'mode       mirror', 'mode       '.length + 1);
    expect(mode).toContain('**mirror** (audiences): the destination list is made to match the audience exactly');
    expect(mode).toContain('facebook_ads takes it for audiences');
    expect(await hover('syncs/ads.sync', 'guard', 1)).toContain('aborts a run that would delete more');
  });

  it("places a keyword's hover on the keyword: `guard`, and both words of `primary key`", async () => {
    const range = async (path: string, needle: string, shift: number) =>
      (await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri: client.uri(path) }, position: client.position(path, needle, shift, 1) }))
        ?.range;
    expect(await range('syncs/ads.sync', 'guard', 2)).toEqual({
      start: client.position('syncs/ads.sync', 'guard', 0, 1),
      end: client.position('syncs/ads.sync', 'guard', 'guard'.length, 1),
    });
    expect(await range('models.sync', 'primary key', 1)).toEqual({
      start: client.position('models.sync', 'primary key', 0, 1),
      end: client.position('models.sync', 'primary key', 'primary key'.length, 1),
    });
  });
});

describe('navigation', () => {
  it('goes to a definition in another file and finds its references in every file', async () => {
    const position = client.position('audiences.sync', 'from  customers', 'from  '.length + 2);
    const def = await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: client.uri('audiences.sync') }, position });
    expect(def).toEqual({
      uri: client.uri('models.sync'),
      range: { start: client.position('models.sync', 'model customers', 6), end: client.position('models.sync', 'model customers', 15) },
    });
    const refs = (await client.connection.sendRequest(ReferencesRequest.type, {
      textDocument: { uri: client.uri('audiences.sync') },
      position,
      context: { includeDeclaration: false },
    }))!;
    // In each file, as many as it has `from customers`.
    const files = ['audiences.sync', 'syncs/ads.sync', 'syncs/analytics.sync', 'syncs/marketing.sync', 'syncs/warehouse.sync'];
    const expected = Object.fromEntries(
      files.map((p) => [client.uri(p), client.text(p).match(/\bfrom\s+customers\b/g)?.length ?? 0]).filter(([, n]) => n !== 0),
    );
    const found: Record<string, number> = {};
    for (const r of refs) found[r.uri] = (found[r.uri] ?? 0) + 1;
    expect(found).toEqual(expected);
    expect(Object.keys(found).length).toBeGreaterThan(2);
  });

  it.each([
    // [kind, where it is read, the needle and shift there, the file defining it, the needle of the definition's name]
    ['source', 'models.sync', 'from        snowflake_dw', 'from        '.length, 'sources.sync', 'source snowflake_dw', 'source '.length, 'snowflake_dw'],
    [
      'audience',
      'syncs/ads.sync',
      'from       high_value_customers',
      'from       '.length,
      'audiences.sync',
      'audience high_value_customers',
      'audience '.length,
      'high_value_customers',
    ],
    [
      'destination',
      'syncs/ads.sync',
      'to         meta_ads',
      'to         '.length,
      'destinations.sync',
      'destination meta_ads',
      'destination '.length,
      'meta_ads',
    ],
    ['column', 'syncs/ads.sync', 'identifier email', 'identifier '.length, 'models.sync', '    email ', 4, 'email'],
  ])('goes to the definition of a %s in another file, and finds its references', async (_kind, file, needle, shift, defFile, defNeedle, defShift, name) => {
    const position = client.position(file, needle, shift + 1);
    const def = await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: client.uri(file) }, position });
    const start = client.position(defFile, defNeedle, defShift);
    expect(def).toEqual({ uri: client.uri(defFile), range: { start, end: { line: start.line, character: start.character + name.length } } });
    const refs = (await client.connection.sendRequest(ReferencesRequest.type, {
      textDocument: { uri: client.uri(file) },
      position,
      context: { includeDeclaration: true },
    }))!;
    expect(refs).toContainEqual({ uri: client.uri(defFile), range: { start, end: { line: start.line, character: start.character + name.length } } });
    expect(refs).toContainEqual({
      uri: client.uri(file),
      range: { start: client.position(file, needle, shift), end: client.position(file, needle, shift + name.length) },
    });
    // Every reference is the name, in its file.
    for (const r of refs) {
      const lines = client.text(client.path(r.uri)).split('\n');
      expect(lines[r.range.start.line]!.slice(r.range.start.character, r.range.end.character)).toBe(name);
    }
  });

  it('renames a source, an audience and a destination across files, leaving a project that checks', async () => {
    const files = [
      'models.sync',
      'audiences.sync',
      'sources.sync',
      'destinations.sync',
      'syncs/ads.sync',
      'syncs/analytics.sync',
      'syncs/marketing.sync',
      'syncs/warehouse.sync',
    ];
    for (const [file, needle, shift, newName, expected] of [
      ['sources.sync', 'source snowflake_dw', 'source '.length, 'dw', 'from        dw'],
      ['syncs/ads.sync', 'from       high_value_customers', 'from       '.length, 'big_spenders', 'audience big_spenders {'],
      ['syncs/ads.sync', 'to         meta_ads', 'to         '.length, 'facebook', 'destination facebook : facebook_ads {'],
    ] as const) {
      const edit = (await client.connection.sendRequest(RenameRequest.type, {
        textDocument: { uri: client.uri(file) },
        position: client.position(file, needle, shift),
        newName,
      }))!;
      const renamed = files.map((path) => ({ path, text: applyEdits(client.text(path), edit.changes?.[client.uri(path)] ?? []) }));
      expect(checkProject(renamed).diagnostics).toEqual([]);
      expect(renamed.map((f) => f.text).join('\n')).toContain(expected);
      expect(Object.keys(edit.changes ?? {}).length).toBeGreaterThan(1);
    }
  });

  it('renames a model across files, and a column keeping the destination fields', async () => {
    const uri = client.uri('models.sync');
    const position = client.position('models.sync', 'model customers', 'model '.length);
    expect(await client.connection.sendRequest(PrepareRenameRequest.type, { textDocument: { uri }, position })).toMatchObject({ placeholder: 'customers' });
    const edit = (await client.connection.sendRequest(RenameRequest.type, { textDocument: { uri }, position, newName: 'shoppers' }))!;
    const files = [
      'models.sync',
      'audiences.sync',
      'sources.sync',
      'destinations.sync',
      'syncs/ads.sync',
      'syncs/analytics.sync',
      'syncs/marketing.sync',
      'syncs/warehouse.sync',
    ];
    const renamed = files.map((path) => ({ path, text: applyEdits(client.text(path), edit.changes?.[client.uri(path)] ?? []) }));
    expect(checkProject(renamed).diagnostics).toEqual([]);
    expect(renamed.find((f) => f.path === 'audiences.sync')!.text).toContain('from  shoppers');

    const column = client.position('models.sync', '    email ', 4);
    const cedit = (await client.connection.sendRequest(RenameRequest.type, { textDocument: { uri }, position: column, newName: 'email_address' }))!;
    const after = files.map((path) => ({ path, text: applyEdits(client.text(path), cedit.changes?.[client.uri(path)] ?? []) }));
    expect(checkProject(after).diagnostics).toEqual([]);
    const ads = after.find((f) => f.path === 'syncs/ads.sync')!.text;
    expect(ads).toContain('identifier email_address -> EMAIL hashed');

    await expect(client.connection.sendRequest(RenameRequest.type, { textDocument: { uri }, position, newName: 'orders' })).rejects.toThrow(
      '`orders` is already defined',
    );
    await expect(client.connection.sendRequest(RenameRequest.type, { textDocument: { uri }, position, newName: 'two words' })).rejects.toThrow('is not a name');
  });

  it('outlines a file and folds its definitions, blocks and comments', async () => {
    const uri = client.uri('models.sync');
    const symbols = (await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as DocumentSymbol[];
    expect(symbols.map((s) => s.name)).toEqual(['customers', 'orders', 'abandoned_checkouts', 'newsletter_signups', 'new_app_accounts']);
    expect(symbols[0]!.children?.map((c) => c.name)).toEqual(expect.arrayContaining(['customer_id', 'email']));
    expect(symbols[0]!.children?.find((c) => c.name === 'email')?.detail).toMatch(/^string/);
    const folds = (await client.connection.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } }))!;
    const model = client.position('models.sync', 'model customers');
    expect(folds).toContainEqual({ startLine: model.line, endLine: expect.any(Number) });
    expect(folds.filter((f) => f.kind === undefined).length).toBeGreaterThanOrEqual(10);
  });
});

describe('an outline of names an editor takes', () => {
  it('shows a quoted name that is empty or blank as written: an editor refuses an empty symbol name, and the outline with it', async () => {
    const text =
      'source wh : postgres {\n  database "acme"\n}\n\nmodel users {\n  from  wh\n  table analytics.users\n  columns {\n    "" string\n    " " string\n    id bigint\n  }\n}\n';
    await withServer({ 'a.sync': text }, async (own) => {
      await own.open('a.sync');
      const symbols = (await own.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: own.uri('a.sync') } })) as DocumentSymbol[];
      const model = symbols.find((s) => s.name === 'users')!;
      expect(model.children?.map((c) => c.name)).toEqual(['""', '" "', 'id']);
      expect(model.children?.[0]?.selectionRange).toEqual({ start: own.position('a.sync', '""'), end: own.position('a.sync', '""', 2) });
    });
  });
});

describe('formatting', () => {
  it('formats through `fmt`, and offers it as a code action', async () => {
    const path = 'syncs/scratch.sync';
    const messy = 'sync s {\nfrom customers\n     to klaviyo   object profiles\nmode upsert  identifier email -> email }\n';
    await complete(`${messy}|`);
    const edits = (await client.connection.sendRequest(DocumentFormattingRequest.type, {
      textDocument: { uri: client.uri(path) },
      options: { tabSize: 2, insertSpaces: true },
    }))!;
    expect(applyEdits(messy, edits)).toBe(formatSource(path, messy).text);
    const actions = (await client.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: client.uri(path) },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [], only: ['source'] },
    }))!;
    expect(actions.map((a) => a.title)).toContain('Format the file (syncwright fmt)');
  });
});

/** A server of its own on a folder of its own, for what the shared project cannot show; stopped cleanly. */
async function withServer(files: Record<string, string>, run: (c: LspClient, folder: string) => Promise<void>, workspace = true): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'syncwright-lsp-own-'));
  for (const [path, text] of Object.entries(files)) writeFileSync(join(folder, path), text);
  const own = await LspClient.start(folder, {}, undefined, workspace);
  try {
    await run(own, folder);
  } finally {
    const code = await own.stop();
    rmSync(folder, { recursive: true, force: true });
    expect(code).toBe(0);
  }
}

describe('edits that keep their meaning', () => {
  const audience = [
    'source wh : postgres {',
    '  database "acme"',
    '}',
    '',
    'model users {',
    '  from        wh',
    '  table       analytics.users',
    '  primary key user_id',
    '  columns {',
    '    user_id bigint',
    '    email   string',
    '    plan    string',
    '    active  bool',
    '  }',
    '}',
    '',
    'audience paying {',
    '  from  users',
    "  where plan = 'pro' and active",
    '}',
    '',
  ].join('\n');

  it('renames a column to a name a condition cannot read bare: in backticks there, or refused', async () => {
    await withServer({ 'a.sync': audience }, async (own) => {
      await own.open('a.sync');
      const uri = own.uri('a.sync');
      const rename = async (needle: string, newName: string) => {
        const edit = (await own.connection.sendRequest(RenameRequest.type, { textDocument: { uri }, position: own.position('a.sync', needle), newName }))!;
        return applyEdits(audience, edit.changes![uri]!);
      };
      // A double-quoted name in a condition is a string: the condition names the column in backticks.
      const spaced = await rename('plan =', '"Plan Tier"');
      expect(spaced).toContain('    "Plan Tier"    string');
      expect(spaced).toContain("where `Plan Tier` = 'pro' and active");
      // `true` in a condition is the literal.
      const keyword = await rename('active\n', 'true');
      expect(keyword).toContain('    true  bool');
      expect(keyword).toContain("where plan = 'pro' and `true`");
      for (const text of [spaced, keyword]) expect(checkProject([{ path: 'a.sync', text }]).diagnostics).toEqual([]);
      // A backtick cannot be written in backticks: no spelling names the column in the condition.
      await expect(
        own.connection.sendRequest(RenameRequest.type, { textDocument: { uri }, position: own.position('a.sync', 'plan ='), newName: '"a`b"' }),
      ).rejects.toThrow('cannot be written at a.sync:19');
    });
  });

  it('refuses to rename a column a message template uses, which it would leave naming the old one', async () => {
    const text = `${audience}destination chat : slack {\n  token env("SLACK_BOT_TOKEN")\n}\n\nsync paying_to_chat {\n  from users\n  to chat channel "#sales"\n  mode insert\n  identifier user_id\n  message "{{#if active}}{{json Plan}} for {{email}}{{/if}}{{!-- user_id --}}"\n}\n`;
    await withServer({ 'a.sync': text }, async (own) => {
      await own.open('a.sync');
      const uri = own.uri('a.sync');
      const rename = (needle: string, newName: string) =>
        own.connection.sendRequest(RenameRequest.type, { textDocument: { uri }, position: own.position('a.sync', needle), newName });
      await expect(rename('plan    string', 'tier')).rejects.toThrow(
        '`plan` is used in the message of sync `paying_to_chat` (a.sync:30), which a rename does not edit: rename it there by hand',
      );
      // A column no template reads (a comment names it) is renamed, and the project stays as it was.
      const edit = (await rename('user_id bigint', 'id'))!;
      expect(checkProject([{ path: 'a.sync', text: applyEdits(text, edit.changes![uri]!) }]).diagnostics).toEqual([]);
    });
  });

  it('offers no fix that makes a new error: `tokn` is not renamed `token` where `token` is set', async () => {
    const text = 'destination crm : hubspot {\n  token env("HUBSPOT_TOKEN")\n  tokn  env("OTHER")\n}\n';
    await withServer({ 'a.sync': text }, async (own) => {
      await own.open('a.sync');
      const uri = own.uri('a.sync');
      const [unknown] = (await own.diagnosticsOf('a.sync', (ds) => ds.some((d) => d.code === 'SW0106'))).filter((d) => d.code === 'SW0106');
      expect(unknown!.message).toContain('`tokn`');
      const actions = (only: string) =>
        own.connection.sendRequest(CodeActionRequest.type, {
          textDocument: { uri },
          range: unknown!.range,
          context: { diagnostics: [unknown!], only: [only] },
        });
      expect((await actions('quickfix'))!.map((a) => a.title)).toEqual([]);
      expect((await actions('source.fixAll'))!.map((a) => a.title)).toEqual([]);
    });
  });
});

describe('lines ended by a lone carriage return', () => {
  it('places diagnostics and formatting edits on the lines the editor counts', async () => {
    const text = 'source w : postgres {\r  database    "acme" /* a\rb */\n  databse "x"\r}\n';
    await withServer({ 'a.sync': text }, async (own) => {
      await own.open('a.sync');
      const uri = own.uri('a.sync');
      const [typo] = (await own.diagnosticsOf('a.sync', (ds) => ds.some((d) => d.code === 'SW0106'))).filter((d) => d.code === 'SW0106');
      // Lines 0 to 4: the source, `database`, the comment's `b */`, `databse`, `}`.
      expect(typo!.range).toEqual({ start: { line: 3, character: 2 }, end: { line: 3, character: 9 } });
      const edits = (await own.connection.sendRequest(DocumentFormattingRequest.type, {
        textDocument: { uri },
        options: { tabSize: 2, insertSpaces: true },
      }))!;
      // Applied as an editor applies it.
      expect(TextDocument.applyEdits(TextDocument.create(uri, 'sync', 1, text), edits)).toBe(formatSource('a.sync', text).text);
    });
  });
});

describe('hovers are Markdown the project cannot write into', () => {
  it("shows a column's text, names and file as text: a backtick or a link in them is no markup", async () => {
    const file = 'm_[owned](evil).sync';
    const text = `source wh : postgres { database "acme" }
model users {
  from wh
  table analytics.users
  columns { "x\` [click](https://evil.example) \`y" string  email string }
}
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
sync users_to_crm { from users  to crm object contacts  mode upsert  identifier email -> email  map { "x\` [click](https://evil.example) \`y" -> note } }
`;
    await withServer({ [file]: text }, async (own) => {
      await own.open(file);
      const at = (needle: string, nth: number) =>
        own.connection.sendRequest(HoverRequest.type, { textDocument: { uri: own.uri(file) }, position: own.position(file, needle, needle.length - 2, nth) });
      const column = hoverText(await at('"x`', 1));
      expect(column).toBe('**column** ``"x` [click](https://evil.example) `y" string`` of model `users`, declared at m\\_\\[owned\\](evil).sync:5');
      const model = hoverText(await at('from users', 0));
      expect(model).toContain('**model** `users`, defined at m\\_\\[owned\\](evil).sync:2');
    });
  });
});

describe('a file that starts with a byte order mark', () => {
  it('is read as the editor holds it, without the mark: a rename from another file edits the name on its first line', async () => {
    const source = '\ufeffsource wh : postgres {\n  database "acme"\n}\n';
    const model = 'model users {\n  from        wh\n  table       analytics.users\n  primary key user_id\n  columns {\n    user_id bigint\n  }\n}\n';
    await withServer({ 'a.sync': source, 'b.sync': model }, async (own) => {
      await own.open('b.sync');
      const edit = await own.connection.sendRequest(RenameRequest.type, {
        textDocument: { uri: own.uri('b.sync') },
        position: own.position('b.sync', 'wh'),
        newName: 'dw',
      });
      // What the editor holds of a.sync, which it has not opened: the text after the mark.
      expect(edit?.changes?.[own.uri('a.sync')]).toEqual([{ range: { start: { line: 0, character: 7 }, end: { line: 0, character: 9 } }, newText: 'dw' }]);
      expect(applyEdits(source.slice(1), edit!.changes![own.uri('a.sync')]!)).toBe('source dw : postgres {\n  database "acme"\n}\n');
    });
  });
});

describe('models read from dbt', () => {
  it('are checked again when dbt writes its artifacts again, with the edits the editor sent before', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'syncwright-lsp-dbt-'));
    cpSync(join(repo, 'examples', 'dbt-shop'), folder, { recursive: true });
    const own = await LspClient.start(folder);
    try {
      const manifest = join(folder, 'dbt', 'target', 'manifest.json');
      const original = readFileSync(manifest, 'utf8');
      await own.open('shop.sync');
      // A request is answered once what was sent before it is checked: the project has read the artifacts as they were.
      await own.connection.sendRequest(HoverRequest.type, {
        textDocument: { uri: own.uri('shop.sync') },
        position: own.position('shop.sync', 'dim_customers'),
      });
      expect(own.published.get(own.uri('shop.sync'))).toBeGreaterThan(0);
      expect(own.diagnostics.get(own.uri('shop.sync'))).toEqual([]);
      // `dbt compile` after the model is renamed in dbt: the .sync file names a model dbt no longer has.
      writeFileSync(manifest, original.replaceAll('dim_customers', 'dim_clients'));
      await own.watched('dbt/target/manifest.json', FileChangeType.Changed);
      const ds = await own.diagnosticsOf('shop.sync', (d) => d.length > 0);
      expect(ds.map((d) => d.message)).toEqual([expect.stringContaining('dim_customers')]);
      expect(ds[0]!.range.start).toEqual(own.position('shop.sync', 'dim_customers'));
      // Renamed in the .sync file too, and back in dbt: the edit and the artifacts are read together.
      await own.replace('shop.sync', own.text('shop.sync').replace('dim_customers', 'dim_clients'));
      writeFileSync(manifest, original);
      await own.watched('dbt/target/manifest.json', FileChangeType.Changed);
      expect((await own.diagnosticsOf('shop.sync', (d) => d.length > 0 && d[0]!.message.includes('dim_clients'))).length).toBe(1);
    } finally {
      expect(await own.stop()).toBe(0);
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('files opened without a workspace', () => {
  it('checks each file in its own folder, one whose folder is not on disk too', async () => {
    await withServer(
      { 'b.sync': 'sync b {\n  mode upsert\n}\n' },
      async (own, folder) => {
        const open = (file: string, text: string) =>
          own.connection.sendNotification(DidOpenTextDocumentNotification.type, {
            textDocument: { uri: pathToFileURL(file).href, languageId: 'sync', version: 1, text },
          });
        const published = async (file: string) => {
          const uri = pathToFileURL(file).href;
          const deadline = Date.now() + 240_000;
          while (!own.diagnostics.has(uri) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
          return own.diagnostics.get(uri);
        };
        const gone = join(folder, 'not-on-disk', 'a.sync');
        await open(gone, 'sync a {\n  mode upsert\n}\n');
        expect(codes((await published(gone)) ?? [])).toContain('SW0111');
        const other = join(folder, 'b.sync');
        await open(other, readFileSync(other, 'utf8'));
        expect(codes((await published(other)) ?? [])).toContain('SW0111');
        expect(own.stderr.join('')).toBe('');
      },
      false,
    );
  });

  it('reads only the own .sync files of a folder too big to walk (a home folder), and says so', async () => {
    await withServer(
      { 'a.sync': 'sync a {\n  mode upsert\n}\n' },
      async (own, folder) => {
        // More folders than a project has; in one of them, a file the walk would read and publish.
        for (let i = 0; i <= loneFolders; i++) mkdirSync(join(folder, `f${i}`));
        writeFileSync(join(folder, 'f7', 'broken.sync'), 'sync {\n');
        const file = join(folder, 'a.sync');
        const uri = pathToFileURL(file).href;
        await own.connection.sendNotification(DidOpenTextDocumentNotification.type, {
          textDocument: { uri, languageId: 'sync', version: 1, text: readFileSync(file, 'utf8') },
        });
        for (const deadline = Date.now() + 240_000; !own.diagnostics.has(uri) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
        expect(codes(own.diagnostics.get(uri) ?? [])).toContain('SW0111');
        expect(own.diagnostics.has(pathToFileURL(join(folder, 'f7', 'broken.sync')).href)).toBe(false);
        expect(own.shown).toEqual([
          `${folder} holds more than ${loneFolders} folders, too many to read as the project of a file opened without a workspace: only the .sync files directly in it are. Open the project's folder as a workspace folder to check the project whole.`,
        ]);
        // A file of a folder below is not the big folder's: its own folder is its project, with its neighbours.
        writeFileSync(join(folder, 'f7', 'source.sync'), 'source wh : postgres {\n  database "a"\n}\n');
        const model = join(folder, 'f7', 'model.sync');
        writeFileSync(model, 'model users {\n  from        wh\n  table       a.users\n  primary key id\n  columns {\n    id bigint\n  }\n}\n');
        const modelUri = pathToFileURL(model).href;
        await own.connection.sendNotification(DidOpenTextDocumentNotification.type, {
          textDocument: { uri: modelUri, languageId: 'sync', version: 1, text: readFileSync(model, 'utf8') },
        });
        for (const deadline = Date.now() + 240_000; !own.diagnostics.has(modelUri) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
        expect(own.diagnostics.get(modelUri)).toEqual([]);
      },
      false,
    );
  });
});

describe('a workspace folder with a folder that cannot be read', () => {
  it('leaves that folder out, says so, and checks the rest as one project', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'syncwright-lsp-unreadable-'));
    writeFileSync(join(folder, 'source.sync'), 'source wh : postgres {\n  database "a"\n}\n');
    writeFileSync(join(folder, 'model.sync'), 'model users {\n  from        wh\n  table       a.users\n  primary key id\n  columns {\n    id bigint\n  }\n}\n');
    // Unreadable whoever runs this (root reads a folder of mode 000): a path longer than PATH_MAX.
    const nest = "const fs = require('node:fs'); for (let i = 0; i < 21; i++) { fs.mkdirSync('d'.repeat(200)); process.chdir('d'.repeat(200)); }";
    expect(spawnSync(process.execPath, ['-e', nest], { cwd: folder }).status).toBe(0);
    const own = await LspClient.start(folder);
    try {
      // The model finds its source in the other file, which is not open: the project was read, but for that folder.
      await own.open('model.sync');
      const uri = pathToFileURL(join(folder, 'model.sync')).href;
      for (const deadline = Date.now() + 240_000; (!own.published.has(uri) || own.shown.length === 0) && Date.now() < deadline; )
        await new Promise((r) => setTimeout(r, 50));
      expect(own.diagnostics.get(uri)).toEqual([]);
      expect(own.shown).toHaveLength(1);
      expect(own.shown[0]).toMatch(
        new RegExp(
          `^syncwright: folder (d{200}/){19,}d{200} cannot be read: ENAMETOOLONG; its \\.sync files are left out of the project of ${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(check there refuses the project until it can be read\\)$`,
        ),
      );
    } finally {
      expect(await own.stop()).toBe(0);
      spawnSync('rm', ['-rf', folder]);
    }
  });
});

describe('a stream the protocol cannot be read past', () => {
  /** The server's exit code and stderr once it is sent `bytes` after a well-formed request; null when it still runs after `waitMs`. */
  async function afterSending(bytes: Buffer, waitMs = 15_000): Promise<{ code: number | null; stderr: string; stdout: string }> {
    const child = spawn(process.execPath, [bin, 'lsp'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const frame = (o: object) => {
      const b = Buffer.from(JSON.stringify(o));
      return Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`), b]);
    };
    child.stdin.write(frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } }));
    child.stdin.write(bytes);
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), waitMs);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    if (code === null) child.kill();
    return { code, stderr, stdout };
  }

  it('ends with a reason, rather than waiting on, at a Content-Length past what it reads or a header without one', async () => {
    const huge = await afterSending(Buffer.from('Content-Length: 99999999999999\r\n\r\n{"jsonrpc":"2.0"'));
    expect(huge.code).toBe(1);
    expect(huge.stderr).toContain('syncwright lsp: the client sent a message of 99999999999999 bytes, more than the 268435456 read');
    const bad = await afterSending(Buffer.from('Content-Length: -5\r\n\u001b[2J: x\r\n\r\n'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('a header without one Content-Length of digits: `Content-Length: -5\\r\\n\\x1b[2J: x`');
    expect(bad.stderr).not.toMatch(/\u001b/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('passes well-formed frames through byte for byte, however the stream cuts them', async () => {
    // 300 frames, a header with another field, an empty body: cut into chunks of 1 to 97 bytes, then sent as one.
    const frames = Array.from({ length: 300 }, (_, i) => {
      const body = Buffer.from(i % 50 === 7 ? '' : JSON.stringify({ jsonrpc: '2.0', id: i, method: 'x', params: { text: 'é'.repeat(i % 13) } }));
      const type = i % 3 === 0 ? 'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n' : '';
      return Buffer.concat([Buffer.from(`${type}Content-Length: ${body.length}\r\n\r\n`), body]);
    });
    const stream = Buffer.concat(frames);
    for (const cuts of [
      [1, 97],
      [stream.length, stream.length],
    ] as const) {
      const refused: string[] = [];
      const check = checkedFrames((why) => refused.push(why));
      const out: Buffer[] = [];
      check.on('data', (d: Buffer) => out.push(d));
      for (let at = 0, n = 0; at < stream.length; n++) {
        const size = Math.min(cuts[1], Math.max(cuts[0], (n * 37) % cuts[1]));
        check.write(stream.subarray(at, at + size));
        at += size;
      }
      check.end();
      await new Promise((r) => check.on('end', r));
      expect(refused).toEqual([]);
      expect(Buffer.concat(out).equals(stream)).toBe(true);
    }
  });
});
