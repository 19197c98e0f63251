/**
 * A `publish` step: one message per row, in batches of the plan's size and byte limit, through
 * the run's `Producer`. A record the producer fails with a retryable reason (Kinesis throttling,
 * an internal failure) is sent again, alone with the others that failed, after a backoff of the
 * plan's policy; once the tries run out it is refused (`failed`) and sent again by the next
 * run. A record refused for good, or too large, is `rejected`. Accepted rows are recorded per batch.
 */
import type { PublishStep } from '../../contract/api-steps.js';
import { batches } from '../http/batches.js';
import { snippetLength } from '../http/http.js';
import { clip } from '../output/redact.js';
import { backoffDelay } from '../http/backoff.js';
import type { ChangeRow } from '../change-rows.js';
import { stepReport, type RejectedRow, type StepReport } from '../output/report.js';
import { countRows, stepRows } from '../send-step.js';
import { baseContext, noteRefusals, type StepEnv } from '../step-env.js';
import { stringifyJson } from '../exact-json.js';
import { asText, render } from '../template.js';
import type { OutRecord, Producer, RecordFailure } from './outlets.js';
import { connectionOf } from './connection.js';
import { recordBatchOverhead, recordBytes, usableBatchBytes } from './kafka-batch.js';

type Refused = Omit<RejectedRow, 'operation'>;

/**
 * Groups of at most `maxBytes`, in order: `overhead` bytes for a group, and each item's bytes
 * at its place in the group (a Kafka record's offset delta grows with it).
 */
export function byBytes<T>(items: readonly T[], bytes: (item: T, place: number) => number, maxBytes: number | undefined, overhead = 0): T[][] {
  if (maxBytes === undefined) return items.length ? [[...items]] : [];
  const groups: T[][] = [];
  let group: T[] = [];
  let size = overhead;
  for (const item of items) {
    let n = bytes(item, group.length);
    if (group.length && size + n > maxBytes) {
      groups.push(group);
      group = [];
      size = overhead;
      n = bytes(item, 0);
    }
    group.push(item);
    size += n;
  }
  if (group.length) groups.push(group);
  return groups;
}

/** How a transport counts the bytes its limits bound. */
interface Framing {
  /** Bytes of a batch before its records. */
  overhead: number;
  /** Bytes a record adds at its place in the batch. */
  record(r: OutRecord, place: number): number;
  /** The bytes of a message that `maxMessageBytes` bounds. */
  message(r: OutRecord): number;
  /** What a batch or a message is kept to of a limit. */
  usable(limit: number): number;
  /** Why a message of `bytes` is refused under the limit `max`. */
  tooLarge(bytes: number, max: number): string;
}

const framings: Record<PublishStep['transport'], Framing> = {
  // PutRecords counts data and partition key against both a request's limit and a record's.
  kinesis: {
    overhead: 0,
    record: (r) => Buffer.byteLength(r.value) + (r.key === null ? 0 : Buffer.byteLength(r.key)),
    message: (r) => Buffer.byteLength(r.value) + (r.key === null ? 0 : Buffer.byteLength(r.key)),
    usable: (limit) => limit,
    tooLarge: (bytes, max) => `the message is ${bytes} bytes, above the ${max} the kinesis destination takes`,
  },
  // message.max.bytes bounds a record batch, so a message alone is the batch of one it makes.
  kafka: {
    overhead: recordBatchOverhead,
    record: recordBytes,
    message: (r) => recordBatchOverhead + recordBytes(r, 0),
    usable: usableBatchBytes,
    tooLarge: (bytes, max) =>
      `the message alone makes a record batch of ${bytes} bytes, above the ${usableBatchBytes(max)} a batch is kept to (the broker's message.max.bytes, ${max}, less a margin)`,
  },
};

/** Sends one request's records, retrying the retryable failures; calls back with what was accepted and refused. */
async function sendWithRetries(
  producer: Producer,
  items: { row: ChangeRow; record: OutRecord }[],
  step: PublishStep,
  report: StepReport,
  jitter?: () => number,
): Promise<{ accepted: ChangeRow[]; refused: Refused[] }> {
  const accepted: ChangeRow[] = [];
  const refused: Refused[] = [];
  let pending = items;
  for (let attempt = 1; pending.length; attempt++) {
    report.requests++;
    let results: RecordFailure[];
    try {
      results = await producer.send(pending.map((p) => p.record));
    } catch (e) {
      // The client retried the request itself; what it gave up on is not delivered.
      for (const p of pending) refused.push({ key: p.row.key, change: p.row.change, reason: clip((e as Error).message, snippetLength), fate: 'failed' });
      break;
    }
    const again: typeof pending = [];
    for (const [i, p] of pending.entries()) {
      const failure = results[i];
      if (!failure) accepted.push(p.row);
      else if (failure.retryable && !failure.retried && attempt < step.retry.maxAttempts) again.push(p);
      else refused.push({ key: p.row.key, change: p.row.change, reason: clip(failure.reason, snippetLength), fate: failure.retryable ? 'failed' : 'rejected' });
    }
    if (again.length) {
      report.retries++;
      await new Promise((r) => setTimeout(r, backoffDelay(step.retry, attempt, jitter)));
    }
    pending = again;
  }
  return { accepted, refused };
}

export async function runPublish(step: PublishStep, env: StepEnv): Promise<StepReport> {
  const started = performance.now();
  const total = await countRows(env, step.changes);
  const report = stepReport('publish', step.transport, step.description, total);
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
  const framing = framings[step.transport];
  env.options.progress.start(step.transport, total);
  const producer = await env.options.outlets.producer(step.transport, connectionOf(env, step.connection));
  try {
    for await (const batch of batches(stepRows(env, step.changes), step.batch.size)) {
      const items: { row: ChangeRow; record: OutRecord }[] = [];
      const refused: Refused[] = [];
      for (const row of batch.rows) {
        const m = message(row);
        const record: OutRecord = { topic: m.topic, key: m.key === null ? null : asText(m.key), value: stringifyJson(m.value) };
        const bytes = framing.message(record);
        // In UTF-16 units, as the service counts a key's characters: a key within 256 code points but over 256 units
        // had the whole request refused, every row of the batch with it, on every run.
        const keyChars = record.key === null ? 0 : record.key.length;
        if (bytes > framing.usable(step.maxMessageBytes))
          refused.push({ key: row.key, change: row.change, reason: framing.tooLarge(bytes, step.maxMessageBytes), fate: 'rejected' });
        else if (step.maxKeyChars !== undefined && keyChars > step.maxKeyChars)
          refused.push({
            key: row.key,
            change: row.change,
            reason: `the key is ${keyChars} UTF-16 units, above the ${step.maxKeyChars} characters a ${step.transport} partition key takes`,
            fate: 'rejected',
          });
        else items.push({ row, record });
      }
      const batchLimit = step.batch.maxBytes === undefined ? undefined : framing.usable(step.batch.maxBytes);
      for (const group of byBytes(items, (item, place) => framing.record(item.record, place), batchLimit, framing.overhead)) {
        const sent = await sendWithRetries(producer, group, step, report, env.options.jitter);
        await env.ledger?.record(sent.accepted);
        report.accepted += sent.accepted.length;
        refused.push(...sent.refused);
      }
      report.rejected += refused.filter((r) => r.fate === 'rejected').length;
      report.failed += refused.filter((r) => r.fate === 'failed').length;
      noteRefusals(env, refused, step.transport);
      env.options.progress.advance(batch.rows.length);
    }
  } finally {
    await producer.close();
  }
  report.ms = Math.round(performance.now() - started);
  const refusedCount = report.rejected + report.failed;
  env.options.progress.finish(`${step.transport}: ${report.accepted} messages${refusedCount ? `, ${refusedCount} refused` : ''}`);
  return report;
}
