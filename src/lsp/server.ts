/**
 * The language server (`syncwright lsp`): diagnostics as the files are edited, for every
 * `.sync` file of the workspace's projects (workspace.ts), and completion, hovers,
 * navigation, rename, the outline, folding, formatting and quick fixes.
 *
 * An edit is checked as soon as the server has read every change already sent: edits that
 * arrive together are checked once, each project after an edit only as far as the edit
 * reaches (project.ts). A request (completion, hover...) sees every change sent before it.
 */
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  ResponseError,
  ErrorCodes,
  FileChangeType,
  MessageType,
  ShowMessageNotification,
  TextDocumentSyncKind,
  TextDocuments,
  type Connection,
  type InitializeParams,
  type InitializeResult,
  type TextDocumentPositionParams,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { codeActions, fixAllKind, formatEdit, formatKind } from './actions.js';
import { completionsAt } from './completion.js';
import { filesOf, LineMap, toLspDiagnostic, type Files } from './convert.js';
import { hoverAt } from './hover.js';
import { Lookup } from './lookup.js';
import { definitionAt, documentSymbols, foldingRanges, referencesAt, renameEdits, RenameRefused, renameTarget } from './navigation.js';
import { folderOf, projectFolders, readText, Workspace, type Place, type ProjectRoot } from './workspace.js';

export interface ServerOptions {
  /** Reported to the client. */
  version: string;
}

/** What the client may pass in `initializationOptions`. */
export interface InitializationOptions {
  /** Project folders inside each workspace folder (`examples/*`); default: each workspace folder is one project. */
  projects?: string[];
}

const fileOf = (uri: string): string | undefined => {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
};

export function startServer(connection: Connection, options: ServerOptions): void {
  const documents = new TextDocuments(TextDocument);
  /** The URI the client uses for each open file, to send its diagnostics under that URI. */
  const openUris = new Map<string, string>();
  let folders: string[] = [];
  let patterns: string[] = [];
  let workspace: Workspace | undefined;
  const pending = new Map<ProjectRoot, Map<string, string | undefined>>();
  /** Files whose diagnostics go under another URI now (opened or closed), sent again whether or not they changed. */
  const moved = new Map<ProjectRoot, Set<string>>();
  let scheduled = false;
  const lookups = new Map<ProjectRoot, Lookup>();

  /** A project's files as the client names them (the URI of an open file is the editor's) and counts their lines. */
  const filesIn = (root: ProjectRoot): Files =>
    filesOf(
      (path) => openUris.get(workspace!.fileOf(root, path)) ?? workspace!.uriOf(root, path),
      (path) => root.project.text(path),
    );

  /** The text of a file: the editor's while it is open. */
  const textOf = (file: string) => {
    const uri = openUris.get(file);
    return uri !== undefined ? documents.get(uri)?.getText() : readText(file);
  };

  const publish = (root: ProjectRoot, paths: Iterable<string>) => {
    const files = filesIn(root);
    for (const path of paths) {
      connection.sendDiagnostics({ uri: files.uri(path), diagnostics: root.project.diagnostics(path).map((d) => toLspDiagnostic(d, files)) });
    }
  };

  /** Check every pending change now. */
  const flush = () => {
    scheduled = false;
    for (const [root, changes] of pending) {
      pending.delete(root);
      lookups.delete(root);
      const again = moved.get(root);
      moved.delete(root);
      // One project that fails to check must not keep the others from being checked, now or later.
      try {
        const report = root.project.update([...changes].map(([path, text]) => ({ path, text })));
        // An edited file's diagnostics are sent even when they did not change: the editor knows its edit was checked.
        publish(root, new Set([...report.changed, ...report.edited, ...(again ?? [])]));
      } catch (e) {
        connection.console.error(`checking ${root.dir} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
    }
  };

  /** Says why a project is not its folder's every `.sync` file; a notification, as the request (`window.showWarningMessage`) waits for an answer an editor may never give. */
  const warn = (root: ProjectRoot) => {
    if (root.note !== undefined) void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: root.note });
  };

  /**
   * The project and path of a file. Without workspace folders, a file outside every project
   * brings its own folder's project: files opened from several folders each get theirs.
   */
  const place = (file: string): Place | undefined => {
    if (!workspace) return undefined;
    const found = workspace.locate(file);
    if (found || folders.length > 0) return found;
    const root = workspace.add(folderOf(file));
    warn(root);
    publish(root, root.project.paths);
    return workspace.locate(file);
  };

  const change = (file: string, text: string | undefined, republish = false) => {
    const at = place(file);
    if (!at || !file.endsWith('.sync')) return;
    let changes = pending.get(at.root);
    if (!changes) pending.set(at.root, (changes = new Map()));
    changes.set(at.path, text);
    if (republish) {
      const set = moved.get(at.root) ?? new Set();
      moved.set(at.root, set.add(at.path));
    }
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  /** What a request about a file needs: everything sent before it checked, and the file's place. */
  const located = (uri: string): Place | undefined => {
    flush();
    const file = fileOf(uri);
    return file ? workspace?.locate(file) : undefined;
  };

  /** What a request about a position needs: the file's place, its text and offset. */
  const at = (params: TextDocumentPositionParams) => {
    const found = located(params.textDocument.uri);
    const text = found ? found.root.project.text(found.path) : undefined;
    if (!found || text === undefined) return undefined;
    const offset = new LineMap(text).offset(params.position);
    let lookup = lookups.get(found.root);
    if (!lookup) lookups.set(found.root, (lookup = new Lookup(found.root.project)));
    return { ...found, text, offset, lookup, files: filesIn(found.root) };
  };

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const init = (params.initializationOptions ?? {}) as InitializationOptions;
    patterns = Array.isArray(init.projects) ? init.projects.filter((p): p is string => typeof p === 'string') : [];
    const roots = params.workspaceFolders?.map((f) => fileOf(f.uri)) ?? [params.rootUri ? fileOf(params.rootUri) : undefined];
    folders = roots.filter((f): f is string => f !== undefined).flatMap((f) => projectFolders(f, patterns));
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        completionProvider: { triggerCharacters: [' '] },
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        foldingRangeProvider: true,
        documentFormattingProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, fixAllKind, formatKind] },
      },
      serverInfo: { name: 'syncwright', version: options.version },
    };
  });

  connection.onInitialized(() => {
    workspace = new Workspace(folders, textOf);
    for (const root of workspace.roots) warn(root);
    for (const root of workspace.roots)
      publish(
        root,
        root.project.paths.filter((p) => root.project.diagnostics(p).length > 0),
      );
  });

  // The editor's URI of a file may be written otherwise than the server's: diagnostics move to the one in use.
  const elsewhere = (file: string, uri: string) => {
    const at = workspace?.locate(file);
    if (at && workspace!.uriOf(at.root, at.path) !== uri) return workspace!.uriOf(at.root, at.path);
    return undefined;
  };
  documents.onDidOpen((e) => {
    const file = fileOf(e.document.uri);
    if (!file) return;
    openUris.set(file, e.document.uri);
    const old = elsewhere(file, e.document.uri);
    if (old) connection.sendDiagnostics({ uri: old, diagnostics: [] });
    // Sent on opening, changed or not: the editor learns the file was checked.
    change(file, e.document.getText(), true);
  });
  documents.onDidChangeContent((e) => {
    const file = fileOf(e.document.uri);
    if (file) change(file, e.document.getText());
  });
  documents.onDidClose((e) => {
    const file = fileOf(e.document.uri);
    if (!file) return;
    openUris.delete(file);
    const old = elsewhere(file, e.document.uri);
    if (old) connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    // Back to what the disk holds: the editor may close a file without saving it.
    change(file, readText(file), old !== undefined);
  });

  connection.onDidChangeWatchedFiles((params) => {
    for (const c of params.changes) {
      const file = fileOf(c.uri);
      // A dbt artifact a project read (or looked for): the projects that read it are checked again whole, with the edits sent before.
      if (file && workspace && !file.endsWith('.sync')) {
        flush();
        for (const root of workspace.rereadDbt(file)) {
          lookups.delete(root);
          publish(root, root.project.paths);
        }
        continue;
      }
      // An open file's text is the editor's until it is closed.
      if (!file || openUris.has(file)) continue;
      change(file, c.type === FileChangeType.Deleted ? undefined : readText(file));
    }
  });

  connection.onCompletion((params) => {
    const a = at(params);
    return a ? completionsAt(a.lookup, a.path, a.text, a.offset) : [];
  });
  connection.onHover((params) => {
    const a = at(params);
    return (a && hoverAt(a.lookup, a.path, a.offset, a.files)) ?? null;
  });
  connection.onDefinition((params) => {
    const a = at(params);
    return (a && definitionAt(a.lookup, a.path, a.offset, a.files)) ?? null;
  });
  connection.onReferences((params) => {
    const a = at(params);
    return a ? referencesAt(a.lookup, a.path, a.offset, params.context.includeDeclaration, a.files) : [];
  });
  connection.onPrepareRename((params) => {
    const a = at(params);
    return (a && renameTarget(a.lookup, a.path, a.offset, a.files)) ?? null;
  });
  connection.onRenameRequest((params) => {
    const a = at(params);
    if (!a) return null;
    try {
      const edits = renameEdits(a.lookup, a.path, a.offset, params.newName, a.files);
      return { changes: Object.fromEntries([...edits].map(([path, list]) => [a.files.uri(path), list])) };
    } catch (e) {
      if (e instanceof RenameRefused) return new ResponseError(ErrorCodes.InvalidRequest, e.message);
      throw e;
    }
  });
  connection.onDocumentSymbol((params) => {
    const found = located(params.textDocument.uri);
    const tree = found && found.root.project.parsed(found.path)?.ast;
    return tree ? documentSymbols(tree, filesIn(found.root).lines(found.path)) : [];
  });
  connection.onFoldingRanges((params) => {
    const found = located(params.textDocument.uri);
    const tree = found && found.root.project.parsed(found.path)?.ast;
    return tree ? foldingRanges(tree, found.root.project.text(found.path) ?? '') : [];
  });
  connection.onDocumentFormatting((params) => {
    const found = located(params.textDocument.uri);
    const text = found && found.root.project.text(found.path);
    const edit = found && text !== undefined ? formatEdit(found.path, text) : undefined;
    return edit ? [edit] : [];
  });
  connection.onCodeAction((params) => {
    const found = located(params.textDocument.uri);
    if (!found || found.root.project.text(found.path) === undefined) return [];
    return codeActions(found.root.project, params.range, params.context.only, found.path, filesIn(found.root));
  });

  documents.listen(connection);
  connection.listen();
}
