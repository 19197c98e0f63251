/**
 * Secrets out of everything a run prints or writes. A run registers the values of the
 * environment variables its plans name (and, of one that is a URL, its credentials, query
 * values and long path segments), the database passwords, and the credentials of the headers it
 * sends (a Basic or a captured bearer token is no variable's value); `redact` replaces each, in
 * every form a server may echo it (as is, JSON-escaped, URL-encoded, base64), wherever a
 * message, a report or a log line goes. Server text is cut only by `clip`, which marks the cut
 * so that `redact` also catches a secret cut in half.
 */

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

/** Credential schemes whose parameter is the secret part of a header value. */
const scheme = /^(?:Bearer|Basic|Token|Bot|Klaviyo-API-Key)\s+(\S+)$/i;

/** Headers whose values are credentials, whatever their template. */
const credentialHeader = /authori[sz]ation|cookie|token|secret|password|api[-_]?key|access[-_]?key/i;

export function isCredentialHeader(name: string): boolean {
  return credentialHeader.test(name);
}

export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;

  /** Registers a secret and the forms it takes in JSON, URLs, forms and Basic credentials; of a URL, its secret parts too. */
  add(value: string | undefined | null): void {
    if (value === undefined || value === null || value.length < minSecretLength || this.secrets.has(value)) return;
    const forms = [
      value,
      JSON.stringify(value).slice(1, -1),
      encodeURIComponent(value),
      new URLSearchParams({ v: value }).toString().slice(2),
      Buffer.from(value, 'utf8').toString('base64'),
    ];
    for (const f of forms) if (f.length >= minSecretLength) this.secrets.add(f);
    this.pattern = undefined;
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

  /** Before each `clip` mark: the start of a secret that the cut left (at least `minSecretLength` characters of it). */
  private redactCuts(text: string): string {
    if (!text.includes(cut)) return text;
    return text.replace(new RegExp(`(\\S{${minSecretLength},})${cut}`, 'g'), (whole, before: string) => {
      for (let i = 0; i <= before.length - minSecretLength; i++) {
        const tail = before.slice(i);
        for (const s of this.secrets) if (s.length > tail.length && s.startsWith(tail)) return `${before.slice(0, i)}${redacted}${cut}`;
      }
      return whole;
    });
  }
}

/** Of a value that is a URL: its user, password, query values and token-like path segments. */
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
  return [url.username, url.password, ...url.searchParams.values(), ...url.pathname.split('/').filter((s) => s.length >= tokenSegment)].flatMap((s) => [
    s,
    decode(s),
  ]);
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
