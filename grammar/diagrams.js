/**
 * Railroad diagrams of the parser as one self-contained HTML page. Chevrotain's
 * createSyntaxDiagramsCode loads its renderer and stylesheet from a CDN; the same files ship
 * in the chevrotain package, so they are inlined here and the page works offline.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createSyntaxDiagramsCode } from 'chevrotain';

// The package's exports hide package.json; its entry point is lib/src/api.js.
const chevrotainRoot = join(dirname(createRequire(import.meta.url).resolve('chevrotain')), '..', '..');
const diagramsDir = join(chevrotainRoot, 'diagrams');

// Placeholders for the URLs chevrotain would write, replaced by the files' contents.
const BASE = 'inline:/';
const CSS = 'inline:diagrams.css';

const scripts = ['vendor/railroad-diagrams.js', 'src/diagrams_builder.js', 'src/diagrams_behavior.js', 'src/main.js'];

function asset(relative) {
  const file = join(diagramsDir, relative);
  if (!existsSync(file)) throw new Error(`chevrotain's diagram renderer is missing: ${file}`);
  // The line-ending normalisation keeps the output byte-identical on every checkout.
  return readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
}

function replaceOnce(html, from, to) {
  if (!html.includes(from)) throw new Error(`chevrotain's diagram template changed: no ${from}`);
  return html.replace(from, () => to);
}

/** @param {unknown[]} productions what `parser.getSerializedGastProductions()` returns */
export function renderDiagrams(productions) {
  let html = createSyntaxDiagramsCode(productions, { resourceBase: BASE, css: CSS });
  html = replaceOnce(html, `<link rel='stylesheet' href='${CSS}'>`, `<style>\n${asset('diagrams.css')}</style>`);
  for (const script of scripts) {
    // A literal "</script" inside inlined code would end the element early.
    const code = asset(script).replace(/<\/script/gi, '<\\/script');
    html = replaceOnce(html, `<script src='${BASE}${script}'></script>`, `<script>\n${code}</script>`);
  }
  html = replaceOnce(
    html,
    '<meta charset="utf-8">',
    '<meta charset="utf-8">\n<title>syncwright: the .sync grammar</title>\n' +
      '<!-- Written by `npm run grammar` from src/syntax/parser.ts; edit the parser, not this file. -->',
  );
  return html.replace(/^\n+/, '');
}
