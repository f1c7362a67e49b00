// `arbiter eval` prints compile-time type errors as `opa eval` does: the error line, then the have/want details.
import { describe, expect, it } from 'vitest';
import { evalOpa, formatOpaJson, formatOpaPretty } from '../../engine/rego/opa-eval.ts';

const module = { file: 'demo.rego', source: 'package demo\n\np := x if {\n\tx := "a" + 1\n}\n' };

describe('arbiter eval: type errors', () => {
  it('pretty output shows the have/want lines under the error', () => {
    const out = evalOpa({ modules: [module], query: 'data.demo.p' });
    expect(formatOpaPretty(out)).toBe(
      '1 error occurred: demo.rego:4: rego_type_error: plus: invalid argument(s)\n\thave: (string, number, ???)\n\twant: (number, number, number)\n',
    );
  });

  it('JSON output keeps OPA\'s shape: message, code and location only', () => {
    const out = evalOpa({ modules: [module], query: 'data.demo.p' });
    const doc = JSON.parse(formatOpaJson(out)) as { errors: Array<Record<string, unknown>> };
    expect(doc.errors).toEqual([{ message: 'plus: invalid argument(s)', code: 'rego_type_error', location: { file: 'demo.rego', row: 4, col: 7 } }]);
  });
});
