/** Plan steps of syncs into API destinations. */
import type { SqlStep } from './warehouse-steps.js';

export type ApiStep = SqlStep;
