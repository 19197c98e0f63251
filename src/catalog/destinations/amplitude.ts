import { defineDestination } from '../define.js';
import { oneOfValues, secret, settingsSchema } from '../settings.js';

export const amplitude = defineDestination({
  type: 'amplitude',
  title: 'Amplitude',
  category: 'analytics',
  objectKinds: [
    { kind: 'event', describes: 'an event type name; each row is sent as one event' },
    { kind: 'object', describes: 'user (user properties set through Identify)' },
  ],
  settings: settingsSchema(
    {
      api_key: secret('the project API key'),
      // EU projects live on a separate host.
      region: oneOfValues(['us', 'eu'], 'us'),
    },
    ['api_key'],
  ),
  // HTTP V2 takes 2,000 events and 1 MB per request.
  limits: { maxBatch: 2_000, defaultBatch: 1_000, maxPayloadBytes: 1_000_000 },
  docs: 'https://amplitude.com/docs/apis/analytics/http-v2',
});
