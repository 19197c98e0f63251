/**
 * Storage and streaming steps without a real endpoint: objects and messages go to a local
 * folder (`--sink DIR`, laid out as service/bucket/key and transport/topic.jsonl) or to
 * stdout (`--sink -`), in the plan's format, so that a run can be inspected end to end.
 */
import { createWriteStream, mkdirSync, renameSync, appendFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import type { PublishStep, WriteObjectStep } from '../plan/api-steps.js';
import { batches } from './http/batches.js';
import { changePages, rowsQuery, type ChangeRow } from './change-rows.js';
import type { StepReport } from './output/report.js';
import { countRows, stepRows } from './send-step.js';
import { baseContext, batchValues, noteRefusals, type StepEnv } from './step-env.js';
import { asText, render, type Json } from './template.js';

/** A path under the sink folder; a rendered name cannot climb out of it. */
export function sinkPath(sink: string, ...parts: string[]): string {
  const root = resolve(sink);
  const full = resolve(root, ...parts.map((p) => p.replace(/^\/+/, '')));
  const rel = relative(root, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`the name ${parts.join('/')} leaves the sink folder`);
  return full;
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
export function csvField(v: Json | undefined): string {
  const text = v === undefined ? '' : asText(v);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: (Json | undefined)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

function recordLine(step: WriteObjectStep, record: Json): string {
  if (step.format === 'jsonl') return `${JSON.stringify(record)}\n`;
  const obj = record !== null && typeof record === 'object' && !Array.isArray(record) ? record : {};
  return csvLine(step.columns.map((c) => obj[c]));
}

function emptyReport(kind: string, operation: string, description: string, rows: number): StepReport {
  return { kind, operation, description, rows, accepted: 0, rejected: 0, failed: 0, requests: 0, retries: 0, ms: 0 };
}

/** Accepts the step's rows with seq in [from, to]: read again by range, so no object's keys are held in memory. */
async function acceptRange(env: StepEnv, kinds: WriteObjectStep['changes'], from: number, to: number): Promise<void> {
  const q = `SELECT * FROM (${rowsQuery(env.read as string, kinds)}) AS "r" WHERE "r"."seq" BETWEEN ${from} AND ${to} ORDER BY "r"."seq"`;
  for await (const page of changePages(env.session.pages(q, env.options.pageSize))) await env.ledger?.record(page);
}

export async function runWriteObject(step: WriteObjectStep, env: StepEnv): Promise<StepReport> {
  const started = performance.now();
  const total = await countRows(env, step.changes);
  const report = emptyReport('write_object', step.service, step.description, total);
  const rowCtx = (row: ChangeRow) => ({ ...baseContext(env), row });
  if (env.options.dryRun) {
    report.samples = [];
    for await (const page of stepRows(env, step.changes)) {
      for (const row of page.slice(0, env.options.samples)) report.samples.push(render(step.record, rowCtx(row), env.render));
      break;
    }
    return report;
  }
  const bucket = asText(render(step.bucket, baseContext(env), env.render));
  const size = step.batch?.size ?? Number.POSITIVE_INFINITY;
  const wrote: string[] = [];
  let index = 0;
  let open: { path: string; tmp: string; stream: ReturnType<typeof createWriteStream> | undefined; first: number; last: number; rows: number } | undefined;

  const start = (firstSeq: number, last: boolean) => {
    index++;
    const key = asText(render(step.key, { ...baseContext(env), batch: { index, last, rows: 0, total_rows: total } }, env.render));
    const path = env.options.sink === '-' ? `${step.service}://${bucket}/${key}` : sinkPath(env.options.sink, step.service, bucket, key);
    const tmp = `${path}.partial`;
    let stream;
    if (env.options.sink === '-') env.options.out(`--- ${path}`);
    else {
      mkdirSync(dirname(path), { recursive: true });
      stream = createWriteStream(tmp);
    }
    open = { path, tmp, stream, first: firstSeq, last: firstSeq, rows: 0 };
    if (step.format === 'csv') write(csvLine(step.columns));
  };
  const write = (text: string) => {
    if (!open) return;
    if (open.stream) return open.stream.write(text) ? undefined : once(open.stream, 'drain');
    env.options.out(text.replace(/\r?\n$/, ''));
    return undefined;
  };
  // The object is complete once renamed into place: only then are its rows accepted.
  const close = async () => {
    if (!open) return;
    const o = open;
    open = undefined;
    if (o.stream) {
      o.stream.end();
      await once(o.stream, 'finish');
      renameSync(o.tmp, o.path);
    }
    wrote.push(o.path);
    if (o.rows) await acceptRange(env, step.changes, o.first, o.last);
    report.accepted += o.rows;
    env.options.progress.advance(o.rows);
  };

  env.options.progress.start(step.service, total);
  let seen = 0;
  for await (const page of stepRows(env, step.changes)) {
    for (const row of page) {
      seen++;
      if (!open) start(row.seq, seen + size - 1 >= total);
      const o = open as unknown as NonNullable<typeof open>;
      const wait = write(recordLine(step, render(step.record, rowCtx(row), env.render)));
      if (wait) await wait;
      o.last = row.seq;
      o.rows++;
      if (o.rows >= size) await close();
    }
  }
  // A mirror of an empty model still overwrites its object, with no rows.
  if (!open && index === 0 && step.batch === undefined) start(0, true);
  await close();
  report.wrote = wrote;
  report.ms = Math.round(performance.now() - started);
  env.options.progress.finish(`${step.service}: ${report.accepted} rows in ${wrote.length} object${wrote.length === 1 ? '' : 's'}`);
  return report;
}

export async function runPublish(step: PublishStep, env: StepEnv): Promise<StepReport> {
  const started = performance.now();
  const total = await countRows(env, step.changes);
  const report = emptyReport('publish', step.transport, step.description, total);
  const message = (row: ChangeRow) => {
    const ctx = { ...baseContext(env), row };
    return { topic: asText(render(step.destination, ctx, env.render)), key: render(step.key, ctx, env.render), value: render(step.value, ctx, env.render) };
  };
  if (env.options.dryRun) {
    report.samples = [];
    for await (const page of stepRows(env, step.changes)) {
      for (const row of page.slice(0, env.options.samples)) report.samples.push(message(row));
      break;
    }
    return report;
  }
  const wrote = new Set<string>();
  env.options.progress.start(step.transport, total);
  for await (const batch of batches(stepRows(env, step.changes), step.batch.size)) {
    const lines = new Map<string, string[]>();
    const sent: ChangeRow[] = [];
    const refused: { key: string | null; change: string; reason: string; fate: 'rejected' }[] = [];
    for (const row of batch.rows) {
      const m = message(row);
      const value = JSON.stringify(m.value);
      if (Buffer.byteLength(value) > step.maxMessageBytes) {
        refused.push({ key: row.key, change: row.change, reason: `the message is ${Buffer.byteLength(value)} bytes, above the ${step.maxMessageBytes} the ${step.transport} destination takes`, fate: 'rejected' });
        continue;
      }
      const keyChars = m.key === null ? 0 : Array.from(asText(m.key)).length;
      if (step.maxKeyChars !== undefined && keyChars > step.maxKeyChars) {
        refused.push({ key: row.key, change: row.change, reason: `the key is ${keyChars} characters, above the ${step.maxKeyChars} a ${step.transport} partition key takes`, fate: 'rejected' });
        continue;
      }
      const line = JSON.stringify({ key: m.key, value: m.value });
      if (env.options.sink === '-') env.options.out(JSON.stringify({ [step.transport === 'kafka' ? 'topic' : 'stream']: m.topic, key: m.key, value: m.value }));
      else lines.set(m.topic, [...(lines.get(m.topic) ?? []), line]);
      sent.push(row);
    }
    for (const [topic, ls] of lines) {
      const path = sinkPath(env.options.sink, step.transport, `${topic}.jsonl`);
      mkdirSync(dirname(path), { recursive: true });
      appendFileSync(path, `${ls.join('\n')}\n`);
      wrote.add(path);
    }
    await env.ledger?.record(sent);
    report.accepted += sent.length;
    report.rejected += refused.length;
    noteRefusals(env, refused, step.transport);
    env.options.progress.advance(batch.rows.length);
  }
  report.wrote = [...wrote];
  report.ms = Math.round(performance.now() - started);
  env.options.progress.finish(`${step.transport}: ${report.accepted} messages${report.rejected ? `, ${report.rejected} too large` : ''}`);
  return report;
}

