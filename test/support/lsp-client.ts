/**
 * A language client for the tests: starts `syncwright lsp` (bin/syncwright.js, the built CLI)
 * and speaks the protocol to it through vscode-languageserver-protocol, as an editor would.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShowMessageNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type FileChangeType,
  type InitializeResult,
  type Position,
  type ProtocolConnection,
  type TextDocumentContentChangeEvent,
} from 'vscode-languageserver-protocol/node';

/** A diagnostic as this server publishes it: its message plain text. */
export type PlainDiagnostic = Omit<Diagnostic, 'message'> & { message: string };

const bin = fileURLToPath(new URL('../../bin/syncwright.js', import.meta.url));

/** Generous: a slow, shared machine must never fail a test, only a server that never answers. */
const deadlineMs = 240_000;

/** The protocol's position of an offset of a text (lines of `\n`, characters in UTF-16 units, as JavaScript counts them). */
export function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length - 1, character: offset - (before.lastIndexOf('\n') + 1) };
}

export class LspClient {
  readonly diagnostics = new Map<string, PlainDiagnostic[]>();
  /** How many times diagnostics were published, per URI. */
  readonly published = new Map<string, number>();
  readonly stderr: string[] = [];
  /** The messages the server asked the editor to show (`window/showMessage`), in order. */
  readonly shown: string[] = [];
  #versions = new Map<string, number>();
  #texts = new Map<string, string>();
  #waiters: (() => void)[] = [];

  private constructor(
    readonly folder: string,
    readonly process: ChildProcessWithoutNullStreams,
    readonly connection: ProtocolConnection,
    readonly capabilities: InitializeResult['capabilities'],
  ) {}

  /**
   * `command`: what runs the server (default: the built CLI's `lsp --stdio`). `workspace`:
   * whether `folder` is sent as the workspace; without, the server has no root, as an editor
   * that opens loose files.
   */
  static async start(folder: string, initializationOptions: object = {}, command: string[] = [bin, 'lsp', '--stdio'], workspace = true): Promise<LspClient> {
    const child = spawn(process.execPath, command, { cwd: folder, env: { ...process.env, NO_COLOR: '1' } });
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    let client: LspClient | undefined;
    const early: { uri: string; diagnostics: Diagnostic[] }[] = [];
    connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
      if (client) client.onPublish(p);
      else early.push(p);
    });
    const shown: string[] = [];
    connection.onNotification(ShowMessageNotification.type, (m) => {
      (client?.shown ?? shown).push(m.message);
    });
    connection.listen();
    const stderr: string[] = [];
    child.stderr.on('data', (b: Buffer) => stderr.push(b.toString()));
    const result = await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: workspace ? pathToFileURL(folder).href : null,
      workspaceFolders: workspace ? [{ uri: pathToFileURL(folder).href, name: 'project' }] : null,
      capabilities: {},
      initializationOptions,
    });
    client = new LspClient(folder, child, connection, result.capabilities);
    client.stderr.push(...stderr);
    client.shown.push(...shown);
    child.stderr.on('data', (b: Buffer) => client!.stderr.push(b.toString()));
    for (const p of early) client.onPublish(p);
    await connection.sendNotification(InitializedNotification.type, {});
    return client;
  }

  private onPublish(p: { uri: string; diagnostics: Diagnostic[] }): void {
    // The server's messages are plain text (the protocol allows markup since 3.18; the server sends none).
    const plain = p.diagnostics.map((d) => {
      if (typeof d.message !== 'string') throw new Error(`a diagnostic's message is not plain text: ${JSON.stringify(d.message)}`);
      return { ...d, message: d.message };
    });
    this.diagnostics.set(p.uri, plain);
    this.published.set(p.uri, (this.published.get(p.uri) ?? 0) + 1);
    for (const w of this.#waiters.splice(0)) w();
  }

  uri(path: string): string {
    return pathToFileURL(join(this.folder, path)).href;
  }

  /** The project path of a file's URI. */
  path(uri: string): string {
    return relative(this.folder, fileURLToPath(uri)).split(sep).join('/');
  }

  text(path: string): string {
    return this.#texts.get(path) ?? readFileSync(join(this.folder, path), 'utf8');
  }

  /** The position of the `nth` occurrence of `needle` in a file, plus `shift` characters. */
  position(path: string, needle: string, shift = 0, nth = 0): Position {
    const text = this.text(path);
    let at = -1;
    for (let i = 0; i <= nth; i++) {
      at = text.indexOf(needle, at + 1);
      if (at < 0) throw new Error(`${needle} not found ${nth + 1} times in ${path}`);
    }
    return positionAt(text, at + shift);
  }

  async open(path: string): Promise<void> {
    const text = this.text(path);
    this.#texts.set(path, text);
    this.#versions.set(path, 1);
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: this.uri(path), languageId: 'sync', version: 1, text },
    });
  }

  /** Replace the whole text of an open file. */
  async replace(path: string, text: string): Promise<void> {
    await this.edit(path, [{ text }]);
    this.#texts.set(path, text);
  }

  /** Incremental edits, as an editor sends them while typing; `next` is the text after them (what the client holds). */
  async edit(path: string, changes: TextDocumentContentChangeEvent[], next?: string): Promise<void> {
    const version = (this.#versions.get(path) ?? 1) + 1;
    this.#versions.set(path, version);
    if (next !== undefined) this.#texts.set(path, next);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: this.uri(path), version }, contentChanges: changes });
  }

  async watched(path: string, type: FileChangeType): Promise<void> {
    await this.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: this.uri(path), type }] });
  }

  /** Wait until the diagnostics published for a file satisfy `ok` (their latest publication). */
  async diagnosticsOf(path: string, ok: (ds: PlainDiagnostic[]) => boolean): Promise<PlainDiagnostic[]> {
    const uri = this.uri(path);
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const ds = this.diagnostics.get(uri) ?? [];
      if (ok(ds)) return ds;
      if (Date.now() > deadline) throw new Error(`diagnostics of ${path} never matched; last: ${JSON.stringify(ds)}\nserver stderr: ${this.stderr.join('')}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 1_000);
      });
    }
  }

  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => this.process.on('exit', (code) => resolve(code)));
    await this.connection.sendRequest(ShutdownRequest.type);
    await this.connection.sendNotification(ExitNotification.type);
    const code = await exited;
    this.connection.dispose();
    return code;
  }
}
