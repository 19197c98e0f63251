/** The CLI's view of the terminal: where text goes and whether it may be coloured. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  colour: boolean;
  cwd: string;
}

export function processIo(): Io {
  const tty = process.stderr.isTTY === true;
  return {
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    colour: tty && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb',
    cwd: process.cwd(),
  };
}
