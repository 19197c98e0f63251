/** The one diagnostic shape of the project: every stage reports through it. */
import type { Span } from '../syntax/span.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  span: Span;
  hints: string[];
}
