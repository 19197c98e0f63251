/**
 * The client's stream, checked frame by frame before the protocol library reads it. The
 * library stops reading at a header it cannot parse and waits for as many bytes as any
 * Content-Length says: either way the server would answer nothing more, alive, holding what
 * arrives. A stream with no frame boundary to resume from is refused instead, with a reason.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { printableLine } from '../printable.js';

/** Longer messages are refused: one of 2^29 bytes or more could not be decoded as one string (V8's limit), and waiting for it holds every byte. */
export const maxMessageBytes = 2 ** 28;
/** A header block longer than this is no header: the library keeps reading one until `\r\n\r\n`. */
const maxHeaderBytes = 8192;

const separator = Buffer.from('\r\n\r\n');

/**
 * The bytes as they came (the library reads them), as long as every frame is a header block
 * with one `Content-Length` of digits within `maxMessageBytes`, then that many bytes; at the
 * first that is not, `refuse` is told why and nothing more passes.
 */
export function checkedFrames(refuse: (why: string) => void): Transform {
  let header = Buffer.alloc(0);
  /** Bytes of the current body still to come; none (0, or -1 before the first) while a header is read. */
  let body = -1;
  let refused = false;
  const fail = (why: string) => {
    refused = true;
    refuse(why);
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: string, done: TransformCallback) {
      if (refused) return done();
      let at = 0;
      while (at < chunk.length) {
        if (body > 0) {
          const n = Math.min(body, chunk.length - at);
          body -= n;
          at += n;
          continue;
        }
        // A header: up to its blank line, which may come in a later chunk. Joined to the part
        // before only when there is one: a chunk of many small messages is read once.
        const rest = header.length > 0 ? Buffer.concat([header, chunk.subarray(at)]) : chunk.subarray(at);
        const end = rest.indexOf(separator);
        if (end < 0) {
          header = Buffer.from(rest);
          if (header.length > maxHeaderBytes) fail(`a header of more than ${maxHeaderBytes} bytes`);
          break;
        }
        const block = rest.subarray(0, end).toString('ascii');
        at += end + separator.length - header.length;
        header = Buffer.alloc(0);
        const lengths = block
          .split('\r\n')
          .filter((line) => /^content-length\s*:/i.test(line))
          .map((line) => line.slice(line.indexOf(':') + 1).trim());
        if (lengths.length !== 1 || !/^\d{1,15}$/.test(lengths[0]!)) {
          fail(`a header without one Content-Length of digits: \`${printableLine(block.slice(0, 200))}\``);
          break;
        }
        const length = Number(lengths[0]);
        if (length > maxMessageBytes) {
          fail(`a message of ${length} bytes, more than the ${maxMessageBytes} read`);
          break;
        }
        body = length;
      }
      if (refused) return done();
      done(null, chunk);
    },
  });
}
