/**
 * The VS Code extension (editors/vscode): it packages (vsce, offline) into a .vsix holding the
 * bundled client, the grammar, the language configuration and the README, and nothing else;
 * the client finds the project's own syncwright; and the server starts as the client starts
 * it (`node bin/syncwright.js lsp --stdio --clientProcessId=N`).
 */
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findServer } from '../editors/vscode/src/server.js';
import { ensureBuilt } from './support/build.js';
import { LspClient } from './support/lsp-client.js';
import { readZip } from './support/zip.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'syncwright-vscode-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the VS Code extension', () => {
  it('packages into a .vsix with the bundled client, the grammar and the language configuration', () => {
    const vsix = join(scratch, 'syncwright.vsix');
    execFileSync(process.execPath, [join(repo, 'editors', 'vscode', 'build.mjs'), '--out', vsix], { stdio: 'pipe' });
    const entries = readZip(readFileSync(vsix));
    expect([...entries.keys()].sort()).toEqual([
      '[Content_Types].xml',
      'extension.vsixmanifest',
      'extension/dist/extension.js',
      'extension/language-configuration.json',
      'extension/package.json',
      'extension/readme.md',
      'extension/syntaxes/syncwright.tmLanguage.json',
    ]);
    expect(entries.get('extension/syntaxes/syncwright.tmLanguage.json')!.toString()).toBe(
      readFileSync(join(repo, 'grammar', 'syncwright.tmLanguage.json'), 'utf8'),
    );
    const manifest = entries.get('extension.vsixmanifest')!.toString();
    expect(manifest).toContain('<Identity Language="en-US" Id="syncwright" Version="0.1.0" Publisher="syncwright"');
    expect(manifest).toContain('<Property Id="Microsoft.VisualStudio.Code.Engine" Value="^1.91.0" />');
    const pkg = JSON.parse(entries.get('extension/package.json')!.toString()) as {
      main: string;
      activationEvents: string[];
      contributes: { languages: { id: string }[] };
    };
    expect(pkg.main).toBe('./dist/extension.js');
    expect(pkg.contributes.languages.map((l) => l.id)).toEqual(['sync']);
    // The client is bundled whole: it requires only Node's own modules and `vscode`, which VS Code gives it.
    const bundle = entries.get('extension/dist/extension.js')!.toString();
    const required = new Set([...bundle.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!.replace(/^node:/, '')));
    expect([...required].filter((r) => r !== 'vscode' && !builtinModules.includes(r))).toEqual([]);
    expect(required.has('vscode')).toBe(true);
    expect(bundle).toContain('syncwright.restartServer');
    writeFileSync(join(scratch, 'extension.js'), bundle);
    execFileSync(process.execPath, ['--check', join(scratch, 'extension.js')]);
  });

  it("finds the project's own syncwright, from a folder inside the project too, else the package a setting names", () => {
    const project = join(scratch, 'project');
    const installed = join(project, 'node_modules', 'syncwright');
    mkdirSync(join(installed, 'bin'), { recursive: true });
    writeFileSync(join(installed, 'package.json'), JSON.stringify({ name: 'syncwright' }));
    writeFileSync(join(installed, 'bin', 'syncwright.js'), '');
    mkdirSync(join(project, 'syncs'), { recursive: true });
    expect(findServer([project], undefined)?.script).toBe(join(installed, 'bin', 'syncwright.js'));
    expect(findServer([join(project, 'syncs')], undefined)?.script).toBe(join(installed, 'bin', 'syncwright.js'));
    // A checkout of syncwright serves itself; a setting wins over the project's copy.
    expect(findServer([join(repo, 'examples', 'b2b-saas')], undefined)?.script).toBe(join(repo, 'bin', 'syncwright.js'));
    expect(findServer([project], repo)?.script).toBe(join(repo, 'bin', 'syncwright.js'));
    expect(findServer([project], join(repo, 'bin', 'syncwright.js'))?.from).toBe('the syncwright.server.path setting');
    expect(findServer([project], join(scratch, 'nothing'))).toBeUndefined();
    const elsewhere = join(scratch, 'elsewhere');
    mkdirSync(elsewhere);
    expect(findServer([elsewhere], undefined)).toBeUndefined();
  });

  it('starts the server as the language client starts it', async () => {
    ensureBuilt();
    const folder = join(scratch, 'b2b');
    cpSync(join(repo, 'examples', 'b2b-saas'), folder, { recursive: true });
    const client = await LspClient.start(folder, { projects: [] }, [
      findServer([repo], undefined)!.script,
      'lsp',
      '--stdio',
      `--clientProcessId=${process.pid}`,
    ]);
    expect(client.capabilities.completionProvider).toBeDefined();
    await client.open('syncs/hubspot.sync');
    expect(await client.diagnosticsOf('syncs/hubspot.sync', () => true)).toEqual([]);
    expect(await client.stop()).toBe(0);
  });
});
