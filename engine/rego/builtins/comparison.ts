// Builtins: equality and ordering operators: equal (==), neq (!=), lt, lte, gt, gte (OPA's topdown/comparison.go).
// `=` and `:=` are unification, handled by the evaluator.
import { compare, equal } from '../value.ts';
import { T, register } from './registry.ts';

const cmp = T.boolean;
register({ name: 'equal', infix: '==', sig: { args: [T.any, T.any], result: cmp }, fn: ([a, b]) => equal(a!, b!) });
register({ name: 'neq', infix: '!=', sig: { args: [T.any, T.any], result: cmp }, fn: ([a, b]) => !equal(a!, b!) });
register({ name: 'lt', infix: '<', sig: { args: [T.any, T.any], result: cmp }, fn: ([a, b]) => compare(a!, b!) < 0 });
register({ name: 'lte', infix: '<=', sig: { args: [T.any, T.any], result: cmp }, fn: ([a, b]) => compare(a!, b!) <= 0 });
register({ name: 'gt', infix: '>', sig: { args: [T.any, T.any], result: cmp }, fn: ([a, b]) => compare(a!, b!) > 0 });
register({ name: 'gte', infix: '>=', sig: { args: [T.any, T.any], result: cmp }, fn: ([a, b]) => compare(a!, b!) >= 0 });
