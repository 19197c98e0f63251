/** Fills the holes of a dialect snippet (`{{v}}`, `{{query}}`, ...) with SQL already quoted. */
import Handlebars from 'handlebars';

const compiled = new Map<string, HandlebarsTemplateDelegate>();

export function fillSnippet(snippet: string, holes: Record<string, string>): string {
  let t = compiled.get(snippet);
  if (!t) {
    t = Handlebars.compile(snippet, { noEscape: true, strict: true });
    compiled.set(snippet, t);
  }
  return t(holes);
}
