/**
 * `syncwright diff`: for every kind of change, a pair of versions of an example project (the
 * example, and the example edited) compared by meaning, with the text output as a golden
 * file (test/golden/diff/<scenario>.txt), the kinds found, and which are destructive. One
 * combined pair also as JSON and as the Markdown of a pull-request comment. Then the CLI
 * on temporary git repositories: revisions, the working tree, folders, a project in a
 * sub-folder, errors, `--fail-on-destructive`.
 *
 * Update the goldens with `npx vitest run test/diff.test.ts -u` and review the diff.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProject, type SourceText } from '../src/check/check.js';
import { changeKinds, compareProjects, type Change, type ChangeKind } from '../src/diff/compare.js';
import { code, escapeMarkdown } from '../src/diagnostics/markdown.js';
import { renderDiff } from '../src/diff/render.js';
import { ensureBuilt } from './support/build.js';
import { syncFiles } from './fixtures/format/helpers.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

function example(name: string): SourceText[] {
  const dir = `examples/${name}`;
  return syncFiles(dir).map((f) => ({ path: f.path.slice(dir.length + 1), text: f.text }));
}

/** `[file, from, to]`: replace text in a file (it must be there), `to` undefined removes the file; a file not in the project is added. */
type Edit = [file: string, from: string, to: string | undefined];

function edited(files: readonly SourceText[], edits: readonly Edit[]): SourceText[] {
  const out = new Map(files.map((f) => [f.path, f.text]));
  for (const [file, from, to] of edits) {
    const text = out.get(file);
    if (to === undefined) out.delete(file);
    else if (text === undefined) out.set(file, to);
    else {
      if (!text.includes(from)) throw new Error(`${file} has no ${JSON.stringify(from)}: the example changed, so the scenario must`);
      out.set(file, text.replace(from, to));
    }
  }
  return [...out].map(([path, text]) => ({ path, text })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function version(files: readonly SourceText[]) {
  const result = checkProject(files);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { project: result.project, texts: new Map(files.map((f) => [f.path, f.text])) };
}

function diff(project: string, headEdits: readonly Edit[], baseEdits: readonly Edit[] = []): Change[] {
  const files = example(project);
  return compareProjects(version(edited(files, baseEdits)), version(edited(files, headEdits)));
}

interface Scenario {
  name: string;
  project: string;
  head: Edit[];
  base?: Edit[];
  /** The kinds of change found, and which of them are destructive. */
  kinds: ChangeKind[];
  destructive: ChangeKind[];
}

const newSync = (name: string, body: string) => `sync ${name} {\n${body}\n}\n`;

const scenarios: Scenario[] = [
  {
    name: 'sync-added',
    project: 'b2b-saas',
    head: [['syncs/new.sync', '', newSync('users_to_hubspot_again', '  from users\n  to hubspot object contacts\n  mode upsert\n  identifier email -> email')]],
    kinds: ['sync-added'],
    destructive: [],
  },
  {
    name: 'sync-added-deleting',
    project: 'b2b-saas',
    head: [
      [
        'syncs/new.sync',
        '',
        newSync(
          'accounts_replica',
          '  from accounts\n  to warehouse table crm_sync.accounts\n  mode mirror\n  identifier account_id -> account_id\n  guard deletes <= 1%',
        ),
      ],
    ],
    kinds: ['sync-added'],
    destructive: ['sync-added'],
  },
  {
    name: 'sync-removed',
    project: 'b2b-saas',
    head: [
      ['syncs/hubspot.sync', 'sync pqls_to_hubspot_list {', 'sync pqls_to_hubspot_list_gone {'],
      [
        'syncs/hubspot.sync',
        'sync pqls_to_hubspot_list_gone {\n  from       product_qualified_leads',
        'sync pqls_to_hubspot_list_gone {\n  from       active_trials',
      ],
    ],
    kinds: ['sync-added', 'sync-removed'],
    destructive: [],
  },
  {
    name: 'sync-renamed',
    project: 'b2b-saas',
    head: [['syncs/hubspot.sync', 'sync users_to_hubspot_contacts {', 'sync contacts_to_hubspot {']],
    kinds: ['sync-renamed'],
    destructive: [],
  },
  {
    name: 'mode-into-mirror',
    project: 'b2b-saas',
    head: [['syncs/hubspot.sync', 'mode       upsert\n  identifier email -> email', 'mode       mirror\n  identifier email -> email']],
    kinds: ['mode'],
    destructive: ['mode'],
  },
  {
    name: 'mode-audience-remove',
    project: 'b2b-saas',
    head: [['syncs/hubspot.sync', 'mode       add', 'mode       remove']],
    kinds: ['mode'],
    destructive: ['mode'],
  },
  {
    name: 'mode-audience-mirror',
    project: 'ecommerce',
    head: [
      [
        'syncs/ads.sync',
        '  mode       add\n  identifier email -> EMAIL hashed\n  batch      10000',
        '  mode       mirror\n  identifier email -> EMAIL hashed\n  batch      10000',
      ],
    ],
    kinds: ['mode'],
    destructive: ['mode'],
  },
  {
    name: 'mode-other',
    project: 'b2b-saas',
    // Out of mirror: the guard must go too (a guard on a mode that deletes nothing is an error).
    head: [
      ['syncs/warehouse.sync', '  mode       mirror\n  identifier account_id -> account_id', '  mode       upsert\n  identifier account_id -> account_id'],
      ['syncs/warehouse.sync', '  guard      deletes <= 5%\n', ''],
    ],
    kinds: ['mode', 'guard-deletes'],
    destructive: [],
  },
  {
    name: 'identifier',
    project: 'b2b-saas',
    head: [
      ['syncs/salesforce.sync', 'identifier account_id -> Syncwright_Account_Id__c', 'identifier domain -> Website'],
      ['syncs/salesforce.sync', '    domain          -> Website\n', ''],
    ],
    kinds: ['identifier', 'field-removed'],
    destructive: ['identifier'],
  },
  {
    name: 'identifier-under-mirror',
    project: 'b2b-saas',
    head: [['syncs/hubspot.sync', 'identifier account_id -> workspace_id', 'identifier account_id -> workspace_key']],
    kinds: ['identifier'],
    destructive: ['identifier'],
  },
  {
    name: 'identifier-hashing',
    project: 'events-pipeline',
    base: [['syncs/streaming.sync', 'identifier event_id\n', 'identifier event_id hashed\n']],
    head: [],
    kinds: ['identifier-hashing'],
    destructive: ['identifier-hashing'],
  },
  {
    name: 'guard-deletes',
    project: 'b2b-saas',
    head: [
      ['syncs/hubspot.sync', 'guard      deletes <= 2%', 'guard      deletes <= 20%'],
      ['syncs/hubspot.sync', 'guard      deletes <= 500', 'guard      deletes <= 100'],
      ['syncs/warehouse.sync', 'guard      deletes <= 5%', 'guard      deletes <= 5000'],
      ['syncs/warehouse.sync', '  guard      deletes <= 1000\n', ''],
    ],
    kinds: ['guard-deletes'],
    destructive: ['guard-deletes'],
  },
  {
    name: 'guard-allow-empty',
    project: 'b2b-saas',
    head: [['syncs/warehouse.sync', '  guard      deletes <= 5%\n', '  guard      deletes <= 5%\n  guard      allow empty\n']],
    kinds: ['guard-allow-empty'],
    destructive: ['guard-allow-empty'],
  },
  {
    name: 'from',
    project: 'b2b-saas',
    head: [['syncs/hubspot.sync', 'from       active_trials', 'from       product_qualified_leads']],
    kinds: ['from'],
    destructive: ['from'],
  },
  {
    name: 'destination-and-target',
    project: 'b2b-saas',
    head: [
      ['syncs/salesforce.sync', 'to         salesforce object Lead', 'to         hubspot object leads'],
      ['syncs/warehouse.sync', 'to         warehouse table crm_sync.account_health', 'to         warehouse table crm_sync.account_health_v2'],
    ],
    kinds: ['destination', 'target'],
    destructive: ['target'],
  },
  {
    name: 'object',
    project: 'b2b-saas',
    head: [
      ['syncs/salesforce.sync', 'to         salesforce object Lead', 'to         salesforce object Contact'],
      ['syncs/hubspot.sync', 'to         hubspot object p_workspaces', 'to         hubspot object p_accounts'],
      ['syncs/hubspot.sync', 'to         hubspot list "Product Qualified Leads"', 'to         hubspot list "PQLs (2026)"'],
    ],
    kinds: ['target'],
    destructive: ['target'],
  },
  {
    name: 'fields',
    project: 'b2b-saas',
    head: [
      ['syncs/hubspot.sync', '    job_title      -> jobtitle\n', ''],
      [
        'syncs/hubspot.sync',
        '    plan           -> plan_tier\n    billing_status -> billing_status\n    signed_up_at',
        '    account_domain -> company_domain\n    billing_status -> plan_tier\n    plan           -> billing_status\n    signed_up_at',
      ],
      ['syncs/hubspot.sync', '    last_name      -> lastname\n', '    last_name      -> lastname hashed\n'],
    ],
    kinds: ['field-added', 'field-removed', 'field-column', 'field-hashing'],
    destructive: [],
  },
  {
    name: 'schedule-batch-format-message',
    project: 'events-pipeline',
    head: [
      ['syncs/streaming.sync', 'batch      1000', 'batch      2000'],
      ['syncs/streaming.sync', 'schedule   "*/5 * * * *"', 'schedule   "*/10 * * * *"'],
      ['syncs/storage.sync', 'format     jsonl\n  batch      500000', 'format     csv\n  batch      500000'],
      ['syncs/notifications.sync', ':tada: New enterprise trial:', ':rocket: New enterprise trial:'],
    ],
    kinds: ['schedule', 'batch', 'format', 'message'],
    destructive: [],
  },
  {
    name: 'definitions',
    project: 'b2b-saas',
    head: [
      ['sources.sync', 'schema       "analytics"', 'schema       "analytics_v2"'],
      ['destinations.sync', 'instance_url  "https://acme.my.salesforce.com"', 'instance_url  "https://acme-sandbox.my.salesforce.com"'],
      ['models.sync', 'table       analytics.dim_accounts', 'table       analytics.dim_accounts_v2'],
      ['models.sync', '    seats_purchased       int\n', '    seats_purchased       bigint\n    seats_used            int?\n'],
      ['audiences.sync', "where billing_status = 'trialing'", "where billing_status = 'trialing' and plan <> 'enterprise'"],
      [
        'destinations.sync',
        'destination hubspot : hubspot {',
        'destination intercom : webhook {\n  url "https://hooks.example.com/intercom"\n}\n\ndestination hubspot : hubspot {',
      ],
    ],
    kinds: ['source', 'destination-settings', 'model', 'audience', 'definition-added'],
    destructive: [],
  },
];

describe('syncwright diff: every change kind on pairs of example projects', () => {
  it.each(scenarios)('$name', async ({ name, project, head, base, kinds, destructive }) => {
    const changes = diff(project, head, base);
    expect([...new Set(changes.map((c) => c.kind))].sort()).toEqual([...kinds].sort());
    expect([...new Set(changes.filter((c) => c.risk === 'destructive').map((c) => c.kind))].sort()).toEqual([...destructive].sort());
    await expect(renderDiff('text', changes, { base: `examples/${project}`, head: name })).toMatchFileSnapshot(join('golden', 'diff', `${name}.txt`));
  });

  it('covers every kind of change', () => {
    const covered = new Set(scenarios.flatMap((s) => s.kinds));
    // A definition removed needs nothing that reads it: an unused destination, added above in reverse.
    const removed = diff(
      'b2b-saas',
      [],
      [
        [
          'destinations.sync',
          'destination hubspot : hubspot {',
          'destination unused : webhook {\n  url "https://x.example.com"\n}\n\ndestination hubspot : hubspot {',
        ],
      ],
    );
    expect(removed.map((c) => `${c.kind} ${c.subject.kind} ${c.subject.name}`)).toEqual(['definition-removed destination unused']);
    covered.add('definition-removed');
    expect(changeKinds.filter((k) => !covered.has(k))).toEqual([]);
  });

  it('finds nothing between versions that differ only in layout and comments', () => {
    const files = example('b2b-saas');
    const reformatted = files.map((f) => ({
      path: f.path,
      text: f.text
        .replace(/#[^\n]*/g, '')
        .replace(/ +/g, ' ')
        .replace(/ %/g, '%'),
    }));
    expect(compareProjects(version(files), version(reformatted))).toEqual([]);
    expect(renderDiff('text', [], { base: 'a', head: 'b' })).toBe('syncwright diff a → b: no change in meaning\n');
  });

  const combined: Edit[] = [
    ['syncs/hubspot.sync', 'mode       upsert\n  identifier email -> email', 'mode       mirror\n  identifier email -> email'],
    ['syncs/hubspot.sync', '    job_title      -> jobtitle\n', ''],
    ['syncs/warehouse.sync', 'schedule   "20 * * * *"', 'schedule   "40 * * * *"'],
  ];

  it('writes JSON for tools', async () => {
    const json = renderDiff('json', diff('b2b-saas', combined), { base: 'origin/main', head: 'HEAD' });
    const parsed = JSON.parse(json) as { summary: Record<string, number>; changes: Change[] };
    expect(parsed.summary).toEqual({ destructive: 1, risky: 1, info: 1 });
    expect(parsed.changes.map((c) => c.risk)).toEqual(['destructive', 'risky', 'info']);
    await expect(json).toMatchFileSnapshot(join('golden', 'diff', 'combined.json'));
  });

  it('writes GitHub Markdown for a pull-request comment, risky first, the others folded', async () => {
    const md = renderDiff('markdown', diff('b2b-saas', combined), { base: 'origin/main', head: 'HEAD' });
    expect(md.indexOf('🛑 **destructive**')).toBeLessThan(md.indexOf('⚠️ risky'));
    expect(md.indexOf('⚠️ risky')).toBeLessThan(md.indexOf('<details>'));
    await expect(md).toMatchFileSnapshot(join('golden', 'diff', 'combined.md'));
    expect(renderDiff('markdown', [], { base: 'a', head: 'b' })).toContain('No change in meaning');
  });

  it('escapes what the files say, in Markdown', () => {
    expect(code('a|b')).toBe('`a\\|b`');
    expect(code('x`y')).toBe('``x`y``');
    expect(code('`x`')).toBe('`` `x` ``');
    // 200,000 runs of backticks: more than `Math.max(...runs)` takes as arguments (it overflowed the stack).
    const runs = '`` '.repeat(199_999);
    expect(code(`${runs}x`)).toBe(['```', ' ', runs, 'x ', '```'].join(''));
    expect(escapeMarkdown('<img src=x> @team *b* | [l](u)\nnext')).toBe('&lt;img src=x&gt; @&#8203;team \\*b\\* \\| \\[l\\](u) next');
  });

  it('escapes what the files say, on a terminal: no control character of a file name or value reaches it', () => {
    const file = 'p\u001b]0;owned\u0007\u009b2J\n  ! forged.sync';
    const project = (database: string) => version([{ path: file, text: `source wh : postgres {\n  database ${JSON.stringify(database)}\n}\n` }]);
    const text = renderDiff('text', compareProjects(project('acme'), project('acme\u001b[2J')), { base: 'a\u001b[1m', head: 'b' });
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain('(p\\x1b]0;owned\\x07\\u009b2J\\n  ! forged.sync:1)');
    expect(text).toContain('syncwright diff a\\x1b[1m → b');
    expect(text.split('\n').filter((l) => l.includes('forged'))).toHaveLength(1);
    // As JSON too (JSON.stringify leaves DEL and C1 raw), read back as it was.
    const json = renderDiff('json', compareProjects(project('acme'), project('acme\u009b2J')), { base: 'a\u009b', head: 'b' });
    expect(json).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect((JSON.parse(json) as { base: string }).base).toBe('a\u009b');
  });

  it('keeps each change on its row of the Markdown table, whatever line break a message holds', () => {
    const project = (message: string) =>
      version([
        {
          path: 'p.sync',
          text: `source wh : postgres {\n  database "acme"\n}\nmodel users {\n  from wh\n  table analytics.users\n  primary key user_id\n  columns {\n    user_id bigint\n    email string\n  }\n}\ndestination chat : slack {\n  token env("SLACK_TOKEN")\n}\nsync users_to_slack {\n  from users\n  to chat channel "#general"\n  mode insert\n  identifier user_id\n  message ${JSON.stringify(message)}\n}\n`,
        },
      ]);
    const attack = '| x | @octocat please approve **LGTM** [details](https://evil.example) <b>x</b> |';
    for (const cut of ['\r', '\n', '\r\n', '\u2028', '\u2029']) {
      const md = renderDiff('markdown', compareProjects(project('New user {{email}}'), project(`New user {{email}}${cut}${attack}`)), { base: 'a', head: 'b' });
      expect(md).not.toMatch(/[\r\u2028\u2029]/);
      const row = md.split('\n').find((l) => l.includes('users_to_slack'))!;
      // The whole attack is inside the code span of the row: nothing after it starts markup or a cell.
      expect(row).toContain(`\`New user {{email}} \\| x \\| @octocat please approve **LGTM** [details](https://evil.example) <b>x</b> \\|\``);
      expect(md.split('\n').filter((l) => l.startsWith('|'))).toHaveLength(3);
    }
    expect(code('a\rb\u2028c\u0085d')).toBe('`a b c d`');
    expect(escapeMarkdown('a\rb\u2029c')).toBe('a b c');
  });
});

describe('syncwright diff compares what the compiled output depends on', () => {
  const project = (edit: (text: string) => string = (t) => t) =>
    version([
      {
        path: 'p.sync',
        text: edit(`source wh : postgres {
  database "acme"
}

model users {
  from        wh
  table       analytics.users
  primary key user_id
  columns {
    user_id bigint
    email   string
    ltv     int
  }
}

model paying {
  from        wh
  sql         """select user_id, email from analytics.users where plan = 'Pro  Annual'"""
  primary key user_id
  columns {
    user_id bigint
    email   string
  }
}

audience whales {
  from  users
  where user_id <> 1234567890123456789
}

destination ads : facebook_ads {
  ad_account "act_1234567890"
  token      env("META_TOKEN")
}

destination hook : webhook {
  url "https://example.com/h"
}

sync whales_to_facebook {
  from       whales
  to         ads audience "Whales"
  mode       mirror
  identifier email -> EMAIL hashed
}

sync users_to_hook {
  from       users
  to         hook path "/x"
  mode       insert
  identifier user_id
  map {
    email -> Email
  }
}

sync paying_to_table {
  from       paying
  to         wh table crm.paying
  mode       upsert
  identifier user_id
  map {
    email -> Email
  }
}
`),
      },
    ]);
  const changes = (from: string, to: string) =>
    compareProjects(
      project(),
      project((t) => {
        expect(t).toContain(from);
        return t.replace(from, to);
      }),
    ).map((c) => `${c.risk} ${c.kind} ${c.subject.kind} ${c.subject.name}${c.syncs ? ` [${c.syncs.join(', ')}]` : ''}`);

  it('tells payload keys apart by case, warehouse columns as the warehouse folds them, and Meta keys in any case', () => {
    // The webhook's payload key was "Email" and is "email".
    expect(changes('map {\n    email -> Email\n  }\n}\n\nsync paying', 'map {\n    email -> email\n  }\n}\n\nsync paying')).toEqual([
      'risky field-removed sync users_to_hook',
      'info field-added sync users_to_hook',
    ]);
    // A bare column name is folded by Postgres: Email and email are one column.
    expect(
      compareProjects(
        project(),
        project((t) => t.replace(/(sync paying_to_table[\s\S]*?)email -> Email/, '$1email -> email')),
      ),
    ).toEqual([]);
    // Meta takes its keys in any case and sends its own spelling.
    expect(changes('identifier email -> EMAIL hashed', 'identifier email -> email hashed')).toEqual([]);
  });

  it('names the syncs that read a changed model through an audience, and what a deleting one does', () => {
    expect(changes('table       analytics.users', 'table       staging.users_test')).toEqual(['risky model model users [users_to_hook, whales_to_facebook]']);
    const change = compareProjects(
      project(),
      project((t) => t.replace('analytics.users\n', 'staging.users_test\n')),
    )[0]!;
    expect(change.message).toContain('read by whales_to_facebook (mirror), which deletes what no longer matches');
  });

  it("judges literals by their text: a whole number past 2^53, spaces inside a quoted string of a model's SQL", () => {
    expect(changes('1234567890123456789', '1234567890123456788')).toEqual(['risky audience audience whales [whales_to_facebook]']);
    expect(changes("'Pro  Annual'", "'Pro Annual'")).toEqual(['info model model paying [paying_to_table]']);
    // What the warehouse reads the same is no change: the query's layout and comments, a number's spelling.
    expect(changes('select user_id, email from', 'select   user_id,\n  email  -- the address\n  from')).toEqual([]);
    expect(changes('1234567890123456789', '1234567890123456789.0')).toEqual([]);
  });
});

describe('syncwright diff on git repositories and folders (CLI)', () => {
  const bin = join(repo, 'bin', 'syncwright.js');
  let dir: string;
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', ...args], { cwd, stdio: 'pipe' }).toString();
  const run = (cwd: string, ...args: string[]) =>
    spawnSync(process.execPath, [bin, 'diff', ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'syncwright-diff-'));
    // The project in a sub-folder of the repository, beside other files.
    mkdirSync(join(dir, 'repo', 'docs'), { recursive: true });
    writeFileSync(join(dir, 'repo', 'docs', 'x.md'), 'not a project\n');
    cpSync(join(repo, 'examples', 'b2b-saas'), join(dir, 'repo', 'syncs-project'), { recursive: true });
    git(join(dir, 'repo'), 'init', '-q', '-b', 'main');
    git(join(dir, 'repo'), 'add', '.');
    git(join(dir, 'repo'), 'commit', '-q', '-m', 'base');
    const hubspot = join(dir, 'repo', 'syncs-project', 'syncs', 'hubspot.sync');
    writeFileSync(
      hubspot,
      readFileSync(hubspot, 'utf8').replace('mode       upsert\n  identifier email -> email', 'mode       mirror\n  identifier email -> email'),
    );
    git(join(dir, 'repo'), 'commit', '-q', '-am', 'head');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compares two revisions, from the project folder or with --project from elsewhere', () => {
    const inProject = run(join(dir, 'repo', 'syncs-project'), 'HEAD~1', 'HEAD');
    expect(inProject.status).toBe(0);
    expect(inProject.stdout).toMatch(/^syncwright diff HEAD~1 → HEAD: 1 change: 1 destructive/);
    expect(inProject.stdout).toContain('! sync users_to_hubspot_contacts (syncs/hubspot.sync:5) mode: upsert → mirror');
    const fromTop = run(join(dir, 'repo'), 'HEAD~1', 'HEAD', '--project', 'syncs-project');
    expect(fromTop.stdout).toBe(inProject.stdout);
    const github = run(join(dir, 'repo'), 'main~1', '--project', 'syncs-project', '--format', 'github');
    expect(github.stdout).toContain('### syncwright diff: `main~1` → `syncs-project`');
    expect(github.stdout).toContain('| 🛑 **destructive** | sync `users_to_hubspot_contacts` | mode `upsert` → `mirror` |');
  });

  it('compares a revision with the working tree, and two folders', () => {
    const project = join(dir, 'repo', 'syncs-project');
    const sync = join(project, 'syncs', 'warehouse.sync');
    const before = readFileSync(sync, 'utf8');
    writeFileSync(sync, before.replaceAll('schedule   "20 * * * *"', 'schedule   "40 * * * *"'));
    try {
      const r = run(project, 'HEAD', '--format', 'json');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as { base: string; head: string; changes: Change[] };
      expect([out.base, out.head]).toEqual(['HEAD', 'the working tree']);
      expect(out.changes.map((c) => `${c.kind} ${c.subject.name}`)).toEqual(['schedule churn_risk_membership', 'schedule usage_to_account_health']);
    } finally {
      writeFileSync(sync, before);
    }
    const folders = run(dir, join(repo, 'examples', 'b2b-saas'), join(dir, 'repo', 'syncs-project'));
    expect(folders.status).toBe(0);
    expect(folders.stdout).toContain('1 change: 1 destructive');
  });

  it('reads the dbt artifacts a project names, as check does, for folders and revisions', () => {
    const shop = join(dir, 'dbt-shop');
    cpSync(join(repo, 'examples', 'dbt-shop'), shop, { recursive: true });
    git(shop, 'init', '-q', '-b', 'main');
    git(shop, 'add', 'shop.sync');
    git(shop, 'commit', '-q', '-m', 'base');
    const folders = run(dir, shop, shop);
    expect(folders.stderr).toBe('');
    expect(folders.stdout).toMatch(/no change in meaning/);
    // The revision holds only the .sync file: dbt's target/ is read from the working tree.
    const revision = run(shop, 'HEAD');
    expect(revision.stderr).toBe('');
    expect(revision.status).toBe(0);
    expect(revision.stdout).toMatch(/no change in meaning/);
  });

  it('exits 1 on a destructive change with --fail-on-destructive, and refuses versions with errors', () => {
    const project = join(dir, 'repo', 'syncs-project');
    expect(run(project, 'HEAD~1', 'HEAD', '--fail-on-destructive').status).toBe(1);
    expect(run(project, 'HEAD', 'HEAD', '--fail-on-destructive').status).toBe(0);
    const sync = join(project, 'syncs', 'hubspot.sync');
    const before = readFileSync(sync, 'utf8');
    writeFileSync(sync, before.replace('mode       mirror', 'mode       mirorr'));
    try {
      const r = run(project, 'HEAD');
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('the head (the working tree) has errors');
      expect(r.stderr).toContain('error[SW0116]: unknown mode `mirorr`');
    } finally {
      writeFileSync(sync, before);
    }
    const unknown = run(project, 'no-such-branch');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('no-such-branch is neither a folder nor a git revision');
  });
});
