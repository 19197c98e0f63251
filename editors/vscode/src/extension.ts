/**
 * The VS Code extension: the `.sync` language (grammar, brackets, comments) and a language
 * client that runs `syncwright lsp` from the project's own syncwright (server.ts) over stdio.
 */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { findServer } from './server';

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('syncwright', { log: true });
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('syncwright.restartServer', restart),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('syncwright.server') || e.affectsConfiguration('syncwright.projects')) void restart();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void restart()),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

async function restart(): Promise<void> {
  await deactivate();
  await start();
}

async function start(): Promise<void> {
  const config = vscode.workspace.getConfiguration('syncwright');
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const server = findServer(folders, config.get<string>('server.path') || undefined);
  if (!server) {
    const message = 'syncwright: no language server found. Install syncwright in the project (npm install --save-dev syncwright), or set syncwright.server.path.';
    output?.warn(message);
    void vscode.window.showWarningMessage(message);
    return;
  }
  output?.info(`the language server of ${server.from}`);
  const node = config.get<string>('server.node') || undefined;
  const run = { module: server.script, args: ['lsp'], transport: TransportKind.stdio, ...(node ? { runtime: node } : {}) };
  const serverOptions: ServerOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'sync' }],
    // The server checks whole projects: it hears of .sync files changed on disk too, open or not,
    // and of the dbt artifacts a project reads (written again by `dbt compile`).
    synchronize: {
      fileEvents: [
        vscode.workspace.createFileSystemWatcher('**/*.sync'),
        vscode.workspace.createFileSystemWatcher('**/target/{manifest,catalog}.json'),
      ],
    },
    initializationOptions: { projects: config.get<string[]>('projects') ?? [] },
    outputChannel: output,
  };
  client = new LanguageClient('syncwright', 'syncwright', serverOptions, clientOptions);
  await client.start();
}
