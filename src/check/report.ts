/** The checker's diagnostic sink: every check reports through one `Reporter`. */
import type { Advice, Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnostic, type CodeName } from '../diagnostics/codes.js';
import type { Span } from '../span.js';

export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  /**
   * What a definition's check reported outside that definition (a sync without a `map` at a
   * column of the model it reads), with the definition's span: an incremental check replaces
   * the diagnostics of the definitions it checks again by where they were reported from, not
   * by where they point (src/check/project.ts).
   */
  readonly reportedBy = new Map<Diagnostic, Span>();
  /** The span of the definition being checked, if any: what `reportedBy` names. */
  checking: Span | undefined;
  #errors = 0;

  report(name: CodeName, span: Span, data: Record<string, unknown> = {}, advice: string[] | Advice = []): void {
    this.add(diagnostic(name, span, data, advice));
  }

  /** A diagnostic made elsewhere (the parser's). */
  add(d: Diagnostic): void {
    this.diagnostics.push(d);
    const by = this.checking;
    if (by && !(d.span.file === by.file && d.span.offset >= by.offset && d.span.offset <= by.endOffset)) this.reportedBy.set(d, by);
    if (d.severity === 'error') this.#errors++;
  }

  /** Counted as reported: checks compare it before and after each definition, so it must not cost a pass over every diagnostic. */
  get errorCount(): number {
    return this.#errors;
  }
}

/** Whether a node holds a placeholder for missing text (ast.ts); walked with a stack, as a condition nests as deep as it is long. */
function holdsMissing(node: object): boolean {
  const stack: unknown[] = [node];
  while (stack.length > 0) {
    const n = stack.pop();
    if (typeof n !== 'object' || n === null) continue;
    if ((n as { missing?: unknown }).missing === true) return true;
    for (const [key, value] of Object.entries(n)) if (key !== 'span') stack.push(value);
  }
  return false;
}

/**
 * Items of a block that may appear at most once: the first wins, repeats are reported. An
 * item that is missing text (`from` with no name) is no repeat: its syntax error says enough.
 */
export function single<I extends { kind: string; span: Span }, K extends I['kind']>(
  items: readonly I[],
  kind: K,
  keyword: string,
  owner: { kind: string; name: string },
  r: Reporter,
): Extract<I, { kind: K }> | undefined {
  // Mostly there is one or none: found without making arrays (a sync asks for eleven kinds).
  let first: Extract<I, { kind: K }> | undefined;
  let repeated = false;
  for (const i of items) {
    if (i.kind !== kind) continue;
    if (first) {
      repeated = true;
      break;
    }
    first = i as Extract<I, { kind: K }>;
  }
  if (!repeated) return first;
  const all = items.filter((i): i is Extract<I, { kind: K }> => i.kind === kind);
  const found = all.length > 1 ? all.filter((i) => !holdsMissing(i)) : all;
  for (const extra of found.slice(1)) {
    r.report(
      'duplicate-item',
      extra.span,
      { item: keyword, kind: owner.kind, name: owner.name },
      {
        hints: [`remove one of the \`${keyword}\` items`],
        related: [{ message: `the first \`${keyword}\` is here`, span: found[0]!.span }],
      },
    );
  }
  return found[0] ?? all[0];
}
