/** `syncwright lsp`: the language server, speaking the Language Server Protocol on stdin and stdout. */
import { createConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { startServer } from '../lsp/server.js';

/**
 * Never settles: the protocol library ends the process when the client says `exit` (code 0
 * after `shutdown`, 1 without), when stdin closes, or when the client's process is gone.
 */
export function runLsp(version: string): Promise<number> {
  startServer(createConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout)), { version });
  return new Promise(() => {});
}
