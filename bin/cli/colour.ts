// Colour on a terminal only: never when the stream is not a TTY, when NO_COLOR is set to anything non-empty
// (no-color.org), or when TERM is `dumb`. FORCE_COLOR is not honoured: arbiter's output is parsed by scripts.
import type { WriteStream } from 'node:tty';

export function colourEnabled(stream: NodeJS.WriteStream | WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const CODES = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2 } as const;
export type Colour = keyof typeof CODES;

/** A painter for one stream: `paint('red', text)` is `text` unchanged when colour is off. */
export function painter(stream: NodeJS.WriteStream | WriteStream, env: NodeJS.ProcessEnv = process.env): (colour: Colour, text: string) => string {
  const on = colourEnabled(stream, env);
  return (colour, text) => (on ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text);
}
