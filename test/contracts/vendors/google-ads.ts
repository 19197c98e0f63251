/**
 * Google Ads API v24, Customer Match: the OAuth token exchange, GoogleAdsService.Search (the
 * user list lookup), UserListService.MutateUserLists (the list's creation) and
 * OfflineUserDataJobService (create a job, add operations, run it). Paths from the protos'
 * google.api.http rules; bodies against a rule table of the protos' messages (proto.ts);
 * headers and identifier limits from the documentation.
 */
import { checkProto, type ProtoTable } from '../proto.js';
import { bearerToken, headerSchema, jsonType, type Operation, type ParsedRequest, type VendorContract } from '../types.js';

const protos = { source: 'google-ads/v24-protos' } as const;
const docs = { source: 'google-ads/docs' } as const;
const host = 'https://googleads.googleapis.com';

/** The messages syncwright sends, field by field (proto name, type, behaviour), from the v24 protos. */
export const googleAdsV24: ProtoTable = {
  messages: {
    // services/google_ads_service.proto
    SearchGoogleAdsRequest: {
      file: 'services/google_ads_service.proto',
      fields: {
        customer_id: { type: 'string', required: true },
        query: { type: 'string', required: true },
        page_token: { type: 'string' },
        page_size: { type: 'int32' },
        validate_only: { type: 'bool' },
        search_settings: { type: 'opaque' },
      },
    },
    // services/user_list_service.proto
    MutateUserListsRequest: {
      file: 'services/user_list_service.proto',
      fields: {
        customer_id: { type: 'string', required: true },
        operations: { type: 'message:UserListOperation', repeated: true, required: true },
        partial_failure: { type: 'bool' },
        validate_only: { type: 'bool' },
      },
    },
    UserListOperation: {
      file: 'services/user_list_service.proto',
      fields: {
        update_mask: { type: 'string' },
        create: { type: 'message:UserList', oneof: 'operation' },
        update: { type: 'message:UserList', oneof: 'operation' },
        remove: { type: 'string', oneof: 'operation' },
      },
      exactlyOne: ['operation'],
    },
    // resources/user_list.proto; "The user list. Exactly one must be set."
    UserList: {
      file: 'resources/user_list.proto',
      fields: {
        resource_name: { type: 'string' },
        id: { type: 'int64', outputOnly: true },
        read_only: { type: 'bool', outputOnly: true },
        name: { type: 'string' },
        description: { type: 'string' },
        membership_status: { type: 'enum:UserListMembershipStatus' },
        integration_code: { type: 'string' },
        // "This field must be between 0 and 540 inclusive."
        membership_life_span: { type: 'int64', range: [0, 540] },
        size_for_display: { type: 'int64', outputOnly: true },
        size_range_for_display: { type: 'opaque', outputOnly: true },
        size_for_search: { type: 'int64', outputOnly: true },
        size_range_for_search: { type: 'opaque', outputOnly: true },
        type: { type: 'opaque', outputOnly: true },
        closing_reason: { type: 'opaque' },
        access_reason: { type: 'opaque', outputOnly: true },
        account_user_list_status: { type: 'opaque' },
        eligible_for_search: { type: 'bool' },
        eligible_for_display: { type: 'bool', outputOnly: true },
        match_rate_percentage: { type: 'int32', outputOnly: true },
        crm_based_user_list: { type: 'message:CrmBasedUserListInfo', oneof: 'user_list' },
        similar_user_list: { type: 'opaque', oneof: 'user_list', outputOnly: true },
        rule_based_user_list: { type: 'opaque', oneof: 'user_list' },
        logical_user_list: { type: 'opaque', oneof: 'user_list' },
        basic_user_list: { type: 'opaque', oneof: 'user_list' },
        lookalike_user_list: { type: 'opaque', oneof: 'user_list' },
      },
      exactlyOne: ['user_list'],
    },
    // common/user_lists.proto; upload_key_type: "This field is required for an ADD operation."
    CrmBasedUserListInfo: {
      file: 'common/user_lists.proto',
      fields: {
        app_id: { type: 'string' },
        upload_key_type: { type: 'enum:CustomerMatchUploadKeyType', required: true },
        data_source_type: { type: 'enum:UserListCrmDataSourceType' },
      },
    },
    // services/offline_user_data_job_service.proto
    CreateOfflineUserDataJobRequest: {
      file: 'services/offline_user_data_job_service.proto',
      fields: {
        customer_id: { type: 'string', required: true },
        job: { type: 'message:OfflineUserDataJob', required: true },
        validate_only: { type: 'bool' },
        enable_match_rate_range_preview: { type: 'bool' },
      },
    },
    RunOfflineUserDataJobRequest: {
      file: 'services/offline_user_data_job_service.proto',
      fields: { resource_name: { type: 'string', required: true }, validate_only: { type: 'bool' } },
    },
    AddOfflineUserDataJobOperationsRequest: {
      file: 'services/offline_user_data_job_service.proto',
      fields: {
        resource_name: { type: 'string', required: true },
        enable_partial_failure: { type: 'bool' },
        enable_warnings: { type: 'bool' },
        operations: { type: 'message:OfflineUserDataJobOperation', repeated: true, required: true },
        validate_only: { type: 'bool' },
      },
    },
    OfflineUserDataJobOperation: {
      file: 'services/offline_user_data_job_service.proto',
      fields: {
        create: { type: 'message:UserData', oneof: 'operation' },
        remove: { type: 'message:UserData', oneof: 'operation' },
        remove_all: { type: 'bool', oneof: 'operation' },
      },
    },
    // resources/offline_user_data_job.proto
    OfflineUserDataJob: {
      file: 'resources/offline_user_data_job.proto',
      fields: {
        resource_name: { type: 'string' },
        id: { type: 'int64', outputOnly: true },
        external_id: { type: 'int64' },
        type: { type: 'enum:OfflineUserDataJobType' },
        status: { type: 'opaque', outputOnly: true },
        failure_reason: { type: 'opaque', outputOnly: true },
        operation_metadata: { type: 'opaque', outputOnly: true },
        customer_match_user_list_metadata: { type: 'message:CustomerMatchUserListMetadata', oneof: 'metadata' },
        store_sales_metadata: { type: 'opaque', oneof: 'metadata' },
      },
    },
    // common/offline_user_data.proto; user_list: "Required for job of CUSTOMER_MATCH_USER_LIST type."
    CustomerMatchUserListMetadata: {
      file: 'common/offline_user_data.proto',
      fields: { user_list: { type: 'string', required: true }, consent: { type: 'message:Consent' } },
    },
    Consent: { file: 'common/consent.proto', fields: { ad_user_data: { type: 'enum:ConsentStatus' }, ad_personalization: { type: 'enum:ConsentStatus' } } },
    // user_identifiers: "User identification info. Required."
    UserData: {
      file: 'common/offline_user_data.proto',
      fields: {
        user_identifiers: { type: 'message:UserIdentifier', repeated: true, required: true },
        transaction_attribute: { type: 'opaque' },
        user_attribute: { type: 'opaque' },
        consent: { type: 'message:Consent' },
      },
    },
    // "Exactly one must be specified."
    UserIdentifier: {
      file: 'common/offline_user_data.proto',
      fields: {
        user_identifier_source: { type: 'enum:UserIdentifierSource' },
        hashed_email: { type: 'string', oneof: 'identifier' },
        hashed_phone_number: { type: 'string', oneof: 'identifier' },
        mobile_id: { type: 'string', oneof: 'identifier' },
        third_party_user_id: { type: 'string', oneof: 'identifier' },
        address_info: { type: 'message:OfflineUserAddressInfo', oneof: 'identifier' },
      },
      exactlyOne: ['identifier'],
    },
    OfflineUserAddressInfo: {
      file: 'common/offline_user_data.proto',
      fields: {
        hashed_first_name: { type: 'string' },
        hashed_last_name: { type: 'string' },
        city: { type: 'string' },
        state: { type: 'string' },
        country_code: { type: 'string' },
        postal_code: { type: 'string' },
        hashed_street_address: { type: 'string' },
      },
    },
  },
  enums: {
    UserListMembershipStatus: ['UNSPECIFIED', 'UNKNOWN', 'OPEN', 'CLOSED'],
    CustomerMatchUploadKeyType: ['UNSPECIFIED', 'UNKNOWN', 'CONTACT_INFO', 'CRM_ID', 'MOBILE_ADVERTISING_ID'],
    UserListCrmDataSourceType: ['UNSPECIFIED', 'UNKNOWN', 'FIRST_PARTY', 'THIRD_PARTY_CREDIT_BUREAU', 'THIRD_PARTY_VOTER_FILE', 'THIRD_PARTY_PARTNER_DATA'],
    OfflineUserDataJobType: [
      'UNSPECIFIED',
      'UNKNOWN',
      'STORE_SALES_UPLOAD_FIRST_PARTY',
      'STORE_SALES_UPLOAD_THIRD_PARTY',
      'CUSTOMER_MATCH_USER_LIST',
      'CUSTOMER_MATCH_WITH_ATTRIBUTES',
    ],
    ConsentStatus: ['UNSPECIFIED', 'UNKNOWN', 'GRANTED', 'DENIED'],
    UserIdentifierSource: ['UNSPECIFIED', 'UNKNOWN', 'FIRST_PARTY', 'THIRD_PARTY'],
  },
};

// https://developers.google.com/google-ads/api/rest/auth: the access token as a bearer token and
// the developer token on every call; login-customer-id (ten digits) when going through a manager.
const headers = headerSchema({ authorization: bearerToken, 'developer-token': '^\\S', 'login-customer-id': '^[0-9]{10}$', 'content-type': jsonType }, [
  'login-customer-id',
]);

const digits =
  (name: string) =>
  (req: ParsedRequest): string[] =>
    /^[0-9]{10}$/.test(req.params[name] ?? '') ? [] : [`the customer id in the path is \`${req.params[name]}\`, not ten digits`];

/** Identifiers of an AddOfflineUserDataJobOperationsRequest body: every UserIdentifier of every operation's UserData. */
export function identifiersOf(body: unknown): number[] {
  const ops = (body as { operations?: unknown } | undefined)?.operations;
  if (!Array.isArray(ops)) return [];
  return ops.map((op: Record<string, { userIdentifiers?: unknown[]; user_identifiers?: unknown[] } | undefined>) => {
    const data = op?.create ?? op?.remove;
    return (data?.userIdentifiers ?? data?.user_identifiers ?? []).length;
  });
}

const rpc = (id: string, at: string, url: string, message: string, extra: Partial<Operation> = {}): Operation => ({
  id,
  cite: { ...protos, at },
  method: 'POST',
  url: [url],
  headers,
  body: { encoding: 'json', proto: message },
  ...extra,
});

export const googleAds: VendorContract = {
  vendor: 'google_ads',
  operations: [
    {
      id: 'google.oauth.refresh',
      cite: { ...docs, at: 'rest/auth: new access tokens with grant_type=refresh_token, client_id, client_secret, refresh_token' },
      method: 'POST',
      url: ['https://oauth2.googleapis.com/token'],
      body: {
        encoding: 'form',
        schema: {
          type: 'object',
          required: ['grant_type', 'client_id', 'client_secret', 'refresh_token'],
          properties: {
            grant_type: { const: 'refresh_token' },
            client_id: { type: 'string', minLength: 1 },
            client_secret: { type: 'string', minLength: 1 },
            refresh_token: { type: 'string', minLength: 1 },
          },
          additionalProperties: false,
        },
      },
    },
    rpc(
      'google.ads.search',
      'GoogleAdsService.Search: post /v24/customers/{customer_id=*}/googleAds:search, body *',
      `${host}/v24/customers/{customer_id}/googleAds:search`,
      'SearchGoogleAdsRequest',
      { rules: [digits('customer_id')] },
    ),
    rpc(
      'google.user_lists.mutate',
      'UserListService.MutateUserLists: post /v24/customers/{customer_id=*}/userLists:mutate, body *',
      `${host}/v24/customers/{customer_id}/userLists:mutate`,
      'MutateUserListsRequest',
      { rules: [digits('customer_id')] },
    ),
    rpc(
      'google.jobs.create',
      'OfflineUserDataJobService.CreateOfflineUserDataJob: post /v24/customers/{customer_id=*}/offlineUserDataJobs:create, body *',
      `${host}/v24/customers/{customer_id}/offlineUserDataJobs:create`,
      'CreateOfflineUserDataJobRequest',
      { rules: [digits('customer_id')] },
    ),
    rpc(
      'google.jobs.add_operations',
      'OfflineUserDataJobService.AddOfflineUserDataJobOperations: post /v24/{resource_name=customers/*/offlineUserDataJobs/*}:addOperations, body *',
      `${host}/v24/{resource_name**}:addOperations`,
      'AddOfflineUserDataJobOperationsRequest',
      {
        limits: {
          identifiers: {
            max: 100_000,
            count: (body) => identifiersOf(body).reduce((a, b) => a + b, 0),
            cite: { ...docs, at: '"at most 100,000 identifiers across all of the UserData objects in the operations"' },
          },
        },
        rules: [
          (req) =>
            /^customers\/[0-9]{10}\/offlineUserDataJobs\/[0-9]+$/.test(req.params.resource_name ?? '')
              ? []
              : [`\`${req.params.resource_name}\` is not an offline user data job`],
          // "Maximum number of user identifiers allowed per request is 100,000 and per operation is 20."
          (req) => identifiersOf(req.body).flatMap((n, i) => (n > 20 ? [`operations[${i}] has ${n} user identifiers; at most 20 per operation`] : [])),
        ],
      },
    ),
    rpc(
      'google.jobs.run',
      'OfflineUserDataJobService.RunOfflineUserDataJob: post /v24/{resource_name=customers/*/offlineUserDataJobs/*}:run, body *',
      `${host}/v24/{resource_name**}:run`,
      'RunOfflineUserDataJobRequest',
    ),
  ],
};
