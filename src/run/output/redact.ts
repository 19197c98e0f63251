/**
 * Secrets out of everything a run prints or writes. A run registers the values of the
 * environment variables its plans name (and, of one that is a URL, its credentials, query
 * values and long path segments), the database passwords, and the credentials of the headers it
 * sends (a Basic or a captured bearer token is no variable's value); `redact` replaces each, in
 * every form a server may echo it (as is and as sent, trimmed, its white space run together, as the terminal shows it escaped;
 * JSON-escaped as JSON.stringify, with `\/`, as HTML-safe encoders write `<`, `>`, `&` and `'`,
 * and as .NET writes them; URL-encoded with either case of hex digits, with `/` kept, and twice; base64 and base64url, padded or
 * not, and inside a longer text's base64), wherever a message, a report or a log line goes.
 * Server text is cut only by `clip`, which marks the cut so that `redact` also catches a secret
 * cut in half.
 */
import { largest } from '../../numbers.js';
import { printableLine } from '../../printable.js';
import { ExactNumber } from '../exact-json.js';

/** Shorter values are not treated as secrets: redacting them would erase ordinary words and numbers. */
export const minSecretLength = 4;

export const redacted = '[redacted]';

/** Where `clip` cut a text. */
const cut = '\u2026';

/** At most `max` characters of server text, the cut marked (`redact` checks what precedes the mark). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}${cut}`;
}

/** A path segment this long in a URL-valued variable is taken for a token (Slack's and Zapier's webhook URLs carry theirs so). */
const tokenSegment = 16;

/**
 * Credential schemes whose parameter is the secret part of a header value: all that follows the
 * scheme, spaces and all (a token a sign-in answered may hold them, and a server may echo it alone).
 */
const scheme = /^(?:Bearer|Basic|Token|Bot|Klaviyo-API-Key)\s+(\S[\s\S]*)$/i;

/** Headers whose values are credentials, whatever their template. */
const credentialHeader = /authori[sz]ation|cookie|token|secret|password|api[-_]?key|access[-_]?key/i;

export function isCredentialHeader(name: string): boolean {
  return credentialHeader.test(name);
}

export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;

  /** The secret forms by their first `minSecretLength` characters, where a cut secret may start, and the longest form's length, how far before a `clip` mark it may; made when first needed. */
  private starts: { byHead: Map<string, string[]>; longest: number } | undefined;

  /** Registers a secret and the forms it takes in JSON, URLs, forms and Basic credentials; of a URL, its secret parts too. */
  add(value: string | undefined | null): void {
    // A value of fewer characters but for white space is no secret (`USD\n` would erase every `USD `).
    if (value === undefined || value === null || value.trim().length < minSecretLength || this.secrets.has(value)) return;
    // As sent (fetch trims a header's value) and as a snippet shows it (white space run together).
    const values = new Set([value, value.trim(), value.replace(/\s+/g, ' '), value.trim().replace(/\s+/g, ' ')]);
    for (const v of values) for (const f of forms(v)) if (f.length >= minSecretLength) this.secrets.add(f);
    this.pattern = undefined;
    this.starts = undefined;
    for (const part of urlSecrets(value)) this.add(part);
  }

  /** Registers a credential header's value: of `Bearer <token>` the token, so that messages still say which scheme was used. */
  addCredential(value: string): void {
    this.add(scheme.exec(value.trim())?.[1] ?? value);
  }

  redact(text: string): string {
    if (this.secrets.size === 0) return text;
    // Longest first, so that a secret inside a longer one (a token inside a URL) is not left half shown.
    this.pattern ??= new RegExp(
      [...this.secrets]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join('|'),
      'g',
    );
    return this.redactCuts(text.replace(this.pattern, redacted));
  }

  /**
   * Every string in a value redacted, and every number that is a secret, before it is
   * serialised: in JSON a string's quotes and backslashes are escaped again, and an echo of a
   * secret's escaped form would no longer match. The serialised text is not redacted again: a
   * variable holding `true`, `null` or a number would have cut that word out of the JSON.
   */
  redactValues<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    // A number that is a secret is written as the word: the JSON around it stays JSON, and a count that only holds a secret's digits stays a count.
    if (typeof value === 'number' || value instanceof ExactNumber) return (this.redact(String(value)) === redacted ? redacted : value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactValues(v)) as T;
    if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.redact(k), this.redactValues(v)])) as T;
  }

  /** Before each `clip` mark: the start of a secret that the cut left (at least `minSecretLength` characters of it, white space and all). */
  private redactCuts(text: string): string {
    if (!text.includes(cut)) return text;
    if (!this.starts) {
      const byHead = new Map<string, string[]>();
      for (const s of this.secrets) {
        const head = s.slice(0, minSecretLength);
        const same = byHead.get(head);
        if (same) same.push(s);
        else byHead.set(head, [s]);
      }
      this.starts = { byHead, longest: largest([...this.secrets].map((s) => s.length)) };
    }
    const { byHead, longest } = this.starts;
    let out = '';
    let from = 0;
    for (let at = text.indexOf(cut); at >= 0; at = text.indexOf(cut, at + 1)) {
      const start = Math.max(from, at - longest);
      let hit = -1;
      for (let i = start; i <= at - minSecretLength && hit < 0; i++) {
        const candidates = byHead.get(text.slice(i, i + minSecretLength));
        if (!candidates) continue;
        const tail = text.slice(i, at);
        if (candidates.some((s) => s.length > tail.length && s.startsWith(tail))) hit = i;
      }
      if (hit >= 0) {
        out += `${text.slice(from, hit)}${redacted}`;
        from = at;
      }
    }
    return out + text.slice(from);
  }
}

/** A base64 form this long or longer is also looked for inside a longer text's base64 (a cursor holding the secret). */
const base64Inside = 16;

/** The forms a value takes in the encodings a server may echo it in. */
function forms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const uri = encodeURIComponent(value);
  const bytes = Buffer.from(value, 'utf8');
  const base64 = bytes.toString('base64');
  // Inside a longer text's base64: the groups of 3 bytes that are the value's alone, at each of the three alignments.
  const inside = [0, 1, 2]
    .map((k) =>
      Buffer.concat([Buffer.alloc(k), bytes])
        .toString('base64')
        .slice(k === 0 ? 0 : 4, Math.floor((k + bytes.length) / 3) * 4),
    )
    .filter((b) => b.length >= base64Inside);
  return [
    value,
    // As the summary escapes a server's text before it is redacted (`printableLine`).
    printableLine(value),
    json,
    json.replaceAll('/', '\\/'),
    // HTML-safe JSON encoders: Go's (<, >, &), others' with ' too.
    ...[/[<>&]/g, /[<>&']/g].map((chars) => json.replace(chars, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)),
    // .NET's: \ as \\, HTML's characters, + and ` and every character outside printable ASCII as \uXXXX.
    value.replace(/[\\<>&'"+`]|[^\x20-\x7e]/g, (c) => (c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`)),
    uri,
    uri.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    // With `/` left unencoded.
    uri.replaceAll('%2F', '/'),
    uri.replaceAll('%2F', '/').replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    encodeURIComponent(uri),
    new URLSearchParams({ v: value }).toString().slice(2),
    base64,
    base64.replace(/=+$/, ''),
    bytes.toString('base64url'),
    ...inside,
    ...inside.map((b) => b.replaceAll('+', '-').replaceAll('/', '_')),
  ];
}

/** Of a value that is a URL: its user, password, query values (as written and as a form decoder reads them) and token-like path segments. */
function urlSecrets(value: string): string[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [];
  }
  if (!/^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) || !url.host) return [];
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  // Each query value also as written: `searchParams` reads a `+` as a space (the form rule), and a
  // server echoing the request's query shows the `+` as it was sent; decoded, it is a `+` again.
  const written = url.search
    .slice(1)
    .split('&')
    .filter((pair) => pair.includes('='))
    .map((pair) => pair.slice(pair.indexOf('=') + 1));
  return [url.username, url.password, ...url.searchParams.values(), ...written, ...url.pathname.split('/').filter((s) => s.length >= tokenSegment)].flatMap(
    (s) => [s, decode(s)],
  );
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** The names of the environment variables a plan reads: every `{"env": X}` setting and `{"$env": X}` template. */
export function envNames(plan: unknown): Set<string> {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      const [only] = entries;
      if (entries.length === 1 && only && (only[0] === 'env' || only[0] === '$env') && typeof only[1] === 'string') names.add(only[1]);
      else for (const [, x] of entries) walk(x);
    }
  };
  walk(plan);
  return names;
}
