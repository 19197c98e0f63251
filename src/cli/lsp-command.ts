/** `syncwright lsp`: the language server, speaking the Language Server Protocol on stdin and stdout. */
import { createConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { checkedFrames } from '../lsp/frames.js';
import { startServer } from '../lsp/server.js';

/**
 * Never settles: the protocol library ends the process when the client says `exit` (code 0
 * after `shutdown`, 1 without), when stdin closes, or when the client's process is gone; and
 * this, with code 1, when the client sends a frame the stream cannot be read past.
 */
export function runLsp(version: string): Promise<number> {
  const input = process.stdin.pipe(
    checkedFrames((why) => {
      process.stderr.write(`syncwright lsp: the client sent ${why}; no message after it can be read, so the server stops\n`);
      process.exit(1);
    }),
  );
  startServer(createConnection(new StreamMessageReader(input), new StreamMessageWriter(process.stdout)), { version });
  return new Promise(() => {});
}
