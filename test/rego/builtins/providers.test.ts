import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lookupBuiltin } from '../../../engine/rego/builtins/index.ts';
import type { BuiltinContext } from '../../../engine/rego/builtins/registry.ts';
import { RObject, equal, toJSON } from '../../../engine/rego/value.ts';
import type { Value } from '../../../engine/rego/value.ts';
import { LiteralTerms, conformanceCases } from '../../support/conformance-cases.ts';

const cases = conformanceCases('providers-aws');
const ctx: BuiltinContext = { nowNs: 0n, strict: true, cache: new Map(), random: () => 0, print: () => {} };
const sign = (...args: Value[]): Value => lookupBuiltin('providers.aws.sign_req')!.fn(args, ctx) as Value;

function constant(module: string, name: string): Value {
  const m = new RegExp(`^${name} := `, 'm').exec(module)!;
  return new LiteralTerms(module, m.index + m[0].length).term() as Value;
}

describe('providers.aws.sign_req (conformance cases)', () => {
  for (const c of cases) {
    it(c.note, () => {
      const m = c.modules[0] as string;
      const time = new LiteralTerms(/sign_req\(req, aws_config, ([^)]*)\)/.exec(m)![1] as string).term() as Value;
      const run = (): Value => sign(constant(m, 'req'), constant(m, 'aws_config'), time);
      if (c.want_error) {
        let err: unknown;
        try {
          run();
        } catch (e) {
          err = e;
        }
        expect((err as Error).message).toContain(c.want_error);
        expect((err as { code: string }).code).toBe(c.want_error_code);
        return;
      }
      expect(toJSON(run())).toEqual(toJSON(constant(m, 'expected')));
    });
  }
});

describe('providers.aws.sign_req', () => {
  const config = RObject.fromRecord({ aws_access_key: 'AK', aws_secret_access_key: 'SK', aws_service: 's3', aws_region: 'eu-west-1' });
  it('the signature depends on the body, the time and the secret', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.bigInt({ min: 0n, max: 4_000_000_000n * 1_000_000_000n }), (a, b, t) => {
        const auth = (body: string, secret: string): Value => {
          const cfg = new RObject(config.entries()).set('aws_secret_access_key', secret);
          const req = RObject.fromRecord({ method: 'put', url: 'https://bucket.example.com/key?x=1', raw_body: body });
          return ((sign(req, cfg, t) as RObject).get('headers') as RObject).get('Authorization') as Value;
        };
        if (a !== b) expect(equal(auth(a, 'SK'), auth(b, 'SK'))).toBe(false);
        expect(equal(auth(a, 'SK'), auth(a, 'SK2'))).toBe(false);
        expect(equal(auth(a, 'SK'), auth(a, 'SK'))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});

