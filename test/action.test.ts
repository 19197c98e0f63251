/**
 * The GitHub Action (action.yml): its one step run as the runner runs it (the step's `run`
 * and `env` from action.yml, expressions given their values) in a shallow clone of a
 * temporary repository, on pull-request and push events, against a local GitHub API
 * (test/servers/github.ts). Annotations, the job summary, the outputs, the comment posted
 * and then updated, failing on fmt or on a destructive change, a read-only token.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureBuilt } from './support/build.js';
import { fault } from './servers/fake-api.js';
import { FakeGitHub } from './servers/github.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const token = 'ghs_test_token';

interface ActionYaml {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: { id?: string; shell: string; env: Record<string, string>; run: string }[] };
}
const action = parse(readFileSync(join(repo, 'action.yml'), 'utf8')) as ActionYaml;

let dir: string;
let origin: string;
let workspace: string;
let github: FakeGitHub;
let baseSha: string;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', ...args], { cwd, stdio: 'pipe' })
    .toString()
    .trim();

/** A `${{ ... }}` of action.yml, as the runner evaluates it here; any other is a mistake of the test or the action. */
function evaluate(text: string, inputs: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
    if (expr === 'github.action_path') return repo;
    if (expr === 'github.token') return token;
    const input = /^inputs\.([\w-]+)$/.exec(expr)?.[1];
    if (input !== undefined && input in action.inputs) return inputs[input] ?? evaluate(action.inputs[input]!.default ?? '', inputs);
    throw new Error(`the test does not evaluate \${{ ${expr} }}`);
  });
}

interface Run {
  status: number | null;
  log: string;
  summary: string;
  outputs: Record<string, string>;
}

/** The local GitHub API of a test that needs its own (the shared one otherwise), closed after it. */
async function withGitHub(server: FakeGitHub, body: () => Promise<void>): Promise<void> {
  await server.start();
  const shared = github;
  github = server;
  try {
    await body();
  } finally {
    github = shared;
    await server.api.close();
  }
}

/** One step's shell, run without blocking this process: the local GitHub API answers from it. */
function shell(command: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

/** The action's steps, in the workspace, for an event. */
async function runAction(event: { name: string; payload: object }, inputs: Record<string, string> = {}): Promise<Run> {
  const scratch = mkdtempSync(join(dir, 'run-'));
  const files = { event: join(scratch, 'event.json'), summary: join(scratch, 'summary.md'), output: join(scratch, 'output') };
  writeFileSync(files.event, JSON.stringify(event.payload));
  writeFileSync(files.summary, '');
  writeFileSync(files.output, '');
  let log = '';
  let status: number | null = 0;
  for (const step of action.runs.steps) {
    const stepEnv = Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, evaluate(v, inputs)]));
    const r = await shell([step.shell, '-e', '-c', evaluate(step.run, inputs)], workspace, {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...stepEnv,
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: event.name,
      GITHUB_EVENT_PATH: files.event,
      GITHUB_REPOSITORY: 'acme/syncs',
      GITHUB_API_URL: github.api.url,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_OUTPUT: files.output,
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: scratch,
    });
    log += r.output;
    status = r.status;
    if (status !== 0) break;
  }
  // Whatever happened, the token is never shown.
  expect(log).not.toContain(token);
  expect(readFileSync(files.summary, 'utf8')).not.toContain(token);
  const outputs = Object.fromEntries(
    readFileSync(files.output, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('=') as [string, string]),
  );
  return { status, log, summary: readFileSync(files.summary, 'utf8'), outputs };
}

const pullRequest = () => ({ name: 'pull_request', payload: { pull_request: { number: 7, base: { sha: baseSha } } } });

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'syncwright-action-'));
  // origin: main with the example in project/, then a pull request's head that turns a sync into a mirror and leaves a file unformatted.
  origin = join(dir, 'origin');
  cpSync(join(repo, 'examples', 'b2b-saas'), join(origin, 'project'), { recursive: true });
  // A second project of the repository, which the pull request does not change.
  cpSync(join(repo, 'examples', 'demo', 'shop.sync'), join(origin, 'shop', 'shop.sync'));
  git(origin, 'init', '-q', '-b', 'main');
  git(origin, 'add', '.');
  git(origin, 'commit', '-q', '-m', 'base');
  baseSha = git(origin, 'rev-parse', 'HEAD');
  const hubspot = join(origin, 'project', 'syncs', 'hubspot.sync');
  writeFileSync(
    hubspot,
    readFileSync(hubspot, 'utf8')
      .replace('mode       upsert\n  identifier email -> email', 'mode       mirror\n  identifier email -> email')
      .replace('  batch      100\n  schedule   "0 * * * *"', '  batch 100\n  schedule   "0 * * * *"'),
  );
  git(origin, 'commit', '-q', '-am', 'head');
  // The checkout a workflow makes: one commit deep, so the base must be fetched.
  workspace = join(dir, 'workspace');
  git(dir, 'clone', '-q', '--depth=1', `file://${origin}`, workspace);
  github = await new FakeGitHub({ repository: 'acme/syncs', token, issues: [7] }).start();
});

afterAll(async () => {
  await github?.api.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the GitHub Action', () => {
  it('is a composite action whose inputs reach its step only through the environment', () => {
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs).sort()).toEqual([
      'base',
      'comment',
      'comment-author',
      'compile-out',
      'fail-on-destructive',
      'github-token',
      'path',
      'syncwright',
    ]);
    // An input written into the script would be run as shell: an injection.
    for (const step of action.runs.steps) expect(step.run).not.toContain('${{');
  });

  it('on a pull request: annotates fmt, fails, writes the diff to the summary and posts it as a comment', async () => {
    const r = await runAction(pullRequest(), { path: 'project' });
    expect(r.status).toBe(1);
    expect(r.log).toContain('::group::syncwright check project');
    expect(r.log).toContain(
      '::error file=project/syncs/hubspot.sync,title=syncwright fmt::project/syncs/hubspot.sync is not formatted: run syncwright fmt project',
    );
    expect(r.log).toContain('::error title=syncwright::failed: syncwright fmt --check project');
    // The diff, with the base commit fetched into the shallow clone.
    expect(r.summary).toContain('### syncwright diff: `' + baseSha + '` → `project`');
    expect(r.summary).toContain('| 🛑 **destructive** | sync `users_to_hubspot_contacts` | mode `upsert` → `mirror` |');
    expect(r.outputs).toEqual({ destructive: '1', changes: '1' });
    expect(github.comments).toHaveLength(1);
    expect(github.comments[0]).toMatchObject({ issue: 7, login: 'github-actions[bot]' });
    // The summary has the Markdown and a line break after it; the comment, a marker naming the project before it.
    expect(github.comments[0]!.body).toBe(`<!-- syncwright-diff project -->\n${r.summary.slice(0, -1)}`);
    const calls = github.api.requests.map((q) => `${q.method} ${q.path}?${q.query.toString()}`);
    expect(calls).toEqual(['GET /repos/acme/syncs/issues/7/comments?per_page=100&page=1', 'POST /repos/acme/syncs/issues/7/comments?']);
    expect(github.api.requests[1]!.headers).toMatchObject({
      authorization: `Bearer ${token}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'content-type': 'application/json',
    });
    expect(github.api.requests[1]!.body).toEqual({ body: github.comments[0]!.body });
  });

  it('on the next push: passes once formatted, and updates its comment; a run with the same diff leaves it as it is', async () => {
    execFileSync(process.execPath, [join(repo, 'bin', 'syncwright.js'), 'fmt', 'project'], { cwd: workspace, stdio: 'pipe' });
    const hubspot = join(workspace, 'project', 'syncs', 'hubspot.sync');
    writeFileSync(hubspot, readFileSync(hubspot, 'utf8').replace('schedule   "0 * * * *"', 'schedule   "*/15 * * * *"'));
    github.api.reset();
    const r = await runAction(pullRequest(), { path: 'project' });
    expect(r.status).toBe(0);
    expect(r.outputs).toEqual({ destructive: '1', changes: '2' });
    expect(github.comments).toHaveLength(1);
    expect(github.api.requests.map((q) => q.method)).toEqual(['GET', 'PATCH']);
    expect(github.comments[0]!.edits).toBe(1);
    expect(github.comments[0]!.body).toContain('schedule `0 * * * *` → `*/15 * * * *`');
    github.api.reset();
    expect((await runAction(pullRequest(), { path: 'project' })).status).toBe(0);
    expect(github.api.requests.map((q) => q.method)).toEqual(['GET']);
    expect(github.comments[0]!.edits).toBe(1);
  });

  it('annotates check errors with files named from the repository root', async () => {
    const hubspot = join(workspace, 'project', 'syncs', 'hubspot.sync');
    const before = readFileSync(hubspot, 'utf8');
    writeFileSync(hubspot, before.replace('mode       mirror', 'mode       mirorr'));
    try {
      const r = await runAction(pullRequest(), { path: 'project', comment: 'false' });
      expect(r.status).toBe(1);
      expect(r.log).toMatch(/::error file=project\/syncs\/hubspot\.sync,line=\d+,col=\d+.*unknown mode `mirorr`/);
      expect(r.log).toContain('::warning title=syncwright diff::no diff: a version of project does not check');
      expect(r.outputs).toEqual({});
    } finally {
      writeFileSync(hubspot, before);
    }
  });

  it('on a push: checks, formats and compiles, and neither diffs nor comments', async () => {
    github.api.reset();
    const r = await runAction({ name: 'push', payload: { ref: 'refs/heads/main' } }, { path: 'project' });
    expect(r.status).toBe(0);
    expect(r.log).not.toContain('syncwright diff');
    expect(r.summary).toBe('');
    expect(github.api.requests).toEqual([]);
  });

  it('refuses a base that reads as an option rather than pass it to git', async () => {
    const r = await runAction({ name: 'push', payload: { ref: 'refs/heads/main' } }, { path: 'project', base: '--upload-pack=touch pwned' });
    expect(r.status).toBe(1);
    expect(r.log).toContain('::error title=syncwright diff::base --upload-pack=touch pwned is not a revision');
    expect(existsSync(join(workspace, 'pwned'))).toBe(false);
  });

  it('for another project of the repository: its own comment, and none while the pull request does not change it', async () => {
    github.api.reset();
    const r = await runAction(pullRequest(), { path: 'shop' });
    expect(r.status).toBe(0);
    expect(r.outputs).toEqual({ destructive: '0', changes: '0' });
    expect(r.summary).toContain('No change in meaning');
    expect(github.api.requests.map((q) => q.method)).toEqual(['GET']);
    expect(github.comments).toHaveLength(1);
  });

  it("finds its comment on a later page, and never edits someone else's comment that carries its marker", async () => {
    await withGitHub(new FakeGitHub({ repository: 'acme/syncs', token, issues: [7] }), async () => {
      const forged = github.seed(7, 'mallory', '<!-- syncwright-diff project -->\nall is well');
      for (let i = 0; i < 120; i++) github.seed(7, 'reviewer', `comment ${i}`);
      const mine = github.seed(7, 'github-actions[bot]', '<!-- syncwright-diff project -->\nthe diff of an earlier push');
      const r = await runAction(pullRequest(), { path: 'project' });
      expect(r.status).toBe(0);
      expect(github.api.requests.map((q) => `${q.method} ${q.path}?${q.query.toString()}`)).toEqual([
        'GET /repos/acme/syncs/issues/7/comments?per_page=100&page=1',
        'GET /repos/acme/syncs/issues/7/comments?per_page=100&page=2',
        `PATCH /repos/acme/syncs/issues/comments/${mine.id}?`,
      ]);
      expect(forged).toMatchObject({ edits: 0, body: '<!-- syncwright-diff project -->\nall is well' });
      expect(mine.body).toContain('users_to_hubspot_contacts');
    });
  });

  it('with a read-only token (a pull request from a fork): warns, the summary still has the diff', async () => {
    await withGitHub(new FakeGitHub({ repository: 'acme/syncs', token, issues: [7], readOnly: true }), async () => {
      const r = await runAction(pullRequest(), { path: 'project' });
      expect(r.status).toBe(0);
      expect(r.log).toContain(
        '::warning title=syncwright diff::the comment was not posted: GitHub answered POST /repos/acme/syncs/issues/7/comments with 403: Resource not accessible by integration',
      );
      expect(r.summary).toContain('🛑 **destructive**');
      expect(github.comments).toEqual([]);
    });
  });

  it('never shows the token, even when the API echoes it back; fails on a destructive change when asked', async () => {
    await withGitHub(new FakeGitHub({ repository: 'acme/syncs', token, issues: [7] }), async () => {
      github.api.failNext(fault.status(502, { message: `upstream refused the credentials Bearer ${token}` }));
      const r = await runAction(pullRequest(), { path: 'project', 'fail-on-destructive': 'true' });
      expect(r.status).toBe(1);
      expect(r.log).toContain('::error title=syncwright::failed: 1 destructive change');
      // runAction checks that the log has no token; the error is still reported.
      expect(r.log).toContain(
        '::warning title=syncwright diff::the comment was not posted: GitHub answered GET /repos/acme/syncs/issues/7/comments with 502: upstream refused the credentials Bearer ***',
      );
    });
  });

  it('cuts a diff longer than GitHub takes at a line, pointing to the job summary', async () => {
    // 400 syncs added to the shop: a diff of some 90,000 characters.
    const many = Array.from(
      { length: 400 },
      (_, i) =>
        `sync customers_copy_for_the_regional_sales_team_number_${i} {\n  from       customers\n  to         shop table crm.regional_customers_${i}\n  mode       upsert\n  identifier id -> id\n}\n`,
    ).join('\n');
    writeFileSync(join(workspace, 'shop', 'many.sync'), many);
    try {
      github.api.reset();
      const r = await runAction(pullRequest(), { path: 'shop' });
      expect(r.status).toBe(0);
      expect(r.outputs).toEqual({ destructive: '0', changes: '400' });
      expect(r.summary.length).toBeGreaterThan(65_536);
      expect(github.api.requests.map((q) => q.method)).toEqual(['GET', 'POST']);
      const posted = github.comments.find((c) => c.body.startsWith('<!-- syncwright-diff shop -->\n'))!;
      expect(posted.body.length).toBeLessThanOrEqual(65_536);
      expect(posted.body).toMatch(
        /\|\n\n… the rest is cut here, as GitHub takes no longer comment: the whole diff is in the job summary of the workflow run\.\n$/,
      );
      expect(r.summary.startsWith(posted.body.slice('<!-- syncwright-diff shop -->\n'.length, posted.body.lastIndexOf('|\n') + 2))).toBe(true);
    } finally {
      rmSync(join(workspace, 'shop', 'many.sync'));
    }
  });
});
