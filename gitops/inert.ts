// Untrusted text (diagnosis evidence, hypothesis subjects, reasons and notes that may quote them) rendered inert:
// in pull-request Markdown it sits in code spans and fenced blocks, where GitHub renders no mention, reference, link,
// image, HTML or heading; in commit messages it is indented, so git never reads a line of it as a trailer, a patch
// divider or a scissors line. Invisible and control characters are shown as `\u{…}` in both.

/** C0/C1 controls (tab and newline are handled by the callers), bidi overrides and zero-width characters. */
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/** `text` with hidden characters spelled out, so a reviewer sees what is there. */
export function visible(text: string): string {
  return text.replace(HIDDEN, (c) => `\\u{${c.codePointAt(0)!.toString(16).padStart(4, '0')}}`);
}

/** One line: every run of whitespace (newlines included) becomes one space. */
export function oneLineVisible(text: string): string {
  return visible(text.replace(/[\s]+/g, ' ').trim());
}

function longestRun(text: string, char: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/**
 * An inline code span showing `text` literally on one line. In a table cell (`table`) a `|` would end the cell even
 * inside the span, and GFM's `\|` escape can be undone by a backslash before it, so it becomes the fullwidth `｜`.
 */
export function codeSpan(text: string, options: { table?: boolean } = {}): string {
  let body = oneLineVisible(text);
  if (body === '') return '';
  if (options.table) body = body.replace(/\|/g, '\uff5c');
  const fence = '`'.repeat(longestRun(body, '`') + 1);
  // a space on each side keeps a leading or trailing backtick off the fence; GFM strips exactly one on each side
  const pad = body.startsWith('`') || body.endsWith('`') || fence.length > 1 ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}

/** A fenced block showing `lines` literally: the fence is longer than any backtick run inside, so nothing closes it. */
export function codeBlock(lines: string[]): string {
  const body = lines.map((l) => visible(l.replace(/\t/g, '    ').replace(/\r/g, ''))).join('\n');
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  return `${fence}text\n${body}\n${fence}`;
}

/**
 * Lines of untrusted text for a commit message body: one line per entry, wrapped at `width`, every line indented by
 * four spaces. git reads an indented line as neither a trailer, a `---` patch divider, a comment nor a scissors line.
 */
export function quotedForCommit(entries: string[], width = 72): string {
  const indent = '    ';
  const out: string[] = [];
  for (const entry of entries) {
    const words = oneLineVisible(entry).split(' ');
    let current = '';
    for (const word of words) {
      if (current && indent.length + current.length + 1 + word.length > width) {
        out.push(indent + current);
        current = `  ${word}`;
      } else current = current ? `${current} ${word}` : word;
    }
    if (current) out.push(indent + current);
  }
  return out.join('\n');
}
