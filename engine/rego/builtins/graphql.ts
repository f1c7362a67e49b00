// Builtins: graphql.parse, graphql.parse_and_verify, graphql.parse_query, graphql.parse_schema, graphql.is_valid, graphql.schema_is_valid
// Parsing and validation come from the graphql package (v16); results are converted to the AST OPA returns, which is
// gqlparser's (Go) AST marshalled to JSON with positions, nulls and empty lists/objects pruned.
import { GraphQLError, Kind, buildASTSchema, parse, validate, validateSchema } from 'graphql';
import type { ASTNode, DocumentNode, GraphQLSchema, TypeNode, ValueNode } from 'graphql';
import { register, T, BuiltinError, OperandTypeError } from './registry.ts';
import { BigNum, fromJSON, RObject } from '../value.ts';
import type { Value } from '../value.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

// ── gqlparser AST shape ─────────────────────────────────────────────────────────────────────────

/** gqlparser's ast.ValueKind numbering. */
const VALUE_KIND: Partial<Record<Kind, number>> = {
  [Kind.VARIABLE]: 0, [Kind.INT]: 1, [Kind.FLOAT]: 2, [Kind.STRING]: 3, [Kind.BOOLEAN]: 5,
  [Kind.NULL]: 6, [Kind.ENUM]: 7, [Kind.LIST]: 8, [Kind.OBJECT]: 9,
};

function valueAst(v: ValueNode): Json {
  const out: Record<string, Json> = { ExpectedTypeHasDefault: false, Kind: VALUE_KIND[v.kind] ?? 0 };
  switch (v.kind) {
    case Kind.VARIABLE:
      out.Raw = v.name.value;
      break;
    case Kind.INT:
    case Kind.FLOAT:
    case Kind.STRING:
    case Kind.ENUM:
      out.Raw = v.value;
      if (v.kind === Kind.STRING && v.block) out.Kind = 4;
      break;
    case Kind.BOOLEAN:
      out.Raw = String(v.value);
      break;
    case Kind.NULL:
      out.Raw = 'null';
      break;
    case Kind.LIST:
      out.Raw = '';
      out.Children = v.values.map((x) => ({ Name: '', Value: valueAst(x) }));
      break;
    case Kind.OBJECT:
      out.Raw = '';
      out.Children = v.fields.map((f) => ({ Name: f.name.value, Value: valueAst(f.value) }));
      break;
  }
  return out;
}

function typeAst(t: TypeNode): Record<string, Json> {
  if (t.kind === Kind.NON_NULL_TYPE) return { ...typeAst(t.type), NonNull: true };
  if (t.kind === Kind.LIST_TYPE) return { NamedType: '', Elem: typeAst(t.type), NonNull: false };
  return { NamedType: t.name.value, NonNull: false };
}

const name = (n: { name?: { value: string } | undefined }): string => n.name?.value ?? '';
const description = (n: { description?: { value: string } | undefined }): string => n.description?.value ?? '';

function directives(n: { directives?: readonly ASTNode[] | undefined }): Json {
  return (n.directives ?? []).map((d) => {
    const dir = d as import('graphql').DirectiveNode;
    return { Name: dir.name.value, Arguments: args(dir.arguments), Location: '' };
  });
}

function args(list: readonly import('graphql').ArgumentNode[] | undefined): Json {
  return (list ?? []).map((a) => ({ Name: a.name.value, Value: valueAst(a.value) }));
}

function selectionSet(s: import('graphql').SelectionSetNode | undefined): Json {
  return (s?.selections ?? []).map((sel): Json => {
    if (sel.kind === Kind.FIELD) {
      return { Alias: sel.alias?.value ?? sel.name.value, Name: sel.name.value, Arguments: args(sel.arguments), Directives: directives(sel), SelectionSet: selectionSet(sel.selectionSet) };
    }
    if (sel.kind === Kind.FRAGMENT_SPREAD) return { Name: sel.name.value, Directives: directives(sel) };
    return { TypeCondition: sel.typeCondition?.name.value ?? '', Directives: directives(sel), SelectionSet: selectionSet(sel.selectionSet) };
  });
}

function variableDefinition(v: import('graphql').VariableDefinitionNode): Json {
  return { Variable: v.variable.name.value, Type: typeAst(v.type), DefaultValue: v.defaultValue ? valueAst(v.defaultValue) : null, Directives: directives(v), Used: false };
}

function queryAst(doc: DocumentNode): Json {
  const operations: Json[] = [];
  const fragments: Json[] = [];
  for (const d of doc.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION) {
      operations.push({
        Operation: d.operation,
        Name: name(d),
        VariableDefinitions: (d.variableDefinitions ?? []).map(variableDefinition),
        Directives: directives(d),
        SelectionSet: selectionSet(d.selectionSet),
      });
    } else if (d.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.push({ Name: d.name.value, VariableDefinition: (d.variableDefinitions ?? []).map(variableDefinition), TypeCondition: d.typeCondition.name.value, Directives: directives(d), SelectionSet: selectionSet(d.selectionSet) });
    } else throw new SyntaxProblem(`Unexpected Name "${(d as { kind: string }).kind}"`, 1, 1);
  }
  return { Operations: operations, Fragments: fragments };
}

function inputValue(v: import('graphql').InputValueDefinitionNode): Json {
  return { Description: description(v), Name: v.name.value, DefaultValue: v.defaultValue ? valueAst(v.defaultValue) : null, Type: typeAst(v.type), Directives: directives(v) };
}

const TYPE_KIND: Partial<Record<Kind, string>> = {
  [Kind.OBJECT_TYPE_DEFINITION]: 'OBJECT', [Kind.OBJECT_TYPE_EXTENSION]: 'OBJECT',
  [Kind.INTERFACE_TYPE_DEFINITION]: 'INTERFACE', [Kind.INTERFACE_TYPE_EXTENSION]: 'INTERFACE',
  [Kind.UNION_TYPE_DEFINITION]: 'UNION', [Kind.UNION_TYPE_EXTENSION]: 'UNION',
  [Kind.ENUM_TYPE_DEFINITION]: 'ENUM', [Kind.ENUM_TYPE_EXTENSION]: 'ENUM',
  [Kind.INPUT_OBJECT_TYPE_DEFINITION]: 'INPUT_OBJECT', [Kind.INPUT_OBJECT_TYPE_EXTENSION]: 'INPUT_OBJECT',
  [Kind.SCALAR_TYPE_DEFINITION]: 'SCALAR', [Kind.SCALAR_TYPE_EXTENSION]: 'SCALAR',
};

function schemaAst(doc: DocumentNode): Json {
  const out: Record<string, Json[]> = { Schema: [], SchemaExtension: [], Directives: [], Definitions: [], Extensions: [] };
  for (const d of doc.definitions) {
    if (d.kind === Kind.SCHEMA_DEFINITION || d.kind === Kind.SCHEMA_EXTENSION) {
      const ops = (d.operationTypes ?? []).map((o) => ({ Operation: o.operation, Type: o.type.name.value }));
      const entry = { Description: d.kind === Kind.SCHEMA_DEFINITION ? description(d) : '', Directives: directives(d), OperationTypes: ops };
      (out[d.kind === Kind.SCHEMA_DEFINITION ? 'Schema' : 'SchemaExtension'] as Json[]).push(entry);
    } else if (d.kind === Kind.DIRECTIVE_DEFINITION) {
      out.Directives!.push({
        Description: description(d), Name: d.name.value, Arguments: (d.arguments ?? []).map(inputValue),
        Locations: d.locations.map((l) => l.value), IsRepeatable: d.repeatable,
      });
    } else if (TYPE_KIND[d.kind]) {
      // one loose view over the six type definition/extension node kinds
      const t = d as unknown as {
        name: { value: string };
        description?: { value: string };
        directives?: readonly ASTNode[];
        interfaces?: ReadonlyArray<{ name: { value: string } }>;
        fields?: readonly ASTNode[];
        types?: ReadonlyArray<{ name: { value: string } }>;
        values?: readonly import('graphql').EnumValueDefinitionNode[];
      };
      const isInput = d.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION || d.kind === Kind.INPUT_OBJECT_TYPE_EXTENSION;
      const def = {
        Kind: TYPE_KIND[d.kind] as string,
        Description: description(t),
        Name: t.name.value,
        Directives: directives(t),
        Interfaces: (t.interfaces ?? []).map((i) => i.name.value),
        Fields: (t.fields ?? []).map((f): Json => {
          if (isInput) return inputValue(f as import('graphql').InputValueDefinitionNode);
          const fd = f as import('graphql').FieldDefinitionNode;
          return { Description: description(fd), Name: fd.name.value, Arguments: (fd.arguments ?? []).map(inputValue), Type: typeAst(fd.type), Directives: directives(fd) };
        }),
        Types: (t.types ?? []).map((x) => x.name.value),
        EnumValues: (t.values ?? []).map((v) => ({ Description: description(v), Name: v.name.value, Directives: directives(v) })),
        BuiltIn: false,
      };
      (out[d.kind.endsWith('Extension') ? 'Extensions' : 'Definitions'] as Json[]).push(def);
    } else throw new SyntaxProblem(`Unexpected Name "${(d as { kind: string }).kind}"`, 1, 1);
  }
  return out;
}

/** OPA's pruning: drop Position, nulls, and lists/objects that are empty once pruned. */
export function prune(x: Json): Json | undefined {
  if (x === null) return undefined;
  if (Array.isArray(x)) {
    const items = x.map(prune).filter((v) => v !== undefined && !isEmpty(v)) as Json[];
    return items;
  }
  if (typeof x === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(x)) {
      if (k === 'Position') continue;
      const p = prune(v);
      if (p !== undefined && !isEmpty(p)) out[k] = p;
    }
    return out;
  }
  return x;
}

function isEmpty(v: Json): boolean {
  return (Array.isArray(v) && v.length === 0) || (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
}

// ── parsing, with gqlparser's error texts ───────────────────────────────────────────────────────

class SyntaxProblem extends Error {
  constructor(
    readonly text: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(text);
  }
}

function parseDocument(source: string, kind: 'query' | 'schema'): DocumentNode {
  if (source.trim() === '' && kind === 'query') return { kind: Kind.DOCUMENT, definitions: [] };
  try {
    const doc = parse(source, { noLocation: false, allowLegacyFragmentVariables: true });
    const executable = doc.definitions.every((d) => d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION);
    const first = doc.definitions.find((d) => (kind === 'query') !== (d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION));
    if (first && !(kind === 'query' && executable)) {
      const loc = first.loc?.startToken;
      const word = source.slice(first.loc?.start ?? 0).match(/^[_A-Za-z][_0-9A-Za-z]*/)?.[0] ?? '';
      throw new SyntaxProblem(word ? `Unexpected Name "${word}"` : 'Unexpected {', loc?.line ?? 1, loc?.column ?? 1);
    }
    return doc;
  } catch (e) {
    if (e instanceof SyntaxProblem) throw e;
    if (e instanceof GraphQLError) {
      const loc = e.locations?.[0];
      const offset = e.positions?.[0] ?? 0;
      let text = gqlparserText(e.message, source, offset);
      if (/^Unexpected description/.test(text)) text = `Unexpected String ${JSON.stringify(stringAt(source, offset))}`;
      // gqlparser places a string token after its opening quote
      const shift = /^Unexpected String/.test(text) ? 1 : 0;
      throw new SyntaxProblem(text, loc?.line ?? 1, (loc?.column ?? 1) + shift);
    }
    throw e;
  }
}

function stringAt(source: string, offset: number): string {
  const m = /^"((?:[^"\\]|\\.)*)"/.exec(source.slice(offset));
  return m ? (JSON.parse(`"${m[1]}"`) as string) : '';
}

/** graphql-js and gqlparser word most syntax errors alike; trim graphql-js's prefix and full stop. */
function gqlparserText(message: string, source: string, offset: number): string {
  let text = message
    .replace(/^Syntax Error: /, '')
    .replace(/\.$/, '')
    .replace(/^(Unexpected character|Unterminated string|Invalid number|Invalid character).*/, 'Unexpected <Invalid>')
    .replace(/^Unexpected variable "\$.*"( in constant value)?/, 'Unexpected $')
    .replace(/(^|, )(found|Expected|Unexpected) "([^A-Za-z"]+)"/g, '$1$2 $3')
    .replace(/^Expected "([^A-Za-z"]+)"/, 'Expected $1')
    .replace(/description "/, 'String "');
  // gqlparser words an empty `{}` body as a missing definition
  if (text === 'Expected Name, found }' && /\{\s*$/.test(source.slice(0, offset))) text = 'expected at least one definition, found }';
  return text;
}

function parseFailure(builtin: string, e: unknown): BuiltinError {
  if (e instanceof SyntaxProblem) return new BuiltinError(builtin, `${e.text} in GraphQL string at location ${e.line}:${e.column}`);
  return new BuiltinError(builtin, (e as Error).message);
}

// ── schemas and validation ──────────────────────────────────────────────────────────────────────

/**
 * gqlparser accepts extensions of types the document never defines (federation schemas rely on it): turn such an
 * extension into the definition before handing the document to graphql-js.
 */
function definedSchema(doc: DocumentNode): DocumentNode {
  const defined = new Set(doc.definitions.filter((d) => 'name' in d && !d.kind.endsWith('Extension')).map((d) => (d as { name: { value: string } }).name.value));
  const definitions = doc.definitions.map((d) => {
    if (!d.kind.endsWith('Extension') || d.kind === Kind.SCHEMA_EXTENSION) return d;
    const n = (d as { name: { value: string } }).name.value;
    if (defined.has(n)) return d;
    defined.add(n);
    return { ...d, kind: d.kind.replace('Extension', 'Definition') as Kind } as typeof d;
  });
  return { ...doc, definitions };
}

function buildSchema(doc: DocumentNode): GraphQLSchema {
  const schema = buildASTSchema(definedSchema(doc), { assumeValidSDL: false });
  // gqlparser does not require a query root type
  const errors = validateSchema(schema).filter((e) => !/^Query root type must be provided/.test(e.message));
  if (errors.length > 0) throw new Error((errors[0] as GraphQLError).message);
  // graphql-js caches its own verdict here and `validate` asserts it; ours (without the root type rule) stands
  (schema as unknown as { __validationErrors: unknown[] }).__validationErrors = [];
  return schema;
}

function validationFailure(builtin: string, e: GraphQLError): BuiltinError {
  const loc = e.locations?.[0];
  return new BuiltinError(builtin, `${e.message.replace(/\.$/, '')} in GraphQL string at location ${loc?.line ?? 0}:${loc?.column ?? 0}`);
}

interface Parsed {
  query: DocumentNode;
  schema: DocumentNode;
}

/** Query and schema operands may be GraphQL text or an AST object as these builtins return. */
function operand(builtin: string, pos: number, v: Value | undefined, kind: 'query' | 'schema'): DocumentNode {
  if (typeof v === 'string') return parseDocument(v, kind);
  if (v instanceof RObject) return parseDocument(printAst(v, kind), kind);
  throw new OperandTypeError(builtin, pos, 'one of {string, object}', v ?? null);
}

function parseBoth(builtin: string, args: Value[]): Parsed {
  return { query: operand(builtin, 1, args[0], 'query'), schema: operand(builtin, 2, args[1], 'schema') };
}

const toValue = (doc: Json): Value => fromJSON(prune(doc) ?? {});

register({
  name: 'graphql.parse_query',
  sig: { args: [T.string], result: T.object(T.any, T.any) },
  fn([q]) {
    const b = 'graphql.parse_query';
    if (typeof q !== 'string') throw new OperandTypeError(b, 1, 'string', q ?? null);
    try {
      return toValue(queryAst(parseDocument(q, 'query')));
    } catch (e) {
      throw parseFailure(b, e);
    }
  },
});

register({
  name: 'graphql.parse_schema',
  sig: { args: [T.string], result: T.object(T.any, T.any) },
  fn([s]) {
    const b = 'graphql.parse_schema';
    if (typeof s !== 'string') throw new OperandTypeError(b, 1, 'string', s ?? null);
    try {
      return toValue(schemaAst(parseDocument(s, 'schema')));
    } catch (e) {
      throw parseFailure(b, e);
    }
  },
});

register({
  name: 'graphql.parse',
  sig: { args: [T.union(T.string, T.object(T.any, T.any)), T.union(T.string, T.object(T.any, T.any))], result: T.array(T.any) },
  fn(args) {
    const b = 'graphql.parse';
    let parsed: Parsed;
    try {
      parsed = parseBoth(b, args);
    } catch (e) {
      if (e instanceof OperandTypeError) throw e;
      throw parseFailure(b, e);
    }
    let schema: GraphQLSchema;
    try {
      schema = buildSchema(parsed.schema);
    } catch (e) {
      throw new BuiltinError(b, `Error in gqlparser SchemaDocument to Schema conversion: ${(e as Error).message}`);
    }
    const errors = validate(schema, parsed.query);
    if (errors.length > 0) throw validationFailure(b, errors[0] as GraphQLError);
    return [toValue(queryAst(parsed.query)), toValue(schemaAst(parsed.schema))];
  },
});

/** Parse and validate; undefined when anything fails (the callers turn that into their default). */
function verified(args: Value[]): Parsed | undefined {
  try {
    const parsed = parseBoth('graphql', args);
    return validate(buildSchema(parsed.schema), parsed.query).length === 0 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

register({
  name: 'graphql.parse_and_verify',
  sig: { args: [T.union(T.string, T.object(T.any, T.any)), T.union(T.string, T.object(T.any, T.any))], result: T.array(T.any) },
  fn(args) {
    const ok = verified(args);
    if (!ok) return [false, new RObject(), new RObject()];
    return [true, toValue(queryAst(ok.query)), toValue(schemaAst(ok.schema))];
  },
});

register({
  name: 'graphql.is_valid',
  sig: { args: [T.union(T.string, T.object(T.any, T.any)), T.union(T.string, T.object(T.any, T.any))], result: T.boolean },
  fn: (args) => verified(args) !== undefined,
});

register({
  name: 'graphql.schema_is_valid',
  sig: { args: [T.union(T.string, T.object(T.any, T.any))], result: T.boolean },
  fn([s]) {
    try {
      buildSchema(operand('graphql.schema_is_valid', 1, s, 'schema'));
      return true;
    } catch {
      return false;
    }
  },
});

// ── AST objects back to GraphQL text (for operands given as ASTs) ───────────────────────────────

function printAst(ast: RObject, kind: 'query' | 'schema'): string {
  const j = JSON.parse(JSON.stringify(fromValue(ast))) as Record<string, any>;
  return kind === 'query' ? printQuery(j) : printSchema(j);
}

function fromValue(v: Value): unknown {
  if (v instanceof RObject) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), fromValue(x)]));
  if (Array.isArray(v)) return v.map(fromValue);
  if (v instanceof BigNum) return v.plain();
  return typeof v === 'bigint' ? v.toString() : v;
}

function printValue(v: any): string {
  const raw = v?.Raw ?? '';
  switch (v?.Kind ?? 0) {
    case 0:
      return `$${raw}`;
    case 3:
    case 4:
      return JSON.stringify(raw);
    case 8:
      return `[${(v.Children ?? []).map((c: any) => printValue(c.Value)).join(', ')}]`;
    case 9:
      return `{${(v.Children ?? []).map((c: any) => `${c.Name}: ${printValue(c.Value)}`).join(', ')}}`;
    default:
      return String(raw);
  }
}

function printType(t: any): string {
  const inner = t?.Elem ? `[${printType(t.Elem)}]` : String(t?.NamedType ?? '');
  return t?.NonNull ? `${inner}!` : inner;
}

const printArgs = (a: any[] | undefined): string => (a?.length ? `(${a.map((x) => `${x.Name}: ${printValue(x.Value)}`).join(', ')})` : '');
const printDirectives = (d: any[] | undefined): string => (d ?? []).map((x) => ` @${x.Name}${printArgs(x.Arguments)}`).join('');

function printSelections(s: any[] | undefined): string {
  if (!s?.length) return '';
  return ` { ${s
    .map((x) => {
      if ('TypeCondition' in x || ('SelectionSet' in x && !('Alias' in x) && !('Name' in x))) {
        return `... ${x.TypeCondition ? `on ${x.TypeCondition}` : ''}${printDirectives(x.Directives)}${printSelections(x.SelectionSet)}`;
      }
      if (!('Alias' in x)) return `...${x.Name}${printDirectives(x.Directives)}`;
      const alias = x.Alias && x.Alias !== x.Name ? `${x.Alias}: ` : '';
      return `${alias}${x.Name}${printArgs(x.Arguments)}${printDirectives(x.Directives)}${printSelections(x.SelectionSet)}`;
    })
    .join(' ')} }`;
}

function printQuery(doc: Record<string, any>): string {
  const ops = (doc.Operations ?? []).map((o: any) => {
    const vars = o.VariableDefinitions?.length
      ? `(${o.VariableDefinitions.map((v: any) => `$${v.Variable}: ${printType(v.Type)}${v.DefaultValue ? ` = ${printValue(v.DefaultValue)}` : ''}`).join(', ')})`
      : '';
    return `${o.Operation ?? 'query'} ${o.Name ?? ''}${vars}${printDirectives(o.Directives)}${printSelections(o.SelectionSet)}`;
  });
  const frags = (doc.Fragments ?? []).map((f: any) => `fragment ${f.Name} on ${f.TypeCondition}${printDirectives(f.Directives)}${printSelections(f.SelectionSet)}`);
  return [...ops, ...frags].join('\n');
}

function printSchema(doc: Record<string, any>): string {
  const inputValue = (a: any): string => `${a.Name}: ${printType(a.Type)}${a.DefaultValue ? ` = ${printValue(a.DefaultValue)}` : ''}${printDirectives(a.Directives)}`;
  const def = (d: any, extend: boolean): string => {
    const head = `${extend ? 'extend ' : ''}${{ OBJECT: 'type', INTERFACE: 'interface', UNION: 'union', ENUM: 'enum', INPUT_OBJECT: 'input', SCALAR: 'scalar' }[d.Kind as string] ?? 'type'} ${d.Name}`;
    const impl = d.Interfaces?.length ? ` implements ${d.Interfaces.join(' & ')}` : '';
    const dirs = printDirectives(d.Directives);
    if (d.Kind === 'UNION') return `${head}${dirs}${d.Types?.length ? ` = ${d.Types.join(' | ')}` : ''}`;
    if (d.Kind === 'ENUM') return `${head}${dirs}${d.EnumValues?.length ? ` { ${d.EnumValues.map((v: any) => `${v.Name}${printDirectives(v.Directives)}`).join(' ')} }` : ''}`;
    if (d.Kind === 'SCALAR') return `${head}${dirs}`;
    const fields = (d.Fields ?? []).map((f: any) =>
      d.Kind === 'INPUT_OBJECT' ? inputValue(f) : `${f.Name}${f.Arguments?.length ? `(${f.Arguments.map(inputValue).join(', ')})` : ''}: ${printType(f.Type)}${printDirectives(f.Directives)}`,
    );
    return `${head}${impl}${dirs}${fields.length ? ` { ${fields.join(' ')} }` : ''}`;
  };
  const parts: string[] = [];
  for (const s of doc.Schema ?? []) parts.push(`schema${printDirectives(s.Directives)} { ${(s.OperationTypes ?? []).map((o: any) => `${o.Operation}: ${o.Type}`).join(' ')} }`);
  for (const s of doc.SchemaExtension ?? []) parts.push(`extend schema${printDirectives(s.Directives)}${s.OperationTypes?.length ? ` { ${s.OperationTypes.map((o: any) => `${o.Operation}: ${o.Type}`).join(' ')} }` : ''}`);
  for (const d of doc.Directives ?? []) parts.push(`directive @${d.Name}${d.Arguments?.length ? `(${d.Arguments.map(inputValue).join(', ')})` : ''}${d.IsRepeatable ? ' repeatable' : ''} on ${(d.Locations ?? []).join(' | ')}`);
  for (const d of doc.Definitions ?? []) parts.push(def(d, false));
  for (const d of doc.Extensions ?? []) parts.push(def(d, true));
  return parts.join('\n');
}
