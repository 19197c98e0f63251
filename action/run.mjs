#!/usr/bin/env node
// The GitHub Action (action.yml at the repository's root): `syncwright check --format github`,
// `fmt --check`, `compile`, then, on a pull request, `syncwright diff` against the base commit,
// written to the job summary and posted as a comment that is updated on each push. Runs from
// the workspace with the project's folder as an argument, so that annotations name files from
// the repository's root. Fails when check, fmt or compile fail (or on a destructive change,
// when asked); the diff itself never fails it.
//
// Reads what GitHub gives an action (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY,
// GITHUB_API_URL, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, RUNNER_TEMP) and the inputs as
// INPUT_* variables (action.yml). Node 20, no dependencies.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const env = process.env;
const actionPath = env.SYNCWRIGHT_ACTION_PATH || join(dirname(fileURLToPath(import.meta.url)), '..');
const project = env.INPUT_PATH || '.';
/** Marks the comment of this action for this project (a workflow may run it for several); `--` cannot end an HTML comment early. */
const marker = `<!-- syncwright-diff ${project.replace(/-{2,}/g, (d) => d.split('').join(' ')).replace(/>/g, '&gt;')} -->`;
/** Who posts the comment: only a comment of this login with the marker is updated, never one someone else wrote. */
const author = env.INPUT_COMMENT_AUTHOR?.trim() || 'github-actions[bot]';
/** GitHub refuses a comment body over 65,536 characters. */
const maxComment = 65_536;
/** A stalled API must not hold the job until the runner's 6-hour limit. */
const apiDeadline = 60_000;

const flag = (name) => (env[name] ?? '').trim().toLowerCase() === 'true';
const escapeData = (s) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** A folded section of the log; `body` may be async. */
async function group(title, body) {
  console.log(`::group::${escapeData(title)}`);
  try {
    return await body();
  } finally {
    console.log('::endgroup::');
  }
}

/** The command that runs syncwright: the input, the project's own, else this action's copy (installed and built once). */
async function syncwright() {
  const given = env.INPUT_SYNCWRIGHT?.trim();
  if (given) return given.endsWith('.js') ? [process.execPath, resolve(given)] : [given];
  for (let dir = resolve(project); ; dir = dirname(dir)) {
    const bin = join(dir, 'node_modules', '.bin', 'syncwright');
    if (existsSync(bin)) return [bin];
    if (dirname(dir) === dir) break;
  }
  if (!existsSync(join(actionPath, 'dist', 'bin', 'main.js'))) {
    await group("install this action's syncwright (npm ci)", () => run(['npm', 'ci', '--no-audit', '--no-fund'], { cwd: actionPath, check: true }));
  }
  return [process.execPath, join(actionPath, 'bin', 'syncwright.js')];
}

/** What the commands run with: the environment without the token, which only the API calls need. */
const childEnv = Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'INPUT_GITHUB_TOKEN'));

function run(command, { cwd, capture = false, check = false } = {}) {
  const r = spawnSync(command[0], command.slice(1), { cwd, env: childEnv, stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (check && r.status !== 0) throw new Error(`${command.join(' ')} exited ${r.status}`);
  return r;
}

function pullRequest() {
  if (!env.GITHUB_EVENT_PATH || !existsSync(env.GITHUB_EVENT_PATH)) return undefined;
  const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
  return event.pull_request ? { number: event.pull_request.number, base: event.pull_request.base?.sha } : undefined;
}

/** The base commit is in the clone (a shallow checkout has only the merge commit): fetched when it is not. */
function ensureCommit(revision) {
  if (spawnSync('git', ['cat-file', '-e', `${revision}^{commit}`], { env: childEnv, stdio: 'ignore' }).status === 0) return;
  run(['git', 'fetch', '--no-tags', '--depth=1', 'origin', revision], { check: true });
}

/** The token, wherever it would be shown: GitHub masks its own token in logs, not one a server echoes in another form, nor a token given otherwise. */
function redact(text) {
  const token = env.INPUT_GITHUB_TOKEN;
  return token ? text.split(token).join('***') : text;
}

async function github(method, path, body) {
  if (!env.INPUT_GITHUB_TOKEN) throw new Error('no github-token');
  const response = await fetch(`${env.GITHUB_API_URL || 'https://api.github.com'}${path}`, {
    method,
    headers: {
      Accept: 'application/vnd.github+json',
      Authorization: `Bearer ${env.INPUT_GITHUB_TOKEN}`,
      'X-GitHub-Api-Version': '2022-11-28',
      'User-Agent': 'syncwright-action',
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    redirect: 'error',
    signal: AbortSignal.timeout(apiDeadline),
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message = JSON.parse(text).message ?? text;
    } catch {
      // not JSON: the text as it is
    }
    throw new Error(`GitHub answered ${method} ${path.split('?')[0]} with ${response.status}: ${String(message).replace(/\s+/g, ' ').slice(0, 200)}`);
  }
  return text ? JSON.parse(text) : undefined;
}

/** The body of the comment: the marker, then the diff, cut at a line when it is longer than GitHub takes. */
function commentBody(markdown) {
  const body = `${marker}\n${markdown}`;
  if (body.length <= maxComment) return body;
  const note = '\n\n… the rest is cut here, as GitHub takes no longer comment: the whole diff is in the job summary of the workflow run.\n';
  const cut = body.lastIndexOf('\n', maxComment - note.length);
  // An open <details> or table is closed by the blank line and the note.
  return `${body.slice(0, cut)}${note}`;
}

/**
 * The comment of an earlier run is updated rather than another one added; when the diff has no
 * change and there is no comment yet, none is posted.
 */
async function comment(number, markdown, changes) {
  const repo = env.GITHUB_REPOSITORY;
  const body = commentBody(markdown);
  for (let page = 1; ; page++) {
    const comments = await github('GET', `/repos/${repo}/issues/${number}/comments?per_page=100&page=${page}`);
    const mine = comments.find((c) => c.user?.login === author && typeof c.body === 'string' && c.body.startsWith(`${marker}\n`));
    if (mine) return mine.body === body ? undefined : github('PATCH', `/repos/${repo}/issues/comments/${mine.id}`, { body });
    if (comments.length < 100) break;
  }
  if (changes === 0) return undefined;
  return github('POST', `/repos/${repo}/issues/${number}/comments`, { body });
}

function output(name, value) {
  if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, `${name}=${value}\n`);
}

async function main() {
  const sw = await syncwright();
  const failures = [];
  const step = (title, args, after) =>
    group(title, () => {
      const r = run([...sw, ...args], { capture: after !== undefined });
      if (after) after(r);
      if (r.status !== 0) failures.push(title);
    });

  await step(`syncwright check ${project}`, ['check', project, '--format', 'github']);
  await step(`syncwright fmt --check ${project}`, ['fmt', '--check', project, '--format', 'github'], (r) => {
    process.stdout.write(r.stdout);
    for (const file of r.stdout.split('\n').filter((l) => l.startsWith('would reformat ')).map((l) => l.slice('would reformat '.length))) {
      console.log(`::error file=${escapeProperty(file)},title=syncwright fmt::${escapeData(`${file} is not formatted: run syncwright fmt ${project}`)}`);
    }
  });
  const out = env.INPUT_COMPILE_OUT || join(mkdtempSync(join(env.RUNNER_TEMP || tmpdir(), 'syncwright-')), 'build');
  await step(`syncwright compile ${project}`, ['compile', project, '--out', out, '--format', 'github']);

  const pr = pullRequest();
  const base = env.INPUT_BASE?.trim() || pr?.base;
  // A revision is passed to git and syncwright as an argument: one that reads as an option is refused.
  if (base?.startsWith('-')) {
    console.log(`::error title=syncwright diff::${escapeData(`base ${base} is not a revision`)}`);
    failures.push('syncwright diff');
  } else if (base) {
    await group(`syncwright diff ${base}`, async () => {
      ensureCommit(base);
      const json = run([...sw, 'diff', base, '--project', project, '--format', 'json'], { capture: true });
      if (json.status !== 0) {
        console.log(`::warning title=syncwright diff::${escapeData(`no diff: a version of ${project} does not check (see above)`)}`);
        return;
      }
      const { summary, changes } = JSON.parse(json.stdout);
      output('destructive', summary.destructive);
      output('changes', changes.length);
      const markdown = run([...sw, 'diff', base, '--project', project, '--format', 'github'], { capture: true }).stdout;
      process.stdout.write(markdown);
      if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
      if (pr && flag('INPUT_COMMENT')) {
        try {
          await comment(pr.number, markdown, changes.length);
        } catch (e) {
          // A pull request from a fork gets a read-only token: the summary still has the diff.
          console.log(`::warning title=syncwright diff::${escapeData(redact(`the comment was not posted: ${e.message}`))}`);
        }
      }
      if (flag('INPUT_FAIL_ON_DESTRUCTIVE') && summary.destructive > 0) failures.push(`${summary.destructive} destructive change${summary.destructive === 1 ? '' : 's'}`);
    });
  }
  if (failures.length > 0) {
    console.log(`::error title=syncwright::${escapeData(`failed: ${failures.join('; ')}`)}`);
    process.exitCode = 1;
  }
}

try {
  await main();
} catch (e) {
  // A command that could not run, a fetch that failed: said as an annotation, not a stack trace.
  console.log(`::error title=syncwright::${escapeData(redact(e instanceof Error ? e.message : String(e)))}`);
  process.exitCode = 1;
}
