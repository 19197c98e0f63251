import { defineDestination } from '../define.js';
import { pattern, secret, settingsSchema } from '../settings.js';

export const slack = defineDestination({
  type: 'slack',
  title: 'Slack',
  category: 'other',
  objectKinds: [{ kind: 'channel', describes: 'a channel name or id, e.g. "#sales" or C0123456789; absent = default_channel', target: 'optional' }],
  settings: settingsSchema(
    {
      token: secret('a bot token (xoxb-...) with chat:write'),
      default_channel: pattern('^#?[A-Za-z0-9._-]{1,80}$', 'the channel messages go to when the sync names none'),
    },
    ['token'],
  ),
  // chat.postMessage: one message per row, about one per second per channel.
  limits: { maxBatch: 1, defaultBatch: 1, rateLimit: { requests: 1, perSeconds: 1 } },
  message: 'required',
  docs: 'https://api.slack.com/methods/chat.postMessage',
});
