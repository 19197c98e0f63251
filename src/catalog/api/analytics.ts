/**
 * The shape product-analytics destinations share (Amplitude, Mixpanel): a record sync sends
 * each row either as one event (object kind `event`) or as an update of a user's properties,
 * in one send step over batches; upsert reads the new and changed rows, insert the new ones.
 */
import type { RetryPolicy, SendRequest } from '../../plan/api-steps.js';
import { send } from './http.js';
import type { ApiContext, DestinationApi, ModePlan } from './types.js';

/** One way of sending a row: the step's operation and description, and its request. */
export interface AnalyticsCall {
  operation: string;
  description: string;
  request(ctx: ApiContext): SendRequest;
}

export interface AnalyticsApi {
  /** Object kind `event`. */
  event: AnalyticsCall;
  /** Any other object kind: the user's (or profile's) properties. */
  properties: AnalyticsCall;
  /** When the vendor asks for other than the standard retry policy. */
  retry?: RetryPolicy;
}

export function analyticsApi(api: AnalyticsApi): DestinationApi {
  const step = (ctx: ApiContext, changes: ModePlan['reads']): ModePlan => {
    const c = ctx.objectKind === 'event' ? api.event : api.properties;
    return {
      reads: changes,
      steps: [
        send({
          operation: c.operation,
          description: c.description,
          changes,
          batch: { size: ctx.batch },
          requests: [c.request(ctx)],
          ...(api.retry ? { retry: api.retry } : {}),
        }),
      ],
    };
  };
  return {
    setup: () => [],
    modes: {
      'record:upsert': (ctx) => step(ctx, ['added', 'changed']),
      'record:insert': (ctx) => step(ctx, ['added']),
    },
  };
}
