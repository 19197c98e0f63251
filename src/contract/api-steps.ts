/**
 * Plan steps of syncs into API destinations. An executor runs them in order with no
 * destination-specific code: SQL files on the source, then requests, messages or objects
 * rendered from declarative templates (see `Template`), then the commit of accepted rows.
 */
import type { SqlStep } from './warehouse-steps.js';

/** How a change row relates to the snapshot: new, different payload, gone, or the same. */
export type ChangeKind = 'added' | 'changed' | 'removed' | 'unchanged';

/**
 * When a step runs, judged on the counts of the `changes` step's summary row; a step whose
 * condition does not hold is skipped, sending nothing and accepting nothing.
 * - `changed`: the change set holds at least one added, changed or removed row. Full-list
 *   replaces (a replace session, remove-all then add, an overwritten object) carry it, so that
 *   a run with nothing new makes no request.
 * - `emptied`: the change set holds removed rows and nothing else (no row added, changed or
 *   unchanged): the model has no row with an identifier left, the snapshot has some. A replace
 *   with no member to send (Meta's usersreplace documents no session without users) removes
 *   the members who left by a step of its own then.
 */
export type StepCondition = 'changed' | 'emptied';

/**
 * A JSON value rendered per request. Plain JSON is copied as is; an object whose only key is
 * one of these directive names is that directive (other `$` keys, like Mixpanel's `$set`, are
 * plain keys):
 * - `{"$ref": "row.key"}`: a value from the render context, by dotted path or by an array of
 *   exact segments (`["row", "payload", "first.name"]`); a missing value renders as null.
 *   Context: `row` (the change row: key, change, payload, payload_hash, idempotency_key,
 *   destination_id, columns, seq), `vars` (values captured by earlier calls), `run` (id: a
 *   UUID per run; session: a random positive integer below 2^53 per run; timestamp: the run's
 *   start, ISO 8601 UTC; epoch_ms: the same in milliseconds), `batch` (index from 1, last: true
 *   on the step's last batch, rows: rows in this batch, total_rows: rows of the step,
 *   idempotency_key: hex SHA-256 of the batch rows' idempotency keys joined by "\n")
 * - `{"$env": "NAME"}`: the environment variable NAME (secrets travel only this way)
 * - `{"$concat": [t, ...]}`: the parts rendered and joined as one string
 * - `{"$merge": [t, ...]}`: the parts rendered (objects) and merged, later keys winning
 * - `{"$each": t}`: an array of `t` rendered once per row of the batch, `row` bound to it
 * - `{"$json": t}`: `t` rendered, then serialised as a JSON string
 * - `{"$base64": t}`: `t` rendered (a string), UTF-8 encoded, then base64
 * - `{"$message": null}`: the step's `message` (a Handlebars template) rendered over `row.columns`;
 *   `{"$message": "json"}`: the JSON value the rendered text is (a webhook body)
 * - `{"$compact": t}`: `t` rendered without nulls: an object's null members, an array's null
 *   items and the objects left empty by that (identifiers a row does not have)
 * - `{"$quote": [t, "'", "\\"]}`: a string literal of a query language: the quote character
 *   around the rendered text, the escape character before each quote and escape character in it
 * - `{"$join": [t, separator]}`: `t` rendered (an array), its items joined as one string
 * - `{"$url": [url, path]}`: the rendered path appended to the rendered url's path with one
 *   `/` between, before its query and fragment; the path's own query joined to the url's (`urlWithPath`)
 * - `{"$under": [prefix, path]}`: the rendered path under the rendered prefix with one `/`
 *   between; an empty prefix leaves the path as it is (`underPrefix`)
 * - `{"$slice": [t, start, end]}`: characters start..end (exclusive) of the rendered string
 * - `{"$replace": [t, "-", ""]}`: the rendered string with every occurrence of the second text replaced by the third
 * - `{"$switch": [t, {"case": t, ...}]}`: the case whose name equals the rendered `t`
 * - `{"$literal": v}`: `v` copied unrendered (for JSON that itself has a `$` key)
 */
export type Template = null | boolean | number | string | Template[] | { [key: string]: Template };

/** Run changes.sql: builds the change set (a temporary table of the session); its last statement returns one summary row. */
export interface ChangesStep extends Omit<SqlStep, 'kind'> {
  kind: 'changes';
  /**
   * Columns of the summary row, all counts. `synced`: the records the snapshot holds before
   * the run (by the key as the destination compares it), those of the unknown payload hash
   * too, which the change set counts as added while the model has them.
   */
  summary: ['model_rows', 'null_keys', 'duplicate_keys', 'added', 'changed', 'removed', 'unchanged', 'synced'];
}

/** Abort the run, sending nothing, when the change set's deletes break the sync's guard. */
export interface GuardStep {
  kind: 'guard';
  description: string;
  /** Without `allowEmpty`, a model with zero rows aborts (mirror would delete everything). */
  allowEmpty: boolean;
  /** Abort when `removed` exceeds this many rows, or this percent of the snapshot (the summary's `synced`). */
  maxDeletes?: { value: number; percent: boolean };
}

/** Run read.sql on the source: the change rows the later steps send, ordered by `seq`. */
export interface ReadStep extends Omit<SqlStep, 'kind'> {
  kind: 'read';
  /** Change kinds read.sql returns. */
  changes: ChangeKind[];
  /** Columns of each change row; `payload` and `columns` are JSON objects (a string on drivers that return JSON as text). */
  columns: ['seq', 'change', 'row_key', 'payload', 'payload_hash', 'idempotency_key', 'destination_id', 'columns'];
  /**
   * Per set of change kinds a later step takes (`changesKey`): its rows in seq order, their
   * number (one row, `n`), and those with seq from {{from}} to {{to}}; {{query}} is read.sql.
   */
  queries: Record<string, ChangeQueries>;
}

export interface ChangeQueries {
  rows: string;
  count: string;
  range: string;
}

/** The key of `ReadStep.queries` for a step's change kinds. */
export const changesKey = (kinds: readonly ChangeKind[]): string => kinds.join(',');

/** One HTTP request, every part a template. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: Template;
  /** Query parameters appended to the url, URL-encoded; a parameter rendering to null is left out. */
  query?: Record<string, Template>;
  headers: Record<string, Template>;
  /** `json`: the rendered body serialised as JSON; `form`: an object sent as application/x-www-form-urlencoded. */
  body?: { encoding: 'json' | 'form'; template: Template };
  /**
   * Sign the request as Stripe does: header = `t=<unix seconds when sent>,v1=<hex
   * HMAC-SHA256(key, "<t>." + body)>`. The timestamp is signed too, so a receiver that refuses
   * old timestamps refuses a captured request replayed later.
   */
  signature?: { header: string; key: Template };
}

export interface RetryPolicy {
  /** Statuses that are retried; any other non-2xx status rejects the request's rows at once. */
  statuses: number[];
  /** Network errors and timeouts are retried too. */
  networkErrors: boolean;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Exponential backoff with full jitter: a random wait up to min(max, initial * multiplier^(attempt-1)). */
  backoff: { initialSeconds: number; multiplier: number; maxSeconds: number };
  /** Wait as long as a Retry-After header (seconds or HTTP date) says, when the response has one. */
  retryAfter: boolean;
}

/** At most `requests` requests start in any `perSeconds` seconds. */
export interface RateWindow {
  requests: number;
  perSeconds: number;
}

/** Requests per window, shared by every request to the destination from this run. */
export interface RateLimit extends RateWindow {
  /** `destination`: one budget for the whole run; `target`: per channel, list or stream. */
  scope: 'destination' | 'target';
  /**
   * More windows the same requests count against, each honoured as well: a steady rate beside
   * a burst (Klaviyo: 10 per second and 150 per minute).
   */
  also?: RateWindow[];
}

/**
 * The rows a response refuses, each by its position in the request's list of rows: the rest
 * were applied (in a 2xx, Braze's `errors` and Google Ads' partial failure; in the status of a
 * `PartialRefusal`, Mixpanel's `failed_records`). A refusal that names no row of the request
 * (no position, one out of range, `where` not met) refuses every row of a 2xx's request: the
 * response does not say which were applied.
 */
export interface Refusals {
  /** The refusals: a JSON Pointer whose `*` segments take every item of an array (Google Ads: details, then errors, of `/partialFailureError`). */
  items: string;
  /** In a refusal, the JSON Pointer to the position of the row it refuses (from 0). */
  index: string;
  /** In a refusal, a value it must hold to name a row by `index` (the field its position is in). */
  where?: { pointer: string; equals: string };
  /** In a refusal, the JSON Pointer to its message. */
  reason: string;
  /**
   * Where the response says that something was refused (Google Ads' `partialFailureError`): when
   * it holds a value but no refusal is read, every row of the request is refused.
   */
  flag?: string;
}

/**
 * Rows a 2xx response counts as invalid, naming some of them by the entry the request carried
 * rather than by position (Meta's `num_invalid_entries` and `invalid_entry_samples`): the rows
 * named are refused; when the count exceeds the rows named, or an entry names no row of the
 * request, every row of it is refused, since which were taken is unknown.
 */
export interface InvalidEntries {
  /** JSON Pointer to how many entries of the request were invalid (absent: none). */
  count: string;
  /** JSON Pointer to an object whose member names are invalid entries as sent and whose values are the reasons. */
  samples: string;
  /** An entry's values are joined by this in its member name; the first is the row's key. */
  separator: string;
  /**
   * How many values an entry joins: its key is all but its last `values - 1`, so a key that holds
   * the separator (`abc,def`) is read whole. Without it, an entry that begins with the keys of
   * two rows of the request (`abc` and `abc,def`) names neither, and which rows were taken is unknown.
   */
  values?: number;
}

/**
 * Codes a body (or an item of it) holds: those at `code` (a JSON Pointer whose `*` segments take
 * every item of an array) are there and every one is among `codes`.
 */
export interface Codes {
  code: string;
  codes: string[];
}

/**
 * Failed items that say what the request asks is so already: they hold the codes (`Codes`).
 * Without `find`, the row is accepted as it is (the delete of a record that is gone). With
 * `find`, the row needs the id of the record already there (its removal deletes by it): such
 * rows are sent through `find`, a request of their own, and accepted with what it captures; a
 * row it does not accept stays refused, with the item's reason and its own.
 */
export interface Already extends Codes {
  find?: SendRequest;
}

/**
 * A non-2xx answer that refuses some rows of the request by position and took the others:
 * Mixpanel's 400 under `strict=1`, whose `failed_records` name the invalid events by `index`
 * and whose `num_records_imported` counts the rest ("Mixpanel will ingest the events that pass
 * validation"; "Please do not retry validation errors"). On `status`, when the body names at
 * least one row by `refusals`, every one named is a row of the request, and the count at
 * `imported` (when given) equals the rows not named, the rows named are refused with their
 * reason and the others accepted: nothing is sent again. Otherwise the answer is read as any
 * other of its status (a 400 on several rows is split until the bad row stands alone).
 */
export interface PartialRefusal {
  /** The status of such an answer (400 to 599; one the plan's retry policy retries is retried, never read so). */
  status: number;
  /** The rows it refuses. */
  refusals: Refusals;
  /** JSON Pointer to how many rows of the request it took: it must equal the rows not named. */
  imported?: string;
}

/** Which rows of a request the destination took. */
export type Acceptance =
  /**
   * A 2xx response accepts every row of the request; with `success`, only when the value at
   * that JSON Pointer of the body also equals `equals` (Slack answers 200 with `ok: false`);
   * with `refusals` or `invalid`, but for the rows the response refuses. With `partial`, an
   * answer of its status refuses the rows it names and accepts the others (`PartialRefusal`).
   * A 207 Multi-Status gives each part a status of its own in the body, which this rule does not
   * read: it accepts no row, and says that which were taken is unknown; the rows go again in
   * halves, as a 400's do, until a row so answered stands alone. With `unsure`, a 2xx that fails
   * `success` and holds those codes says that some of what was asked may have been done (Slack's
   * `internal_error` and `fatal_error`): its rows are refused, whether applied unknown.
   */
  | {
      by: 'status';
      success?: { pointer: string; equals: Template };
      unsure?: Codes;
      refusals?: Refusals;
      invalid?: InvalidEntries;
      /**
       * JSON Pointer to how many rows of the request a 2xx answer took (Mixpanel's
       * `num_records_imported`): a number there other than the rows the answer does not refuse
       * leaves unknown which were taken: its rows go again in halves within the run, as perhaps
       * applied (as a 207's), a row alone so answered refused as unsure.
       */
      imported?: string;
      /**
       * JSON Pointer to the destination ids of the request's rows a 2xx answer says the
       * destination has no record of, and so ignored (HubSpot's list memberships:
       * `recordIdsMissing`): their rows are refused. An id there that is no row's, or a value
       * there that is no list, leaves unknown which rows were taken.
       */
      missing?: string;
      partial?: PartialRefusal;
    }
  /**
   * A 2xx answer that lists the rows the destination refused, each by the key it was sent with
   * (Klaviyo's import errors of a job, each holding the profile as sent): the items at `items`;
   * in an item, the key at the first of the pointers of `key` that holds a string, and why at
   * `reason`. The rows sent with exactly that key are refused, the others taken. Where the
   * answer holds a URL at `next` (another page of errors), that page is asked for too, at the
   * request's own URL with that URL's query, and read against every row of the request (a row
   * may have an error on each page); each page must refuse a row no page before did. An item
   * that names no row of the request leaves unknown which were refused: none is taken, and all
   * are sent again.
   */
  | { by: 'errors'; items: string; key: string[]; reason: string; next: string }
  /**
   * The response holds one item per row: at `items` (a JSON Pointer; "" = the body), in
   * request order (`match: 'order'`, where the API documents one result per input, in order:
   * a response with another count matches no row) or found by the item's `key` pointer equal
   * to the key the row was sent with (`match: 'key'`; case-insensitively only with `keyCase:
   * 'insensitive'`, where the destination treats the key so). A row is accepted only on an
   * item that is its own: a row without one, or whose key another row of the request or more
   * than one item shares, is rejected with the reason; one the body's `/errors` also names, as
   * perhaps applied. With `success`, an item is accepted only
   * when the value at that pointer equals `equals`, or when it says that what was asked is so
   * already (`already`). With `rowKey: 'destination_id'`, an item's key is compared to the
   * row's destination id (the record id an earlier request of the batch captured) instead.
   */
  | {
      by: 'items';
      items: string;
      match: 'order' | 'key';
      key?: string;
      keyCase?: 'insensitive';
      rowKey?: 'destination_id';
      success?: { pointer: string; equals: Template };
      already?: Already;
      /**
       * `done`: in a 2xx answer, a row whose key no item carries is not at the destination, so
       * what the step asks of it (its removal) is so already: it is accepted by the whole step
       * and goes to no later request. The lookup before a removal by id.
       */
      absent?: 'done';
      /**
       * With `absent`: an error that names the row and holds `equals` at `pointer` says the same,
       * that the row is not at the destination (HubSpot's batch read names the ids it has no
       * record of in one OBJECT_NOT_FOUND error). Any other error naming the row refuses it.
       */
      absentError?: { pointer: string; equals: string };
      /**
       * With `absent`: a row not found that has a destination id (its write recorded one) is not
       * done but goes on to the step's next request with that id: the record may be there under
       * another key (a HubSpot contact whose email was changed there).
       */
      absentKeepsId?: true;
      /** With `absent`: a JSON Pointer to `true` where the answer holds every result (Salesforce's `done`); no row is absent otherwise. */
      complete?: string;
    };

/** A request made once, not per row: sign-in, looking up or creating a list, opening or running a job. */
export interface CallStep {
  kind: 'call';
  name: string;
  description: string;
  /** Run the call only when the condition holds (opening or running a job of a full replace). */
  when?: StepCondition;
  /**
   * Run the call only if every row sent before it was accepted; else it is skipped (and
   * reported so). A job that begins by emptying the list (Google Ads mirror's remove_all) must
   * not run with an operation missing: it would drop that member, and a snapshot still holding
   * the member would never send it again. Its rows stay unaccepted, and the next run repeats
   * the whole replace.
   */
  onlyIfAllAccepted?: true;
  /**
   * The change rows this call acts on as a whole, sending none of them: Google Ads mirror's
   * remove_all empties the list of every member who left. Calls are made only for rows some
   * later step acts on; these count as such rows, so an audience that became empty (all its
   * rows removed, none to send) still gets its job and remove_all. The call accepts none of
   * them: an `accept` step after the job's run does, when every row was accepted.
   */
  changes?: ChangeKind[];
  /**
   * The call runs a job the destination carries out after it answered, and may still fail
   * (Google Ads' `:run`): once it answered 2xx, the rows of `changes` are recorded as that job's
   * (the job's name in `vars.<var>`) in the plan's jobs table (`JobsStep`), before any of them is
   * committed, so that a later run that finds the job failed sends them again.
   */
  job?: { var: string; changes: ChangeKind[] };
  /** Skip the call when this variable is already set (e.g. create a list only if the lookup found none). */
  unlessSet?: string;
  request: HttpRequest;
  /** Statuses that mean "no such thing": the call succeeds and captures nothing (a lookup that finds no list). */
  absentOn?: number[];
  /**
   * Hold the lock `key` from before this call until the later call `through` has run or been
   * skipped (released however the run ends), taken as the plan's lock is (on its endpoint: an
   * advisory lock, or a row of its lock table) and waited for as long as those calls may take.
   * A find-or-create of a named object: runs of other syncs into the same name wait, then find
   * what the first created, instead of each creating its own.
   */
  lock?: CallLock;
  /**
   * A lookup by a name the destination does not keep unique: its matches are the array at
   * `items`. With `order`, they are sorted by the value at that pointer in each, least first
   * (numbers by value, else as text; a match without one last), before `capture` reads the
   * answer, so `/items/0/...` is the oldest. More than one match is a warning in the report.
   */
  matches?: { items: string; order?: string };
  /** Variables set from the 2xx response: name -> JSON Pointer into the body; a missing pointer leaves it unset. */
  capture: Record<string, string>;
  /** Variables that must be set after the call, or the run fails (e.g. the list id). */
  requires: string[];
  retry: RetryPolicy;
  rateLimit?: RateLimit;
}

/** The ids a request may name (`SendRequest.destinationIds`). */
export interface DestinationIds {
  /** An ECMAScript regular expression (flag `u`) an id must match from its first character to its last. */
  pattern: string;
  /** What such ids are ("CampaignMember ids"), for the reason a row is refused. */
  what: string;
}

/** A lock held across calls (`CallStep.lock`). */
export interface CallLock {
  /** A signed 64-bit integer, as decimal text, like `PlanLock.key`. */
  key: string;
  /** The name of the call after which it is released. */
  through: string;
}

/** One request of a send step, made for each batch (`for: 'batch'`) or each row of it (`for: 'row'`). */
export interface SendRequest {
  for: 'batch' | 'row';
  request: HttpRequest;
  accept: Acceptance;
  /**
   * Per-row values taken from the row's response item (`by: 'items'`), e.g. `destination_id`
   * <- "/id"; later requests of the batch see it as `row.destination_id`, and commit.sql keeps
   * it in the snapshot (a later request's capture wins).
   */
  captureRow?: Record<'destination_id', string>;
  /**
   * `without_destination_id`: the request is made only for the rows of the batch that have no
   * destination id (a lookup of the id a later request removes by); the others go on to the
   * next request as they are.
   */
  only?: 'without_destination_id';
  /**
   * The destination ids the request may name: those the regular expression `pattern` matches
   * whole; `what` says what they are, for the reason a row is refused. A row whose id it does not
   * match (the id of another kind of record, kept by an older version, or none) is never sent by
   * it: with `only`, it counts as having no id, so the lookup is made for it and the id found
   * takes the held one's place; on any other request, it is refused with the reason, and stays
   * for the next run. Salesforce deletes by id a record of any object: a campaign's removal may
   * name CampaignMembers only, never the contact a wrong id would delete.
   */
  destinationIds?: DestinationIds;
  /**
   * Values of the batch read from a 2xx answer, name -> JSON Pointer (Klaviyo's bulk import:
   * `job` <- "/data/id", the job it queued); later requests of the batch see each as
   * `batch.<name>`. An answer without one of them takes none of the rows: whether they will be
   * applied is unknown, and they are sent again. Only on a request made per batch; when the
   * batch is sent in parts (a body too large), each part's rows go on with their part's values.
   */
  captureBatch?: Record<string, string>;
  /** The request asks how a job of the batch is going, until it has ended (`JobPoll`). */
  poll?: JobPoll;
}

/**
 * A job the destination carries out after it answered (Klaviyo's bulk import answers 202 before
 * the job runs, and may then refuse some profiles): a 2xx answer whose value at `status` is
 * among `done` passes the request's rows on to the next request (the job's errors), one among
 * `failed` refuses them all; any other asks again, later and later (1 s, doubling, at most 30 s
 * apart), until `waitSeconds` have passed since the first answer. Then the rows fail and the
 * next run sends them again: it does not know whether the job will take them.
 */
export interface JobPoll {
  status: string;
  done: string[];
  failed: string[];
  waitSeconds: number;
}

/**
 * Ask how the jobs of earlier runs ended (`CallStep.job`), before the change set is built. A job
 * runs for hours after its run answered (Google Ads Customer Match), so a run does not wait for
 * it: its rows are committed as delivered, and kept in the jobs table with the job's name until
 * the job's outcome is known. This step, first of the plan, reads the jobs pending there
 * (`sql.pending`); when there is one, it makes its `calls` (sign-in), then asks each job's status
 * (`request`, the job's name in `vars.job`): a status among `done` forgets the job
 * (`sql.forget`), one among `pending` keeps it for the next run, and any other (a failure, a
 * status the plan does not know, no job found) makes its rows count as not delivered
 * (`sql.failed`: each goes into the accepted table as sent without an answer, so that commit.sql,
 * run at once, gives its snapshot row the unknown payload hash), then forgets it. The change set
 * then sends those rows again as added while the model has them, and removes those it no longer
 * has: a job's rows are those it carried, so a mirror's job (the list emptied, then every
 * member) has the whole snapshot sent again. A status that cannot be read (the request failed)
 * keeps the job, with a warning.
 */
export interface JobsStep {
  kind: 'jobs';
  description: string;
  /** Calls made before the first status request, only when some job is pending (sign-in). */
  calls: CallStep[];
  /** One job's status; `vars.job` is the job's name. */
  request: HttpRequest;
  /** JSON Pointer to the job's status in a 2xx answer. */
  status: string;
  /** Statuses of a job that ended and applied its rows. */
  done: string[];
  /** Statuses of a job that has not ended yet. */
  pending: string[];
  /** JSON Pointer to why a job failed, for the report. */
  reason?: string;
  /**
   * A job of this plan replaces the destination's list (a mirror's begins with removeAll), and
   * the destination may carry out jobs on one list in any order: one that ended after a later
   * one would put back the list it was given. So while a job of an earlier run has not ended (a
   * status among `pending`, or one that cannot be read), the run sends and commits nothing and
   * ends busy; the next run asks again.
   */
  exclusive?: true;
  /** The jobs table's statements on the source (`JobsSql`). */
  sql: JobsSql;
  retry: RetryPolicy;
  rateLimit?: RateLimit;
}

/** The statements of the jobs table (`<sync>_jobs`, made by changes.sql): a row per row of a job, by the job's name. */
export interface JobsSql {
  /** The jobs whose outcome is not known yet: one column, `job`. */
  pending: string;
  /** Records one row of a job (`statement`), or many (`rows`, each parameter an array), binding `parameters`. */
  insert: { statement: string; rows?: string; parameters: ['job', 'row_key'] };
  /** Forgets a job's rows; `job` bound. */
  forget: string;
  /** Inserts each row of the job into the accepted table as `sent` (`sentChange`), with a null payload hash and destination id; `job` bound. */
  failed: string;
}

/** Send change rows to an HTTP API in batches; a row is accepted when every request accepted it. */
export interface SendStep {
  kind: 'send';
  /** What the destination does with the rows: create, update, upsert, delete, add_members, ... */
  operation: string;
  description: string;
  /** Run the step only when the condition holds (a full replace: nothing changed, nothing to resend). */
  when?: StepCondition;
  /** Change kinds this step takes from the read rows, in `seq` order. */
  changes: ChangeKind[];
  /**
   * The rows the responses accept are not recorded as they are accepted, but only before the
   * commit, and only if every row of every step was accepted and no step failed: a replace takes
   * effect whole or not at all (a usersreplace session with its last batch), and a job applies
   * its operations only when it runs (Google Ads, in every mode), so a replace left half done or
   * a job that never ran commits none of its rows and the next run repeats it. The rows are
   * recorded as read (`captureRow` values are not kept).
   */
  deferAccept?: boolean;
  /** Rows per batch, and the largest body the API takes (split a batch that would exceed it). */
  batch: { size: number; maxBytes?: number };
  /** Batches go one after another, in order, never in parallel (a replace session). */
  ordered: boolean;
  requests: SendRequest[];
  /** Seconds each request may take: the destination's own setting (a number, or `$env` of one); absent: the executor's default. */
  timeoutSeconds?: Template;
  /**
   * The sync's message, a Handlebars template over the model's columns (`row.columns`),
   * rendered where a template says `{"$message": null}`: HTML-escaping off, unknown names empty.
   */
  message?: string;
  /**
   * How the row's values are escaped where the message inserts them: `slack` writes `&`, `<`
   * and `>` as `&amp;`, `&lt;`, `&gt;` (Slack's text formatting), so that warehouse data cannot
   * mention a channel or disguise a link; the template's own text is left as written.
   */
  escapeMessageValues?: 'slack';
  retry: RetryPolicy;
  rateLimit?: RateLimit;
}

/** Publish one message per row to a stream; a row is accepted when the broker acknowledged its message. */
export interface PublishStep {
  kind: 'publish';
  description: string;
  changes: ChangeKind[];
  /** Kafka: a producer; Kinesis: PutRecords (batch.size records per call, failed records retried per `retry`). */
  transport: 'kafka' | 'kinesis';
  /** Topic or stream name. */
  destination: Template;
  /** Message key (Kafka) or partition key (Kinesis); null sends Kafka messages without a key. */
  key: Template;
  /** The message, serialised as JSON. */
  value: Template;
  /**
   * Messages per batch, and the bytes a batch may hold, as the transport counts them: Kinesis,
   * the data and partition keys of one PutRecords call; Kafka, the record batch a produce
   * request carries (the broker's message.max.bytes), kept a margin under it.
   */
  batch: { size: number; maxBytes?: number };
  /**
   * Largest message; a row whose message is larger is rejected. Kinesis counts its data and key; Kafka
   * the record batch it makes alone, kept a margin under it as a batch is.
   */
  maxMessageBytes: number;
  /** Longest key in UTF-16 units (Kinesis partition keys: 256 characters); a row whose key is longer is rejected. */
  maxKeyChars?: number;
  /** Connection settings (brokers, region, credentials as `$env`), by the transport's own names. */
  connection: Record<string, Template>;
  retry: RetryPolicy;
}

/** Write rows as csv, jsonl or Parquet objects; a written object accepts every row in it. */
export interface WriteObjectStep {
  kind: 'write_object';
  description: string;
  /** Write only when the condition holds (mirror: the object already holds every current row). */
  when?: StepCondition;
  changes: ChangeKind[];
  service: 's3' | 'gcs';
  bucket: Template;
  /** Object name; rendered once per object with `batch` bound (index from 1). */
  key: Template;
  format: 'csv' | 'jsonl' | 'parquet';
  /** Rows per object; absent = every row in one object. */
  batch?: { size: number };
  /** One record per row, an object; csv writes `columns` as its header, in order (RFC 4180, UTF-8). */
  record: Template;
  columns: string[];
  connection: Record<string, Template>;
  retry: RetryPolicy;
}

/**
 * Accept every row of these kinds without sending it: `always` (the rows need no call, e.g.
 * members entering under audience remove, so that they are known when they leave), or
 * `all_accepted` (only if every earlier step accepted all of its rows: a list replace or an
 * object overwrite has already removed the rest).
 */
export interface AcceptStep {
  kind: 'accept';
  description: string;
  changes: ChangeKind[];
  when: 'always' | 'all_accepted';
  /**
   * Skip the step when this condition holds. Meta mirror's accept of the members who left, who
   * are gone only if the replace ran: when the audience became empty (`emptied`) there is no
   * replace, and the step that deletes them accepts those Meta took.
   */
  unless?: StepCondition;
}

/**
 * Record the accepted rows, then run commit.sql on the source, which moves exactly those rows
 * into the snapshot and empties the accepted table. Runs even when some rows were rejected.
 * commit.sql reads only the accepted table, so run first it finishes a killed run's commit.
 */
export interface CommitStep extends Omit<SqlStep, 'kind'> {
  kind: 'commit';
  /**
   * One parameterised INSERT into the accepted table, run once per accepted row (or as a
   * batch where the driver can), binding `parameters` from the row in order: its key, its
   * change, its payload hash (as read) and its destination id (captured, else as read).
   * Placeholders are `$1, $2, ...` (postgres) or `?` (snowflake, bigquery).
   */
  /** `statement`: one row; `rows` (where the dialect has it): many, each parameter bound to an array of the rows' values (text). */
  acceptedInsert: { statement: string; rows?: string; parameters: ['row_key', 'change', 'payload_hash', 'destination_id'] };
  /**
   * The accepted table is also a write-ahead record of requests: before a request leaves, the
   * executor inserts its rows (one insert per batch, committed before the request is sent) with
   * the change `sent` (`sentChange`), and a row the destination surely did not apply (refused
   * by a definite answer, before any other request of its batch took it and after no attempt
   * left unanswered) with `refused` (`refusedChange`); both with a null payload hash, a sent
   * row with the destination id its change row has, a refused one with none. commit.sql gives a
   * row sent more often than it was accepted or refused (the answer lost, the run killed) the
   * snapshot's unknown payload hash, keeping its destination id (an accepted row's, else the
   * one it was sent with): the next change set sends it again as new while the model has it,
   * and removes it once the model no longer does. Absent where the plan reads only added rows
   * (insert; add, but Google Ads'): a row sent without an answer is added again whether or not the snapshot has
   * it, and no step reads it once it leaves the model.
   */
  writeAhead?: true;
}

/** The change the write-ahead record gives a row whose request is about to leave (`CommitStep.writeAhead`). */
export const sentChange = 'sent';
/** The change that settles a sent row the destination surely did not apply (`CommitStep.writeAhead`). */
export const refusedChange = 'refused';

export type ApiStep = JobsStep | ChangesStep | GuardStep | ReadStep | CallStep | SendStep | PublishStep | WriteObjectStep | AcceptStep | CommitStep;
