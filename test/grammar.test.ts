import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import tm from 'vscode-textmate';
import onig from 'vscode-oniguruma';
import { renderDiagrams } from '../grammar/diagrams.js';
import { parseFile } from '../src/syntax/parse.js';
import { parser } from '../src/syntax/parser.js';
import { keywords } from '../src/syntax/tokens.js';

const grammarPath = new URL('../grammar/syncwright.tmLanguage.json', import.meta.url);
const diagramsPath = new URL('../grammar/diagrams.html', import.meta.url);
const grammarText = readFileSync(grammarPath, 'utf8');

interface Rule {
  name?: string;
  match?: string;
  begin?: string;
  patterns?: Rule[];
  repository?: Record<string, Rule>;
}

function rules(rule: Rule): Rule[] {
  return [rule, ...(rule.patterns ?? []).flatMap(rules), ...Object.values(rule.repository ?? {}).flatMap(rules)];
}

/** Words a regex lists as alternatives of a group: `(from|to)` gives from and to. */
function alternatives(regex: string): string[] {
  return [...regex.matchAll(/\(([a-z]+(?:\|[a-z]+)*)\)/g)].flatMap((m) => m[1]!.split('|'));
}

describe('TextMate grammar', () => {
  const raw = JSON.parse(grammarText) as Rule & { scopeName: string; fileTypes: string[] };
  const all = rules(raw);

  it('is a TextMate grammar for .sync files', () => {
    expect(raw.scopeName).toBe('source.sync');
    expect(raw.fileTypes).toEqual(['sync']);
    expect(keywords).toEqual(expect.arrayContaining(['source', 'mode', 'timestamp', 'format']));
  });

  it('names every lexer keyword', () => {
    const named = new Set(all.flatMap((r) => [r.match, r.begin]).flatMap((re) => (re ? alternatives(re) : [])));
    expect(keywords.filter((k) => !named.has(k))).toEqual([]);
  });

  it('colours as keywords only words the lexer knows as keywords', () => {
    const claimed = all.filter((r) => r.name?.startsWith('keyword.') && r.match).flatMap((r) => alternatives(r.match!));
    expect(claimed.length).toBeGreaterThan(30);
    expect(claimed.filter((w) => !keywords.includes(w))).toEqual([]);
  });

  it('is named the same way by the VS Code extension', () => {
    const ext = JSON.parse(readFileSync(new URL('../editors/vscode/package.json', import.meta.url), 'utf8')) as {
      contributes: { languages: { id: string; extensions: string[] }[]; grammars: { language: string; scopeName: string; path: string }[] };
    };
    const [language] = ext.contributes.languages;
    const [grammar] = ext.contributes.grammars;
    expect(language?.extensions).toEqual(['.sync']);
    // editors/vscode/build.mjs copies the grammar there.
    expect(grammar).toEqual({ language: language?.id, scopeName: raw.scopeName, path: './syntaxes/syncwright.tmLanguage.json' });
  });
});

describe('TextMate grammar, run by the TextMate engine', () => {
  let grammar: tm.IGrammar;

  beforeAll(async () => {
    const require = createRequire(import.meta.url);
    await onig.loadWASM(readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')));
    const registry = new tm.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new onig.OnigScanner(patterns),
        createOnigString: (s: string) => new onig.OnigString(s),
      }),
      loadGrammar: async (scope: string) => (scope === 'source.sync' ? tm.parseRawGrammar(grammarText, grammarPath.pathname) : null),
    });
    const loaded = await registry.loadGrammar('source.sync');
    if (!loaded) throw new Error('grammar did not load');
    grammar = loaded;
  });

  /** Each non-blank token of the text with its line number and scopes. */
  function tokenize(text: string): { line: number; text: string; scopes: string[] }[] {
    let stack = tm.INITIAL;
    return text.split('\n').flatMap((line, i) => {
      const r = grammar.tokenizeLine(line, stack);
      stack = r.ruleStack;
      return r.tokens.map((t) => ({ line: i + 1, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes })).filter((t) => t.text.trim() !== '');
    });
  }

  const sample = [
    '# the warehouse',
    'source warehouse : postgres { schema "analytics" password env("PG_PASSWORD") }',
    'model users {',
    '  sql """',
    '    select id, "mode" -- # not a comment',
    '    from t',
    '  """',
    '  columns { id bigint  `Email` string?  mode decimal(12, 2) }',
    '}',
    "audience a { from users where signed_up >= date '2024-01-01' and plan != 'fr\\'ee' }",
    'sync s { to crm object contacts mode upsert identifier email -> email hashed batch 100 }',
  ].join('\n');

  function scopesOf(text: string, line: number): string[] {
    const t = tokenize(sample).find((x) => x.text === text && x.line === line);
    if (!t) throw new Error(`no token ${text} on line ${line}`);
    return t.scopes;
  }

  it('is tested on a sample the parser accepts', () => {
    expect(parseFile('sample.sync', sample).diagnostics).toEqual([]);
  });

  it('scopes comments, strings and escapes', () => {
    expect(scopesOf(' the warehouse', 1)).toContain('comment.line.number-sign.sync');
    expect(scopesOf('analytics', 2)).toContain('string.quoted.double.sync');
    expect(scopesOf("\\'", 10)).toEqual(expect.arrayContaining(['string.quoted.single.sync', 'constant.character.escape.sync']));
  });

  it('keeps a triple-quoted string open across lines, comment markers included', () => {
    expect(scopesOf('"""', 4)).toContain('punctuation.definition.string.begin.sync');
    expect(scopesOf('    select id, "mode" -- # not a comment', 5)).toContain('string.quoted.triple.sync');
    expect(scopesOf('    from t', 6)).toContain('string.quoted.triple.sync');
    expect(scopesOf('"""', 7)).toContain('punctuation.definition.string.end.sync');
    expect(scopesOf('columns', 8)).not.toContain('string.quoted.triple.sync');
  });

  it('scopes definitions, keywords, types and modes', () => {
    expect(scopesOf('source', 2)).toContain('keyword.declaration.sync');
    expect(scopesOf('warehouse', 2)).toContain('entity.name.type.sync');
    expect(scopesOf('postgres', 2)).toContain('support.class.sync');
    expect(scopesOf('bigint', 8)).toContain('storage.type.sync');
    expect(scopesOf('decimal', 8)).toContain('storage.type.sync');
    expect(scopesOf('`Email`', 8)).toContain('variable.other.quoted.sync');
    // A column called `mode` is a column, not the keyword.
    expect(scopesOf('mode', 8)).toContain('variable.other.column.sync');
    expect(scopesOf('where', 10)).toContain('keyword.other.sync');
    expect(scopesOf('date', 10)).toContain('storage.type.sync');
    expect(scopesOf('mode', 11)).toContain('keyword.other.sync');
    expect(scopesOf('upsert', 11)).toContain('constant.language.mode.sync');
    expect(scopesOf('object', 11)).toContain('support.type.object-kind.sync');
    expect(scopesOf('->', 11)).toContain('keyword.operator.arrow.sync');
    expect(scopesOf('env', 2)).toContain('support.function.env.sync');
    expect(scopesOf('100', 11)).toContain('constant.numeric.sync');
  });
});

describe('grammar/README.md', () => {
  it('lists exactly the lexer keywords', () => {
    const readme = readFileSync(new URL('../grammar/README.md', import.meta.url), 'utf8');
    const paragraph = /The keywords are:([\s\S]*?)\n\n/.exec(readme)?.[1] ?? '';
    const listed = [...paragraph.matchAll(/`([a-z]+)`/g)].map((m) => m[1]);
    expect([...listed].sort()).toEqual([...keywords].sort());
  });
});

describe('railroad diagrams', () => {
  const html = readFileSync(diagramsPath, 'utf8');

  it('are up to date with the parser (regenerate with `npm run build && npm run grammar`)', () => {
    expect(renderDiagrams(parser.getSerializedGastProductions()) === html).toBe(true);
  });

  it('load nothing from the network', () => {
    expect(html).not.toMatch(/<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=/i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?(?:https?:)?\/\//i);
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*['"]?(?:https?:)?\/\//i);
  });

  it('draw one diagram per rule when their inlined scripts run', () => {
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    const div = { innerHTML: '' };
    const page: Record<string, unknown> = { document: { getElementById: () => div, getElementsByClassName: () => [] } };
    page.window = page;
    vm.createContext(page);
    for (const code of scripts) vm.runInContext(code, page);
    const drawn = [...div.innerHTML.matchAll(/<h2 class="diagramHeader">(\w+)<\/h2><svg/g)].map((m) => m[1]);
    expect(drawn).toEqual(parser.getSerializedGastProductions().map((r) => ('name' in r ? r.name : undefined)));
  });
});
