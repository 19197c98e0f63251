/**
 * Fills the holes of a dialect snippet (`{{v}}`, `{{query}}`, ...) with SQL already quoted.
 * Snippets have holes and nothing else, so they are split once and joined per use.
 */
const parsed = new Map<string, string[]>();

export function fillSnippet(snippet: string, holes: Record<string, string>): string {
  let parts = parsed.get(snippet);
  if (!parts) {
    // Odd indexes are hole names.
    parts = snippet.split(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/);
    parsed.set(snippet, parts);
  }
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 0) {
      out += parts[i];
      continue;
    }
    const v = holes[parts[i]!];
    if (v === undefined) throw new Error(`snippet hole {{${parts[i]}}} is not filled: ${snippet}`);
    out += v;
  }
  return out;
}
