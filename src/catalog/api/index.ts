/** The API description of every non-warehouse destination type, by type name. */
import type { DestinationApi } from './types.js';
import { amplitudeApi } from './destinations/amplitude.js';
import { brazeApi } from './destinations/braze.js';
import { facebookAdsApi } from './destinations/facebook-ads.js';
import { googleAdsApi } from './destinations/google-ads.js';
import { hubspotApi } from './destinations/hubspot.js';
import { klaviyoApi } from './destinations/klaviyo.js';
import { mixpanelApi } from './destinations/mixpanel.js';
import { salesforceApi } from './destinations/salesforce.js';
import { gcsApi, s3Api } from './destinations/storage.js';
import { kafkaApi, kinesisApi } from './destinations/streaming.js';
import { slackApi, webhookApi } from './destinations/other.js';

export type * from './types.js';
export { settingTemplate, storageFormat } from './http.js';
export { mirrorObject } from './destinations/storage.js';

export const destinationApis: ReadonlyMap<string, DestinationApi> = new Map([
  ['amplitude', amplitudeApi],
  ['braze', brazeApi],
  ['facebook_ads', facebookAdsApi],
  ['gcs', gcsApi],
  ['google_ads', googleAdsApi],
  ['hubspot', hubspotApi],
  ['kafka', kafkaApi],
  ['kinesis', kinesisApi],
  ['klaviyo', klaviyoApi],
  ['mixpanel', mixpanelApi],
  ['s3', s3Api],
  ['salesforce', salesforceApi],
  ['slack', slackApi],
  ['webhook', webhookApi],
]);

export function requireDestinationApi(type: string): DestinationApi {
  const api = destinationApis.get(type);
  if (!api) throw new Error(`no API description for destination type '${type}'; described: ${[...destinationApis.keys()].join(', ')}`);
  return api;
}
