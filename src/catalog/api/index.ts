/** The API description of every non-warehouse destination type, by type name. */
import type { DestinationApi } from './types.js';
import { slackApi, webhookApi } from './destinations/other.js';

export type * from './types.js';

export const destinationApis: ReadonlyMap<string, DestinationApi> = new Map([
  ['slack', slackApi],
  ['webhook', webhookApi],
]);

export function requireDestinationApi(type: string): DestinationApi {
  const api = destinationApis.get(type);
  if (!api) throw new Error(`no API description for destination type '${type}'; described: ${[...destinationApis.keys()].join(', ')}`);
  return api;
}
