/**
 * Secrets out of everything a run prints or writes. A run registers the values of the
 * environment variables its plans name, the database passwords, and the values of the
 * credential headers it sends (a Basic or a captured bearer token is no variable's value);
 * `redact` replaces each, in every form a server may echo it (as is, JSON-escaped,
 * URL-encoded, base64), wherever a message, a report or a log line goes.
 */

/** Shorter values are not treated as secrets: redacting them would erase ordinary words and numbers. */
export const minSecretLength = 4;

export const redacted = '[redacted]';

/** Headers whose values are credentials, whatever their template. */
const credentialHeader = /authori[sz]ation|cookie|token|secret|password|api[-_]?key|access[-_]?key/i;

export function isCredentialHeader(name: string): boolean {
  return credentialHeader.test(name);
}

export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;

  /** Registers a secret and the forms it takes in JSON, URLs, forms and Basic credentials. */
  add(value: string | undefined | null): void {
    if (value === undefined || value === null || value.length < minSecretLength || this.secrets.has(value)) return;
    const forms = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2), Buffer.from(value, 'utf8').toString('base64')];
    for (const f of forms) if (f.length >= minSecretLength) this.secrets.add(f);
    this.pattern = undefined;
  }

  redact(text: string): string {
    if (this.secrets.size === 0) return text;
    // Longest first, so that a secret inside a longer one (a token inside a URL) is not left half shown.
    this.pattern ??= new RegExp([...this.secrets].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');
    return text.replace(this.pattern, redacted);
  }
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
