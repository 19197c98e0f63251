/**
 * Slack chat.postMessage as documented: POST /api/chat.postMessage with a Bearer bot token,
 * JSON or form body {channel, text}. Always HTTP 200 with {ok: true, channel, ts, message} or
 * {ok: false, error} (not_authed, invalid_auth, channel_not_found, no_text, msg_too_long);
 * rate limiting is HTTP 429 with Retry-After in seconds and {ok: false, error: "ratelimited"}.
 * `internal_error` and `fatal_error` may come after some of the operation succeeded: here, after
 * the message was posted (`failAfterPosting`).
 */
import { FakeService, bearer, type Recorded, type Reply } from './fake-api.js';

export interface SlackMessage {
  channel: string;
  text: string;
  ts: string;
}

export interface SlackOptions {
  token?: string;
  /** Channels that exist; absent = every channel does. */
  channels?: string[];
  /** A Slack error code for a message, e.g. "invalid_blocks". */
  reject?: (message: { channel: string; text: string }) => string | undefined;
  /** An error Slack answers once the message is posted ("internal_error", "fatal_error"). */
  failAfterPosting?: (message: { channel: string; text: string }) => string | undefined;
}

export class FakeSlack extends FakeService {
  protected override readonly contract = 'slack';
  readonly messages: SlackMessage[] = [];
  private seq = 0;

  constructor(readonly options: SlackOptions = {}) {
    super();
  }

  protected handle(req: Recorded): Reply {
    if (req.path !== '/api/chat.postMessage' || req.method !== 'POST') return { status: 404, body: 'Not Found' };
    const body = (req.body ?? {}) as { channel?: string; text?: string; token?: string };
    const token = bearer(req) ?? body.token;
    const fail = (error: string): Reply => ({ status: 200, body: { ok: false, error } });
    if (!token) return fail('not_authed');
    if (this.options.token && token !== this.options.token) return fail('invalid_auth');
    if (!body.channel || (this.options.channels && !this.options.channels.includes(body.channel))) return fail('channel_not_found');
    if (!body.text) return fail('no_text');
    if (body.text.length > 40_000) return fail('msg_too_long');
    const why = this.options.reject?.({ channel: body.channel, text: body.text });
    if (why) return fail(why);
    const ts = `1700000000.${String(++this.seq).padStart(6, '0')}`;
    this.messages.push({ channel: body.channel, text: body.text, ts });
    const after = this.options.failAfterPosting?.({ channel: body.channel, text: body.text });
    if (after) return fail(after);
    return { status: 200, body: { ok: true, channel: body.channel, ts, message: { type: 'message', text: body.text, ts } } };
  }
}

export async function startSlack(options?: SlackOptions): Promise<FakeSlack> {
  return new FakeSlack(options).start();
}
