/**
 * The vendors' published specifications the contract tables are written from: repository,
 * path and commit of each (the last commit that changed the file). The files themselves are
 * not kept here; the tables under vendors/ state what the project holds requests to, in its
 * own words, each rule citing one of these and the operation or passage it comes from.
 */
export interface Source {
  repo: string;
  path: string;
  commit: string;
  /** A documentation page, for vendors that publish no machine-readable spec of the call. */
  url?: string;
}

export const sources = {
  'hubspot/crm-objects-v3': {
    repo: 'HubSpot/HubSpot-public-api-spec-collection',
    path: 'PublicApiSpecs/CRM/Objects/Rollouts/424/v3/objects.json',
    commit: '8a741072345a96d5000198c7e243012e6d488ddd',
  },
  'hubspot/crm-lists-v3': {
    repo: 'HubSpot/HubSpot-public-api-spec-collection',
    path: 'PublicApiSpecs/CRM/Lists/Rollouts/144891/v3/lists.json',
    commit: '3225ce2257f3d9f0d2664a73960479671749a62c',
  },
  'hubspot/docs': {
    repo: 'developers.hubspot.com',
    path: 'apisbytier; CRM batch documentation (100 inputs per batch call)',
    commit: '-',
    url: 'https://developers.hubspot.com/apisbytier',
  },
  'klaviyo/stable-2024-10-15': { repo: 'klaviyo/openapi', path: 'openapi/stable.json (branch 2024-10-15)', commit: '5e5302c2b92698ac0970269a6a4551cec407dee4' },
  'klaviyo/stable-2025-10-15': { repo: 'klaviyo/openapi', path: 'openapi/stable.json (branch 2025-10-15)', commit: '52cfe72056cae1db5f942c6089bcae34f47f1030' },
  'klaviyo/stable-2026-07-15': { repo: 'klaviyo/openapi', path: 'openapi/stable.json (branch 2026-07-15)', commit: '7584f62b0a1bb36f22b22d79a3c3a0385833d1f2' },
  'klaviyo/docs': {
    repo: 'developers.klaviyo.com',
    path: 'API reference: get_bulk_import_profiles_job, get_errors_for_bulk_import_profiles_job (revisions 2024-02-15 to 2026-10-15)',
    commit: '-',
    url: 'https://developers.klaviyo.com/en/reference/get_errors_for_bulk_import_profiles_job',
  },
  'klaviyo/revisions': { repo: 'klaviyo/openapi', path: '(branch list: one branch per GA revision)', commit: 'f0a30ba41254904dc410d84ca497df68f8872276' },
  'mixpanel/ingestion-openapi': { repo: 'mixpanel/docs', path: 'openapi/ingestion.openapi.yaml', commit: '15005149bb5fb5af8981b8162a190c05a405a4fc' },
  'mixpanel/import-events': { repo: 'mixpanel/docs', path: 'reference/import-events.mdx', commit: '65b50e2addcbf44f515b2f32a46aa4e768cafea8' },
  'mixpanel/user-profile-limits': { repo: 'mixpanel/docs', path: 'reference/user-profile-limits.mdx', commit: '65b50e2addcbf44f515b2f32a46aa4e768cafea8' },
  'slack/web-api': {
    repo: 'slackapi/slack-api-specs',
    path: 'web-api/slack_web_openapi_v2_without_examples.json',
    commit: 'dfea73e06d146c368d7f94b52ac90796dc4e27e1',
  },
  'slack/docs': {
    repo: 'api.slack.com',
    path: 'changelog 2017-10 keeping up with the JSONs (bearer token for JSON bodies); chat.postMessage (40,000 characters of text)',
    commit: '-',
    url: 'https://api.slack.com/methods/chat.postMessage',
  },
  'meta/sdk-codegen-specs': {
    repo: 'facebook/facebook-business-sdk-codegen',
    path: 'api_specs/specs/{CustomAudience,AdAccount,enum_types}.json',
    commit: 'c487af0d0b272065a7594c140fce885f3bbae33d',
  },
  'meta/sdk-normalisation': {
    repo: 'facebook/facebook-python-business-sdk',
    path: 'facebook_business/adobjects/helpers/customaudiencemixin.py (format_params, normalize_key); the codegen templates of the Ruby and Python helpers at 983a47c6c9da1cd581099fe1b7c780238b76b677 / a0f728f4716812e26f58bc5ff66ca67305116539',
    commit: '66629be844d168bf9187054bb1178a85530a8324',
  },
  'meta/docs': {
    repo: 'developers.facebook.com',
    path: 'Marketing API reference: custom-audience/users, custom-audience/usersreplace; custom audiences guide',
    commit: '-',
    url: 'https://developers.facebook.com/docs/marketing-api/reference/custom-audience/users',
  },
  'google-ads/v24-protos': {
    repo: 'googleapis/googleapis',
    path: 'google/ads/googleads/v24/{services/offline_user_data_job_service,services/user_list_service,services/google_ads_service,resources/offline_user_data_job,resources/user_list,common/offline_user_data,common/user_lists,common/consent,enums/*}.proto',
    commit: 'cf027ac51c71290c7357e4c98cf4e6dbb0157346 (google_ads_service.proto: 65cb743efa836791e8ffa81e5c2eb0c42268411a)',
  },
  'google-ads/docs': {
    repo: 'developers.google.com',
    path: 'google-ads/api/rest/auth (headers, OAuth refresh); Customer Match guide as quoted by the Google Ads API Team (100,000 identifiers per AddOfflineUserDataJobOperationsRequest, 20 per operation)',
    commit: '-',
    url: 'https://developers.google.com/google-ads/api/docs/remarketing/audience-segments/customer-match/get-started',
  },
  'amplitude/http-v2': { repo: 'amplitude/amplitude-docs', path: 'content/collections/api/en/http-v2.md', commit: '5c7eca651340b31ecd42434694f84c50d288afd1' },
  'amplitude/identify': {
    repo: 'amplitude/amplitude-docs',
    path: 'content/collections/api/en/identify.md',
    commit: '5c7eca651340b31ecd42434694f84c50d288afd1',
  },
  'braze/users-track': {
    repo: 'braze-inc/braze-docs',
    path: '_docs/_api/endpoints/user_data/post_user_track.md; _docs/_api/objects_filters/user_attributes_object.md; _includes/rate_limits.md',
    commit: '009c6ea3827be8353e8e7b19d5fe1c6c831e5d7d / fb70d7ce12e5d13b8fed4af8fdae1d0bf78fd959 / 03a4fe5fe9eb92105772d11b7af199cbf50a312f',
  },
  'salesforce/rest-docs': {
    repo: 'developer.salesforce.com',
    path: 'REST API Developer Guide: sObject Collections create, update, upsert, delete; query; OAuth refresh token flow',
    commit: '-',
    url: 'https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-delete.html',
  },
  'aws/kinesis-service-2': {
    repo: 'boto/botocore',
    path: 'botocore/data/kinesis/2013-12-02/service-2.json (PutRecords)',
    commit: '1a0813ab227c0a0275b3b332b051a737ecec68fc',
  },
  'storage/naming-docs': {
    repo: 'docs.aws.amazon.com, cloud.google.com',
    path: 'Amazon S3 User Guide: object keys; Cloud Storage: naming objects',
    commit: '-',
    url: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html',
  },
  'kafka/broker-configs': {
    repo: 'kafka.apache.org',
    path: 'documentation: broker config message.max.bytes',
    commit: '-',
    url: 'https://kafka.apache.org/documentation/#brokerconfigs_message.max.bytes',
  },
  'webhook/syncwright-docs': {
    repo: 'this project',
    path: 'docs/run.md (webhook payload model) and RFC 9110 (POST, PUT)',
    commit: '-',
    url: 'https://www.rfc-editor.org/rfc/rfc9110',
  },
} as const satisfies Record<string, Source>;

export type SourceName = keyof typeof sources;
