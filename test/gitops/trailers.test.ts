// Trailers are read exactly as `git interpret-trailers --parse` reads them: audit decides from them which commits
// must be signed, so a message git reads as carrying `Arbiter-` trailers must read so here too.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTrailerList, trailerRecord } from '../../gitops/trailers.ts';

/** What the stock git prints for `--parse`, as token/value pairs. */
function gitTrailers(message: string): Array<{ token: string; value: string }> {
  const r = spawnSync('git', ['-c', 'core.commentChar=#', 'interpret-trailers', '--parse'], { input: message, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
  if (r.status !== 0) throw new Error(`git interpret-trailers failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const i = l.indexOf(':');
      return { token: l.slice(0, i), value: l.slice(i + 1).replace(/^ /, '') };
    });
}

const expectSameAsGit = (message: string): void => {
  expect(parseTrailerList(message), JSON.stringify(message)).toEqual(gitTrailers(message));
};

describe('trailers as git reads them', () => {
  const cases: Record<string, string> = {
    'plain block': 'subject\n\nbody\n\nArbiter-Action: restart\nArbiter-Mode: auto\n',
    'lower-case key': 'subject\n\narbiter-action: restart\n',
    'space before the colon': 'subject\n\nArbiter-Action : restart\n',
    'tab before the colon': 'subject\n\nArbiter-Mode\t: auto\n',
    'Signed-off-by with free text (25% rule)': 'subject\n\nSigned-off-by: a <a@b>\nArbiter-Action: restart\nfree text\nmore text\n',
    'cherry-pick line counts as git-generated': 'subject\n\n(cherry picked from commit 0123)\nArbiter-Mode: auto\nfree text\n',
    'too much free text after Signed-off-by': 'subject\n\nSigned-off-by: a\nx\ny\nz\nw\n',
    'continuation lines unfold': 'subject\n\nArbiter-Target: shop/\n  checkout\n',
    'trailing comment and blank lines ignored': 'subject\n\nArbiter-Mode: auto\n\n# a comment\n\n',
    'patch after ---': 'subject\n\nArbiter-Mode: auto\n--- \ndiff\n',
    '---x is not a patch': 'subject\n\nArbiter-Mode: auto\n---x\n',
    'scissors line cuts the rest': 'subject\n\nArbiter-Mode: auto\n# ------------------------ >8 ------------------------\nArbiter-Action: x\n',
    'title alone has no trailers': 'Arbiter-Mode: auto\n',
    'comment inside the block': 'subject\n\nArbiter-Mode: auto\n# note\nArbiter-Action: restart\n',
    'CRLF line ends': 'subject\r\n\r\nArbiter-Mode: auto\r\nArbiter-Action: x\r\n',
    'Conflicts block': 'subject\n\nArbiter-Mode: auto\nConflicts:\n\tfile\n',
    'NUL ends the message': 'subject\n\nArbiter-Mode: auto\n\0\n\nx: y\n',
    'non-ASCII key is not a trailer': 'subject\n\nArbitér-Mode: auto\n',
    'key with an inner space is not a trailer': 'subject\n\nArbiter Mode: auto\n',
  };
  for (const [name, message] of Object.entries(cases)) it(name, () => expectSameAsGit(message));

  it('agrees with git on generated messages (property)', () => {
    const line = fc.oneof(
      fc.constantFrom('Arbiter-Mode: auto', 'arbiter-action : restart', 'Signed-off-by: x <x@y>', '(cherry picked from commit abc)', 'ARBITER-DECISION:d1', 'Key\t:v'),
      fc.constantFrom('free text', '  continued', '\tcontinued', '# comment', '---', '--- x', '---x', '', ' ', 'Conflicts:', '\tpath', 'a b: c', 'x:', ':y', '-: z'),
      fc.stringMatching(/^[A-Za-z -:#\t]{0,12}$/),
    );
    fc.assert(
      fc.property(fc.array(line, { minLength: 0, maxLength: 12 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), (lines, eol, finalEol) => {
        const message = `subject${eol}${eol}${lines.join(eol)}${finalEol ? eol : ''}`;
        expect(parseTrailerList(message), JSON.stringify(message)).toEqual(gitTrailers(message));
      }),
      { numRuns: 300 },
    );
  });

  it('canonicalises arbiter keys and reports a key given twice with different values', () => {
    const r = trailerRecord('s\n\narbiter-mode: approval\nARBITER-MODE : auto\nArbiter-Action: restart\n');
    expect(r.trailers).toEqual({ 'Arbiter-Mode': 'approval', 'Arbiter-Action': 'restart' });
    expect(r.conflicting).toEqual(['Arbiter-Mode']);
  });
});
