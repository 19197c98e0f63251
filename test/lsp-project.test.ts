/**
 * The editor's project (src/check/project.ts) checks again only what an edit reaches: after
 * every edit of a random sequence, its diagnostics must be exactly those of `checkProject`
 * on the whole project. The edits are what typing does to names (renaming a definition that
 * other files read, writing a name that is defined nowhere or twice, in another case), to
 * lines (deleting one, breaking the syntax), and to files (adding and removing one).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProject, type SourceText } from '../src/check/check.js';
import { join } from 'node:path';
import { Project, type Outline } from '../src/check/project.js';
import { Workspace } from '../src/lsp/workspace.js';
import { syncFiles } from './fixtures/format/helpers.js';

const seed = Number(process.env.FUZZ_SEED ?? 16_016);
const runs = Number(process.env.FUZZ_RUNS ?? 60);

/** A project's files, named from its folder as `syncwright check` run there names them. */
function project(dir: string): SourceText[] {
  return syncFiles(dir).map((f) => ({ path: f.path.slice(dir.length + 1), text: f.text }));
}

const projects = ['examples/b2b-saas', 'examples/ecommerce', 'examples/events-pipeline', 'test/fixtures/valid/002-every-destination-type'].map((dir) => ({
  dir,
  files: project(dir),
}));

type Edit = (files: Map<string, string>, pick: (n: number) => number) => { path: string; text: string | undefined }[];

const words = (text: string) => [...text.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)];

/** Replace one word of a file by another word of the project, by itself with an `x`, or in upper case. */
const renameWord: Edit = (files, pick) => {
  const paths = [...files.keys()];
  const path = paths[pick(paths.length)]!;
  const text = files.get(path)!;
  const all = words(text);
  const m = all[pick(all.length)];
  if (!m) return [];
  const vocabulary = [...files.values()].flatMap((t) => words(t).map((w) => w[0]));
  const choices = [vocabulary[pick(vocabulary.length)]!, `${m[0]}x`, m[0].toUpperCase(), ''];
  const replacement = choices[pick(choices.length)]!;
  return [{ path, text: text.slice(0, m.index) + replacement + text.slice(m.index! + m[0].length) }];
};

/** Delete a line, or break one with a stray character. */
const damageLine: Edit = (files, pick) => {
  const paths = [...files.keys()];
  const path = paths[pick(paths.length)]!;
  const lines = files.get(path)!.split('\n');
  const at = pick(lines.length);
  const pieces = ['', `${lines[at]} {`, `${lines[at]} }`, `${lines[at]},`, `"${lines[at]}`];
  lines[at] = pieces[pick(pieces.length)]!;
  return [{ path, text: lines.join('\n') }];
};

/** Copy a run of lines into another file (a definition defined twice, or half of one), or a new file. */
const copyLines: Edit = (files, pick) => {
  const paths = [...files.keys()];
  const from = files.get(paths[pick(paths.length)]!)!.split('\n');
  const start = pick(from.length);
  const piece = from.slice(start, start + 1 + pick(30)).join('\n');
  const targets = [...paths, 'zz-new.sync', '0-new.sync'];
  const path = targets[pick(targets.length)]!;
  return [{ path, text: `${files.get(path) ?? ''}\n${piece}\n` }];
};

/** Remove a file, or two at once. */
const removeFiles: Edit = (files, pick) => {
  const paths = [...files.keys()];
  const first = paths[pick(paths.length)]!;
  const second = paths[pick(paths.length)]!;
  return [...new Set([first, second])].slice(0, 1 + pick(2)).map((path) => ({ path, text: undefined }));
};

const edits = [renameWord, renameWord, renameWord, damageLine, copyLines, removeFiles];

describe('the editor project checks again what an edit reaches', () => {
  it.each(projects)('$dir: the same diagnostics as a check of the whole project, after each edit', ({ files }) => {
    let incremental = 0;
    // Steps after which the project checks clean and the resumed check left syncs unchecked: what a compile takes as it is.
    let resumedClean = 0;
    // The whole project's check of the files before any edit: the same for every run.
    const first = new Map(checkProject(files).project.syncs.map((s) => [s.name, s]));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(edits.length - 1), fc.array(fc.nat(), { minLength: 8, maxLength: 8 })), { minLength: 1, maxLength: 8 }), (steps) => {
        const texts = new Map(files.map((f) => [f.path, f.text]));
        // Never the whole project, however much of it an edit reaches: the slices are what is tested.
        const p = new Project(files, { wholeShare: 1, keepSyncs: true });
        let outline = JSON.parse(JSON.stringify(p.outline())) as Outline;
        let before = first;
        for (const [which, draws] of steps) {
          let k = 0;
          const pick = (n: number) => (n <= 0 ? 0 : draws[k++ % draws.length]! % n);
          const changes = texts.size === 0 ? [] : edits[which]!(texts, pick);
          for (const c of changes) {
            if (c.text === undefined) texts.delete(c.path);
            else texts.set(c.path, c.text);
          }
          const report = p.update(changes);
          // With wholeShare 1 `report.whole` is never true: what shows a slice is that it checked less than the project.
          if (report.edited.length > 0 && report.checked < report.total) incremental++;
          const sorted = [...texts].map(([path, text]) => ({ path, text })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
          const whole = checkProject(sorted);
          expect(p.allDiagnostics()).toEqual(whole.diagnostics);
          expect([...p.paths]).toEqual([...texts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
          // Each sync checked again is read as the whole project's check reads it.
          const syncs = new Map(whole.project.syncs.map((s) => [s.name, s]));
          for (const s of p.checkedSyncs) expect(s).toEqual(syncs.get(s.name));
          // The same from the outline of the project before the edit, as the next compile resumes from the last one's.
          const resumed = Project.resume(outline, sorted, { wholeShare: 1, keepSyncs: true });
          expect(resumed.project.allDiagnostics()).toEqual(whole.diagnostics);
          for (const s of resumed.project.checkedSyncs) expect(s).toEqual(syncs.get(s.name));
          // Where the project checks clean (a compile goes on), what was not checked again is what the edit cannot have
          // changed: each such sync as the check before the edit read it (a compile takes its output as it is).
          const again = new Set(resumed.project.checkedSyncs.map((s) => s.name));
          if (whole.ok && again.size < syncs.size) resumedClean++;
          if (whole.ok) for (const name of resumed.project.syncNames()) if (!again.has(name)) expect(before.get(name), name).toEqual(syncs.get(name));
          if (whole.ok) expect(resumed.project.syncNames().sort()).toEqual([...syncs.keys()].sort());
          // And a sync the edit did not reach, asked for by name (a run of it), is read as the whole project's check reads it.
          const unreached = [...syncs.keys()].filter((name) => !again.has(name));
          if (whole.ok && unreached.length > 0) {
            const name = unreached[pick(unreached.length)]!;
            expect(resumed.project.syncsNamed([name])).toEqual([syncs.get(name)]);
          }
          // The next step resumes from this one's resumed outline, as each compile resumes from the last one's.
          outline = JSON.parse(JSON.stringify(resumed.project.outline())) as Outline;
          before = syncs;
        }
      }),
      { seed, numRuns: runs },
    );
    // The point of the project: most edits check a slice, not everything.
    expect(incremental).toBeGreaterThan(0);
    expect(resumedClean).toBeGreaterThan(0);
  });

  it('reports the files whose diagnostics an edit changed, those of other files reading what it renamed', () => {
    const p = new Project(projects[0]!.files, { wholeShare: 1 });
    expect(p.allDiagnostics()).toEqual([]);
    const models = 'models.sync';
    const text = p.text(models)!;
    expect(text).toContain('model users {');
    const report = p.update([{ path: models, text: text.replace('model users {', 'model users2 {') }]);
    // Every file that reads `users` now has an unknown reference; models.sync itself has none.
    const readers = p.paths.filter((path) => path !== models && /from\s+users\b/.test(p.text(path)!));
    expect(readers.length).toBeGreaterThan(1);
    expect(report.changed).toEqual(readers);
    for (const path of readers) expect(p.diagnostics(path).map((d) => d.code)).toContain('SW0102');
    const back = p.update([{ path: models, text }]);
    expect(back.changed).toEqual(readers);
    expect(p.allDiagnostics()).toEqual([]);
  });

  /**
   * A project of `texts`, and a step that edits one file (undefined removes it) in the project and
   * in `texts`: the project's diagnostics must be a whole check's of the files; returns those.
   */
  const stepper = (texts: Map<string, string>) => {
    const p = new Project(
      [...texts].map(([path, text]) => ({ path, text })),
      { wholeShare: 1 },
    );
    const step = (path: string, text: string | undefined) => {
      if (text === undefined) texts.delete(path);
      else texts.set(path, text);
      p.update([{ path, text }]);
      const whole = checkProject([...texts].map(([path, text]) => ({ path, text })));
      expect(p.allDiagnostics()).toEqual(whole.diagnostics);
      return whole.diagnostics.map((d) => `${d.code} ${d.span.file}`);
    };
    return { p, step };
  };

  it('checks again the syncs of other files that write into the destination an edited sync writes into', () => {
    const files: SourceText[] = [
      {
        path: 'a.sync',
        text: `source wh : postgres { database "acme" }
model users { from wh  table app.users  primary key id  columns { id bigint  email string } }
sync mirror_users { from users  to wh table crm.people  mode mirror  identifier id -> id  map { email -> email }  guard deletes <= 5% }
`,
      },
      { path: 'b.sync', text: 'sync copy_users { from users  to wh table crm.others  mode upsert  identifier id -> id  map { email -> email } }\n' },
      { path: 'c.sync', text: '# nothing yet\n' },
    ];
    const texts = new Map(files.map((f) => [f.path, f.text]));
    const { step } = stepper(texts);
    // b.sync now writes the table the mirror of a.sync owns: b.sync's sync is the error.
    expect(step('b.sync', texts.get('b.sync')!.replace('crm.others', 'crm.People'))).toEqual(['SW0124 b.sync']);
    // The mirror goes, in another file than the error: the error goes too.
    const a = texts.get('a.sync')!;
    expect(step('a.sync', a.replace(/sync mirror_users[^\n]*\n/, ''))).toEqual([]);
    // It comes back in a third file; then a.sync, which the edit did not touch, regains nothing.
    expect(step('c.sync', a.match(/sync mirror_users[^\n]*\n/)![0])).toEqual(['SW0124 c.sync']);

    // Two storage mirrors, one naming the object as a dotted path, the other as a string with its extension: one object.
    texts.set(
      'a.sync',
      `${a}destination lake : s3 { bucket "acme-lake"  region "us-east-1" }\nsync export_a { from users  to lake path people.csv  mode mirror  identifier id -> id  map { email -> email }  format csv  guard deletes <= 5% }\n`,
    );
    texts.set(
      'c.sync',
      'sync export_b { from users  to lake path "other.csv"  mode mirror  identifier id -> id  map { email -> email }  format csv  guard deletes <= 5% }\n',
    );
    texts.delete('b.sync');
    const { step: storageStep } = stepper(texts);
    expect(storageStep('c.sync', texts.get('c.sync')!.replace('"other.csv"', '"people.csv"'))).toEqual(['SW0124 c.sync']);

    // An audience mirror into a list of an API, and another file's sync into another list, then into that one.
    const lists = new Map([
      [
        'a.sync',
        `source wh : postgres { database "acme" }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
model users { from wh  table app.users  primary key id  columns { id bigint  email string  plan string } }
audience paying { from users  where plan <> 'free' }
sync paying_list { from paying  to crm list "Paying"  mode mirror  identifier email -> email  guard deletes <= 5% }
`,
      ],
      [
        'b.sync',
        `audience trials { from users  where plan = 'trial' }\nsync trials_list { from trials  to crm list "Trials"  mode add  identifier email -> email }\n`,
      ],
    ]);
    const { p: l, step: listStep } = stepper(lists);
    expect(l.allDiagnostics()).toEqual([]);
    expect(listStep('b.sync', lists.get('b.sync')!.replace('"Trials"', '"Paying"'))).toEqual(['SW0124 b.sync']);
    // Adding to one list and removing from it, as audiences change, is not undone by either.
    expect(listStep('a.sync', lists.get('a.sync')!.replace('mode mirror', 'mode remove').replace('  guard deletes <= 5%', ''))).toEqual([]);
  });

  it('an edit that leaves a warehouse destination as it was does not check every sync of its place; one that moves it does', () => {
    const dw = (name: string, database: string) =>
      `destination ${name} : postgres { host "db.acme.internal"  database "${database}"  user "sync"  password env("PG_PASSWORD") }`;
    const texts = new Map([
      [
        'a.sync',
        `source wh_a : postgres { database "acme" }
${dw('dw_a', 'acme')}
model users_a { from wh_a  table app.users  primary key id  columns { id bigint  email string } }
sync copy_a { from users_a  to dw_a table crm.accounts  mode mirror  identifier id -> id  map { email -> email }  guard deletes <= 5%  schedule "0 * * * *" }
`,
      ],
      [
        'b.sync',
        `source wh_b : postgres { database "acme" }
${dw('dw_b', 'acme')}
model users_b { from wh_b  table app.users  primary key id  columns { id bigint  email string } }
sync copy_b { from users_b  to dw_b table crm.people  mode upsert  identifier id -> id  map { email -> email } }
`,
      ],
    ]);
    const p = new Project(
      [...texts].map(([path, text]) => ({ path, text })),
      { wholeShare: 1, keepSyncs: true },
    );
    expect(p.allDiagnostics()).toEqual([]);
    const step = (text: string) => {
      texts.set('a.sync', text);
      p.update([{ path: 'a.sync', text }]);
      const whole = checkProject([...texts].map(([path, text]) => ({ path, text })));
      expect(p.allDiagnostics()).toEqual(whole.diagnostics);
      return { codes: whole.diagnostics.map((d) => `${d.code} ${d.span.file}`), checked: p.checkedSyncs.map((s) => s.name).sort() };
    };
    const a = texts.get('a.sync')!;
    // dw_a as it was: copy_b, of another destination at dw_a's place, is not checked again.
    expect(step(a.replace('"0 * * * *"', '"5 * * * *"'))).toEqual({ codes: [], checked: ['copy_a'] });
    // copy_a now mirrors the table copy_b writes, at their place: copy_b is checked with it.
    const people = a.replace('crm.accounts', 'crm.people');
    expect(step(people)).toEqual({ codes: ['SW0124 b.sync'], checked: ['copy_a', 'copy_b'] });
    // dw_a moved to another database: the error goes with it, though copy_a is as it was.
    expect(step(people.replace('database "acme"  user', 'database "other"  user'))).toEqual({ codes: [], checked: ['copy_a', 'copy_b'] });
  });

  it('checks again, updated and resumed, the syncs of other destinations that reach the table or object an edited file writes', () => {
    const texts = new Map([
      [
        'models.sync',
        `source wh : postgres { host "db.acme.internal"  database "acme" }
destination lake : s3 { bucket "acme-lake"  region "us-east-1"  prefix "exports/" }
destination reporting : postgres { host "db.acme.internal"  database "acme"  user "sync"  password env("PG_PASSWORD") }
model people { from wh  table app.people  primary key id  columns { id bigint  email string } }
model customers { from wh  table app.customers  primary key id  columns { id bigint  email string } }
`,
      ],
      [
        'a.sync',
        `sync people_csv { from people  to lake path "people.csv"  mode mirror  identifier id -> id  map { email -> email }  format csv  guard deletes <= 5% }
sync people_mirror { from people  to reporting table crm.people  mode mirror  identifier id -> id  map { email -> email }  guard deletes <= 5% }
`,
      ],
      [
        'b.sync',
        `destination lake_finance : s3 { bucket "other-bucket"  region "us-east-1" }
sync customers_csv { from customers  to lake_finance path "exports/people.csv"  mode mirror  identifier id -> id  map { email -> email }  format csv  guard deletes <= 5% }
`,
      ],
      [
        'c.sync',
        `destination finance : postgres { host "db.acme.internal"  database "finance"  user "sync"  password env("PG_PASSWORD") }
sync customers_upsert { from customers  to finance table crm.people  mode upsert  identifier id -> id  map { email -> email } }
`,
      ],
      // A destination in a file of its own, and its sync in a file before b.sync's: an error between the two lands on b.sync's.
      [
        'aa.sync',
        `sync archive_csv { from people  to archive_lake path "exports/people.csv"  mode mirror  identifier id -> id  map { email -> email }  format csv  guard deletes <= 5% }\n`,
      ],
      ['d.sync', `destination archive_lake : s3 { bucket "archive-bucket"  region "us-east-1" }\n`],
      // Definitions no edit reaches, so that what is checked again is a part of the project.
      ['other.sync', Array.from({ length: 8 }, (_, i) => `model m${i} { from wh  table app.t${i}  primary key id  columns { id bigint } }\n`).join('')],
    ]);
    const files = () => [...texts].map(([path, text]) => ({ path, text }));
    const p = new Project(files(), { wholeShare: 1 });
    expect(p.allDiagnostics()).toEqual([]);
    let outline = JSON.parse(JSON.stringify(p.outline())) as Outline;
    const step = (path: string, from: string, to: string) => {
      expect(texts.get(path)).toContain(from);
      texts.set(path, texts.get(path)!.replace(from, to));
      const report = p.update([{ path, text: texts.get(path) }]);
      expect(report.checked).toBeLessThan(report.total);
      const whole = checkProject(files());
      expect(p.allDiagnostics()).toEqual(whole.diagnostics);
      // The same from the outline of the project before the edit, as the next check resumes from the last one's cache.
      const resumed = Project.resume(outline, files(), { wholeShare: 1 });
      expect(resumed.report.checked).toBeLessThan(resumed.report.total);
      expect(resumed.project.allDiagnostics()).toEqual(whole.diagnostics);
      outline = JSON.parse(JSON.stringify(resumed.project.outline())) as Outline;
      return whole.diagnostics.map((d) => `${d.code} ${d.span.file}`);
    };
    // lake_finance now names the bucket of lake: its path is the key lake's prefix and path make.
    expect(step('b.sync', '"other-bucket"', '"acme-lake"')).toEqual(['SW0124 b.sync']);
    // finance now names the database of reporting, on the same host: the mirror's table is written by the upsert too.
    expect(step('c.sync', '"finance"', '"acme"')).toEqual(['SW0124 b.sync', 'SW0124 c.sync']);
    // A host given by the environment is not known to be that one.
    expect(step('c.sync', 'host "db.acme.internal"', 'host env("PG_HOST")')).toEqual(['SW0124 b.sync']);
    // The first mirror goes, in another file than the error: the error goes too.
    expect(step('a.sync', /sync people_csv[^\n]*\n/.exec(texts.get('a.sync')!)![0], '')).toEqual([]);
    // archive_lake moves onto lake_finance's bucket: b.sync's mirror writes its object too.
    expect(step('d.sync', '"archive-bucket"', '"acme-lake"')).toEqual(['SW0124 b.sync']);
    // And back: the error on b.sync, a file neither edit touched, goes with the place it left.
    expect(step('d.sync', '"acme-lake"', '"archive-bucket"')).toEqual([]);
  });
});

describe("a sync's check that reports at a column of the model it reads, in another file", () => {
  // Without a `map` every column of the model is a field, reported at the model's column: `sw_rn`, a name a warehouse sync's SQL
  // keeps for itself (an error), and `userId`, which Amplitude reads as an ordinary field, not its `user_id` (a warning).
  const cases = [
    {
      what: 'an error',
      models: `source wh : postgres { database "acme"  schema "analytics" }
model people { from wh  table analytics.people  primary key id  columns { id bigint  email string  sw_rn int } }
`,
      mapped: 'sync people_copy { from people  to wh table crm.people  mode upsert  identifier id -> id  map { email -> email } }\n',
      unmapped: 'sync people_copy { from people  to wh table crm.people_v2  mode upsert  identifier id -> id }\n',
      reported: 'SW0120 models.sync:2',
    },
    {
      what: 'a warning',
      models: `source wh : postgres { database "acme" }
destination amp : amplitude { api_key env("AMPLITUDE_KEY") }
model people { from wh  table analytics.events  primary key id  columns { id string  user_id string  userId string } }
`,
      mapped: 'sync people_copy { from people  to amp event "Seen"  mode insert  identifier id -> event_id  map { user_id -> user_id } }\n',
      unmapped: 'sync people_copy { from people  to amp event "Seen"  mode insert  identifier id -> event_id }\n',
      reported: 'SW0608 models.sync:3',
    },
  ];
  // Models no edit reaches, so that what is checked again is a part of the project.
  const other = Array.from({ length: 5 }, (_, i) => `model m${i} { from wh  table analytics.t${i}  primary key id  columns { id bigint } }\n`).join('');

  it.each(cases)('$what: replaced by a slice, updated and resumed, as a check of the whole project reports it', ({ models, mapped, unmapped, reported }) => {
    const texts = new Map([
      ['models.sync', models],
      ['other.sync', other],
      ['syncs.sync', mapped],
    ]);
    const files = () => [...texts].map(([path, text]) => ({ path, text }));
    const p = new Project(files(), { wholeShare: 1, keepSyncs: true });
    let outline = JSON.parse(JSON.stringify(p.outline())) as Outline;
    expect(p.allDiagnostics()).toEqual([]);
    const seen: string[][] = [];
    for (const text of [unmapped, mapped, unmapped, `# a comment\n${unmapped}`]) {
      texts.set('syncs.sync', text);
      const report = p.update([{ path: 'syncs.sync', text }]);
      expect(report.checked).toBeLessThan(report.total);
      const whole = checkProject(files());
      expect(p.allDiagnostics()).toEqual(whole.diagnostics);
      const resumed = Project.resume(outline, files(), { wholeShare: 1, keepSyncs: true });
      expect(resumed.report.checked).toBeLessThan(resumed.report.total);
      expect(resumed.project.allDiagnostics()).toEqual(whole.diagnostics);
      // The edited sync was checked again: a compile never takes it from its output as it was.
      expect(resumed.project.uncheckedSyncs()).toEqual([]);
      outline = JSON.parse(JSON.stringify(resumed.project.outline())) as Outline;
      seen.push(whole.diagnostics.map((d) => `${d.code} ${d.span.file}:${d.span.line}`));
    }
    expect(seen).toEqual([[reported], [], [reported], [reported]]);
  });
});

describe('the syncs named, from a project resumed from its outline', () => {
  it('are each what a check of the whole project makes of it, read from the files they need alone', () => {
    for (const { files } of projects) {
      const whole = new Map(checkProject(files).project.syncs.map((s) => [s.name, s]));
      expect(whole.size).toBeGreaterThan(1);
      const outline = new Project(files).outline();
      for (const name of whole.keys()) {
        const { project } = Project.resume(outline, files);
        expect(project.syncsNamed([name])).toEqual([whole.get(name)]);
      }
      // Several at once, and a name that is no sync's.
      const names = [...whole.keys()].filter((_, i) => i % 2 === 0);
      const { project } = Project.resume(outline, files);
      expect(project.syncsNamed([...names, 'no_such_sync'])).toEqual([...whole.values()].filter((s) => names.includes(s.name)));
    }
  });
});

describe('a project whose models come from dbt', () => {
  it('reads the dbt artifacts as check does: examples/dbt-shop has no diagnostic', () => {
    const dir = join(process.cwd(), 'examples', 'dbt-shop');
    const [root] = new Workspace([dir]).roots;
    expect(root!.project.paths).toEqual(['shop.sync']);
    expect(root!.project.allDiagnostics().map((d) => `${d.code} ${d.message}`)).toEqual([]);
  });
});
