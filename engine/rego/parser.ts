// Rego v1 parser (OPA's ast/parser.go): tokens → Module / Body. Operator precedence as OPA:
// `in` < relations (== != < > <= >=) < `|` < `&` < `+ -` < `* / %`.
import { RegoError } from './ast.ts';
import type { Body, ElseClause, Expr, ExprBody, Import, Location, Module, Rule, Term, WithModifier } from './ast.ts';
import { tokenize } from './lexer.ts';
import type { Token } from './lexer.ts';
import { parse as parseYAML } from 'yaml';
import { parseNumber } from './value.ts';

const INFIX: Record<string, string> = {
  '==': 'equal',
  '!=': 'neq',
  '<': 'lt',
  '>': 'gt',
  '<=': 'lte',
  '>=': 'gte',
  '|': 'or',
  '&': 'and',
  '+': 'plus',
  '-': 'minus',
  '*': 'mul',
  '/': 'div',
  '%': 'rem',
};

const RELATIONS = new Set(['==', '!=', '<', '>', '<=', '>=']);

/**
 * Rego v1 keywords that can never be a variable or a rule name (OPA: `unexpected in keyword`); as a ref head glued to
 * `.`/`[` they are fine (`in.foo := 1`). `contains` is left out: it is also a builtin (`contains(s, x)`).
 */
const KEYWORDS = new Set(['in', 'some', 'every', 'if', 'not', 'with', 'as', 'default', 'else', 'package', 'import']);

class Parser {
  private pos = 0;
  private wildcards = 0;
  /** The single term last parsed at `start` by `singleTermThen`, so it is not parsed twice (nesting stays linear). */
  private memo: { start: number; end: number; term: Term } | null = null;

  constructor(
    private readonly toks: Token[],
    private readonly file: string,
    /** Counter of desugaring variables, shared with the sub-parsers of template strings. */
    private readonly fresh = { n: 0 },
  ) {}

  private get tok(): Token {
    return this.toks[this.pos] as Token;
  }

  private peek(n = 1): Token {
    return this.toks[Math.min(this.pos + n, this.toks.length - 1)] as Token;
  }

  private loc(t: Token = this.tok): Location {
    return { file: this.file, row: t.row, col: t.col };
  }

  private fail(msg: string, t: Token = this.tok): never {
    throw new RegoError('rego_parse_error', msg, this.loc(t));
  }

  private is(text: string): boolean {
    const t = this.tok;
    return (t.kind === 'punct' || t.kind === 'ident') && t.text === text;
  }

  private accept(text: string): boolean {
    if (this.is(text)) {
      this.pos++;
      return true;
    }
    return false;
  }

  private expect(text: string): Token {
    if (!this.is(text)) {
      const t = this.tok;
      this.fail(t.kind === 'eof' ? `unexpected eof token: expected ${text}` : `unexpected ${describe(t)} token: expected ${text}`);
    }
    return this.toks[this.pos++] as Token;
  }

  private ident(): Token {
    const t = this.tok;
    if (t.kind !== 'ident') this.fail(t.kind === 'eof' ? 'unexpected eof token: expected ident' : `unexpected ${describe(t)} token: expected ident`);
    this.pos++;
    return t;
  }

  /** The next token is `.` or `[` directly after the current one: a keyword used as a ref head. */
  private glued(): boolean {
    const n = this.peek();
    return !n.spaced && n.kind === 'punct' && (n.text === '.' || n.text === '[');
  }

  atEnd(): boolean {
    return this.tok.kind === 'eof';
  }

  // ── module ──────────────────────────────────────────────────────────────────────────────────

  module(): Module {
    const pkgTok = this.tok;
    if (!this.accept('package')) this.fail('package expected');
    const pkg = this.dottedPath();
    const imports: Import[] = [];
    const rules: Rule[] = [];
    while (this.is('import') && !this.glued()) {
      const t = this.tok;
      this.pos++;
      const path = this.refTerm();
      let alias: string | null = null;
      if (this.accept('as')) alias = this.ident().text;
      imports.push({ path, alias, loc: this.loc(t) });
    }
    while (!this.atEnd()) {
      if (this.is('import') && !this.glued()) this.fail('imports must appear before rules');
      rules.push(...this.rule());
    }
    return { file: this.file, pkg, pkgLoc: this.loc(pkgTok), imports, rules };
  }

  private dottedPath(): string[] {
    const t = this.refTerm();
    const out: string[] = [];
    const walk = (x: Term): void => {
      if (x.type === 'var') out.push(x.name);
      else if (x.type === 'ref') {
        walk(x.head);
        for (const p of x.path) {
          if (p.type !== 'scalar' || typeof p.value !== 'string') this.fail('package path must be strings');
          out.push(p.value);
        }
      } else this.fail('invalid package path');
    };
    walk(t);
    if (out[0] === 'data') out.shift();
    return out;
  }

  private refTerm(): Term {
    const t = this.ident();
    return this.refTail({ type: 'var', name: t.text, loc: this.loc(t) }, false);
  }

  private rule(): Rule[] {
    const start = this.tok;
    const isDefault = this.is('default') && !this.glued() ? (this.pos++, true) : false;
    const headTok = this.ident();
    if (KEYWORDS.has(headTok.text) && !(this.tok.kind === 'punct' && !this.tok.spaced && (this.tok.text === '.' || this.tok.text === '['))) {
      this.fail(`unexpected ${headTok.text} keyword`, headTok);
    }
    const headVar: Term = { type: 'var', name: headTok.text, loc: this.loc(headTok) };
    const head = this.refTail(headVar, false);
    let ref: Term[];
    let args: Term[] | null = null;
    if (head.type === 'call') {
      ref = this.callRef(head);
      args = head.args;
    } else if (head.type === 'ref') {
      ref = [{ type: 'scalar', value: (head.head as { name: string }).name, loc: head.head.loc }, ...head.path];
    } else ref = [{ type: 'scalar', value: headTok.text, loc: headVar.loc }];
    let value: Term | null = null;
    let multi = false;
    if (this.is('contains') && !this.glued() && (this.pos++, true)) {
      multi = true;
      value = this.termIn();
    } else if (this.is(':=') || this.is('=')) {
      this.pos++;
      value = this.termIn();
    }
    const loc = this.loc(start);
    let body: Body = [];
    if (this.is('if') && !this.glued() && (this.pos++, true)) body = this.ruleBody();
    else if (this.is('{') && !isDefault) {
      // v0 syntax: OPA v1 requires `if` before a body (and `contains` for a partial set)
      this.fail(`\`if\` keyword is required before ${args ? 'function' : 'rule'} body`, start);
    }
    if (isDefault && value === null) this.fail('default rules must have a value');
    if (isDefault && value) {
      // OPA's validateDefaultRuleValue: a default value is a constant (comprehensions aside)
      const kind = nonConstantKind(value);
      if (kind) throw new RegoError('rego_parse_error', `illegal default rule (value cannot contain ${kind})`, this.loc(start));
    }
    // v1: `p[x] if …` is a single-value ref-head rule with value true; `p contains x` is the multi-value form
    const rule: Rule = { ref, args, value, multi, isDefault, body, elses: [], loc };
    while (this.is('else') && !this.glued()) {
      const t = this.tok;
      this.pos++;
      let ev: Term | null = null;
      if (this.is(':=') || this.is('=')) {
        this.pos++;
        ev = this.termIn();
      }
      let eb: Body = [];
      if (this.accept('if')) eb = this.ruleBody();
      else if (this.is('{')) {
        this.pos++;
        eb = this.query('}');
        this.expect('}');
      }
      const clause: ElseClause = { value: ev, body: eb, loc: this.loc(t) };
      rule.elses.push(clause);
    }
    return [rule];
  }

  private callRef(call: Extract<Term, { type: 'call' }>): Term[] {
    return call.op.split('.').map((s) => ({ type: 'scalar', value: s, loc: call.loc }) as Term);
  }

  private ruleBody(): Body {
    if (this.is('{')) {
      const start = this.pos;
      this.pos++;
      try {
        const b = this.query('}');
        this.expect('}');
        return b;
      } catch (err) {
        // `if {k: v | ...}`: not a body but a one-literal body made of an object/set literal or comprehension
        this.pos = start;
        try {
          return [this.literal()];
        } catch {
          throw err;
        }
      }
    }
    return [this.literal()];
  }

  // ── queries ─────────────────────────────────────────────────────────────────────────────────

  query(end: string | null): Body {
    const body: Body = [];
    if (end && this.is(end)) this.fail('found empty body');
    while (true) {
      body.push(this.literal());
      if (this.accept(';')) {
        if (end && this.is(end)) return body;
        continue;
      }
      if (end ? this.is(end) : this.atEnd()) return body;
      if (this.atEnd()) this.fail(`unexpected eof token: expected ${end}`);
      // a new literal starts on the next token (newline-separated)
      if (!this.canStartLiteral()) this.fail(`unexpected ${describe(this.tok)} token`);
    }
  }

  private canStartLiteral(): boolean {
    const t = this.tok;
    if (t.kind !== 'punct') return true;
    return ['(', '[', '{', '-'].includes(t.text);
  }

  private literal(): Expr {
    const t = this.tok;
    const loc = this.loc(t);
    if (this.is('some') && !this.glued()) {
      this.pos++;
      const first = this.termRelation();
      const terms = [first];
      while (this.accept(',')) terms.push(this.termRelation());
      if (this.accept('in')) {
        if (terms.length > 2) this.fail('unexpected , token');
        const domain = this.termRelation();
        const body: ExprBody =
          terms.length === 2
            ? { kind: 'somein', key: terms[0] as Term, value: terms[1] as Term, domain }
            : { kind: 'somein', key: null, value: first, domain };
        return this.withs({ ...body, negated: false, withs: [], loc });
      }
      // `some x in xs` written as a single member call
      if (terms.length === 1 && first.type === 'call' && (first.op === 'internal.member_2' || first.op === 'internal.member_3')) {
        const a = first.args;
        const body: ExprBody =
          a.length === 3
            ? { kind: 'somein', key: a[0] as Term, value: a[1] as Term, domain: a[2] as Term }
            : { kind: 'somein', key: null, value: a[0] as Term, domain: a[1] as Term };
        return this.withs({ ...body, negated: false, withs: [], loc });
      }
      for (const v of terms) if (v.type !== 'var') this.fail('expected var in some declaration', t);
      return { kind: 'some', vars: terms, negated: false, withs: [], loc };
    }
    if (this.is('every') && !this.glued()) {
      this.pos++;
      const first = this.termRelation();
      let key: Term | null = null;
      let value = first;
      if (this.accept(',')) {
        key = first;
        value = this.termRelation();
      }
      this.expect('in');
      const domain = this.termRelation();
      this.expect('{');
      const body = this.query('}');
      this.expect('}');
      return this.withs({ kind: 'every', key, value, domain, body, negated: false, withs: [], loc });
    }
    let negated = false;
    if (this.is('not') && !this.glued()) {
      this.pos++;
      negated = true;
    }
    const left = this.termIn(false, true);
    let e: Expr;
    if (this.is(':=') || this.is('=')) {
      const assign = this.tok.text === ':=';
      this.pos++;
      const right = this.termIn();
      e = { kind: 'unify', left, right, assign, negated, withs: [], loc };
    } else e = { kind: 'term', term: left, negated, withs: [], loc };
    return this.withs(e);
  }

  /** A fresh variable for desugaring (a name no source can write). */
  templateVar(): string {
    return `$tpl${this.fresh.n++}`;
  }

  withs(e: Expr): Expr {
    const withs: WithModifier[] = [];
    while (this.is('with') && !this.glued()) {
      const t = this.tok;
      this.pos++;
      const target = this.refTerm();
      this.expect('as');
      const value = this.termIn();
      withs.push({ target, value, loc: this.loc(t) });
    }
    e.withs = withs;
    return e;
  }

  // ── terms ───────────────────────────────────────────────────────────────────────────────────

  termIn(noOr = false, keyVal = false): Term {
    let lhs = this.termRelation(noOr);
    if (keyVal && this.is(',')) {
      // `k, v in xs` (member_3) binds tighter than a following `in`
      const save = this.pos;
      this.pos++;
      const mhs = this.termRelation(noOr);
      if (this.is('in')) {
        const t = this.tok;
        this.pos++;
        const rhs = this.termRelation(noOr);
        lhs = { type: 'call', op: 'internal.member_3', args: [lhs, mhs, rhs], loc: this.loc(t) };
      } else this.pos = save;
    }
    while (this.is('in') && !this.glued()) {
      const t = this.tok;
      this.pos++;
      const rhs = this.termRelation(noOr);
      lhs = { type: 'call', op: 'internal.member_2', args: [lhs, rhs], loc: this.loc(t) };
    }
    return lhs;
  }

  private termRelation(noOr = false): Term {
    let lhs = this.termOr(noOr);
    while (this.tok.kind === 'punct' && RELATIONS.has(this.tok.text)) {
      const op = this.tok.text;
      const loc = lhs.loc;
      this.pos++;
      const rhs = this.termOr(noOr);
      lhs = { type: 'call', op: INFIX[op] as string, args: [lhs, rhs], loc };
    }
    return lhs;
  }

  private termOr(noOr: boolean): Term {
    let lhs = this.termAnd();
    while (!noOr && this.is('|')) {
      this.pos++;
      lhs = { type: 'call', op: 'or', args: [lhs, this.termAnd()], loc: lhs.loc };
    }
    return lhs;
  }

  private termAnd(): Term {
    let lhs = this.termArith();
    while (this.is('&')) {
      this.pos++;
      lhs = { type: 'call', op: 'and', args: [lhs, this.termArith()], loc: lhs.loc };
    }
    return lhs;
  }

  private termArith(): Term {
    let lhs = this.termFactor();
    while (this.is('+') || this.is('-')) {
      const op = INFIX[this.tok.text] as string;
      this.pos++;
      lhs = { type: 'call', op, args: [lhs, this.termFactor()], loc: lhs.loc };
    }
    return lhs;
  }

  private termFactor(): Term {
    let lhs = this.termUnary();
    while (this.is('*') || this.is('/') || this.is('%')) {
      const op = INFIX[this.tok.text] as string;
      this.pos++;
      lhs = { type: 'call', op, args: [lhs, this.termUnary()], loc: lhs.loc };
    }
    return lhs;
  }

  private termUnary(): Term {
    const m = this.memo;
    if (m && m.start === this.pos) {
      this.pos = m.end;
      return m.term;
    }
    if (this.is('-')) {
      const t = this.tok;
      const next = this.peek();
      // `-1` and `- 1` alike: OPA scans past the space and still reads a negative number literal
      if (next.kind === 'number') {
        this.pos += 2;
        return this.refTail({ type: 'scalar', value: parseNumber(`-${next.text}`), loc: this.loc(t) }, true);
      }
      // OPA's grammar has unary minus on number literals only (`-x` is `0 - x` nowhere)
      this.pos++;
      return this.fail(`unexpected ${next.kind === 'ident' ? 'ident' : describe(next)} token: expected number`);
    }
    return this.primary();
  }

  private primary(): Term {
    const t = this.tok;
    const loc = this.loc(t);
    switch (t.kind) {
      case 'number':
        this.pos++;
        return { type: 'scalar', value: parseNumber(t.text), loc };
      case 'string':
      case 'rawstring':
        this.pos++;
        return this.refTail({ type: 'scalar', value: t.text, loc }, true);
      case 'template': {
        this.pos++;
        const parts: Array<string | Term> = [];
        for (const p of t.parts ?? []) {
          if ('lit' in p) {
            if (p.lit) parts.push(p.lit);
          } else {
            const sub = new Parser(tokenize(p.expr, this.file, p.row, p.col), this.file, this.fresh);
            const term = sub.termIn();
            const e = sub.withs({ kind: 'term', term, negated: false, withs: [], loc: term.loc });
            if (!sub.atEnd()) sub.fail('unexpected token in template expression');
            parts.push(e.withs.length ? withValue(e, sub.templateVar()) : term);
          }
        }
        return { type: 'template', parts, loc };
      }
      case 'ident': {
        this.pos++;
        const glued = !this.tok.spaced && (this.is('.') || this.is('['));
        if (glued && ['true', 'false', 'null'].includes(t.text)) return this.refTail({ type: 'var', name: t.text, loc }, true);
        switch (t.text) {
          case 'true':
            return { type: 'scalar', value: true, loc };
          case 'false':
            return { type: 'scalar', value: false, loc };
          case 'null':
            return { type: 'scalar', value: null, loc };
          case 'set':
            if (this.is('(') && !this.tok.spaced && this.peek().text === ')') {
              this.pos += 2;
              return { type: 'set', items: [], loc };
            }
            break;
          case '_':
            return { type: 'var', name: `$_${this.wildcards++}`, loc };
        }
        if (KEYWORDS.has(t.text) && !glued) this.fail(`unexpected ${t.text} keyword`, t);
        return this.refTail({ type: 'var', name: t.text, loc }, true);
      }
      case 'punct':
        if (t.text === '(') {
          this.pos++;
          const inner = this.termIn(false, true);
          this.expect(')');
          return this.refTail(inner, true);
        }
        if (t.text === '[') return this.refTail(this.arrayLit(), true);
        if (t.text === '{') return this.refTail(this.braceLit(), true);
        break;
    }
    return this.fail(t.kind === 'eof' ? 'unexpected eof token' : `unexpected ${describe(t)} token`);
  }

  private arrayLit(): Term {
    const loc = this.loc();
    this.expect('[');
    if (this.accept(']')) return { type: 'array', items: [], loc };
    // as OPA: a comprehension head is one term (no infix operator outside parentheses); `[x * 10 | …]` is an error
    const head = this.singleTermThen('|');
    if (head) {
      const body = this.query(']');
      this.expect(']');
      return { type: 'arraycompr', head, body, loc };
    }
    const first = this.termIn(true);
    if (this.is('|')) this.fail('unexpected or token: expected "," or "]"');
    const items = [first];
    while (this.accept(',')) {
      if (this.is(']')) break;
      items.push(this.termIn());
    }
    this.expect(']');
    return { type: 'array', items, loc };
  }

  private braceLit(): Term {
    const loc = this.loc();
    this.expect('{');
    if (this.accept('}')) return { type: 'object', items: [], loc };
    const setHead = this.singleTermThen('|');
    if (setHead) {
      const body = this.query('}');
      this.expect('}');
      return { type: 'setcompr', head: setHead, body, loc };
    }
    const first = this.termIn(true);
    if (this.accept(':')) {
      // an object comprehension's key may be any term (`{a + 1: b | …}`), its value only a single term
      const value = this.singleTermThen('|');
      if (value) {
        const body = this.query('}');
        this.expect('}');
        return { type: 'objectcompr', key: first, value, body, loc };
      }
      const v = this.termIn(true);
      if (this.is('|')) this.fail('non-terminated object');
      const items: Array<[Term, Term]> = [[first, v]];
      while (this.accept(',')) {
        if (this.is('}')) break;
        const k = this.termIn();
        this.expect(':');
        items.push([k, this.termIn()]);
      }
      this.expect('}');
      return { type: 'object', items, loc };
    }
    if (this.is('|')) this.fail('non-terminated set');
    const items = [first];
    while (this.accept(',')) {
      if (this.is('}')) break;
      items.push(this.termIn());
    }
    this.expect('}');
    return { type: 'set', items, loc };
  }

  /** A single term (OPA's parseTerm: no infix operator) directly followed by `sep`, consumed; else null, nothing consumed. */
  private singleTermThen(sep: string): Term | null {
    const start = this.pos;
    // a term that does not parse here fails the same way as the start of a longer expression: let it throw
    const term = this.termUnary();
    if (this.accept(sep)) return term;
    // the caller parses an expression from here next: it starts with this very term (OPA's parsed-term cache)
    this.memo = { start, end: this.pos, term };
    this.pos = start;
    return null;
  }

  /** `.name`, `[term]` and `(args)` directly after a term (no whitespace), as OPA's parseRef/parseCall. */
  private refTail(head: Term, allowCall: boolean): Term {
    let cur = head;
    while (!this.tok.spaced) {
      if (this.is('.')) {
        this.pos++;
        const id = this.tok;
        if (id.kind !== 'ident' || id.spaced) this.fail(id.kind === 'eof' ? 'unexpected eof token: expected ident' : `unexpected ${describe(id)} token: expected ident`);
        this.pos++;
        cur = appendRef(cur, { type: 'scalar', value: id.text, loc: this.loc(id) });
      } else if (this.is('[')) {
        this.pos++;
        const key = this.termIn();
        this.expect(']');
        cur = appendRef(cur, key);
      } else if (this.is('(')) {
        const name = dottedName(cur);
        if (name === null) break;
        this.pos++;
        const args: Term[] = [];
        if (!this.is(')')) {
          args.push(this.termIn());
          while (this.accept(',')) {
            if (this.is(')')) break;
            args.push(this.termIn());
          }
        }
        this.expect(')');
        cur = { type: 'call', op: name, args, loc: cur.loc };
        if (!allowCall) return cur;
      } else break;
    }
    return cur;
  }
}

/** `var`, `ref` or `call` when a term holds one outside comprehensions (what a default value may not hold). */
function nonConstantKind(t: Term): string | null {
  switch (t.type) {
    case 'var':
      return t.name === 'input' || t.name === 'data' ? 'ref' : 'var';
    case 'ref':
      return 'ref';
    case 'call':
      return 'call';
    case 'template':
      for (const p of t.parts) {
        const k = typeof p === 'string' ? null : nonConstantKind(p);
        if (k) return k;
      }
      return null;
    case 'array':
    case 'set':
      for (const x of t.items) {
        const k = nonConstantKind(x);
        if (k) return k;
      }
      return null;
    case 'object':
      for (const [k, v] of t.items) {
        const found = nonConstantKind(k) ?? nonConstantKind(v);
        if (found) return found;
      }
      return null;
    default:
      return null;
  }
}

function appendRef(cur: Term, p: Term): Term {
  if (cur.type === 'ref') return { ...cur, path: [...cur.path, p] };
  return { type: 'ref', head: cur, path: [p], loc: cur.loc };
}

/** `a.b.c` as a function name, or null if the term is not a plain dotted name. */
function dottedName(t: Term): string | null {
  if (t.type === 'var') return t.name;
  if (t.type !== 'ref' || t.head.type !== 'var') return null;
  const parts = [t.head.name];
  for (const p of t.path) {
    if (p.type !== 'scalar' || typeof p.value !== 'string') return null;
    parts.push(p.value);
  }
  return parts.join('.');
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'eof';
    case 'ident':
      return t.text;
    case 'string':
    case 'rawstring':
      return 'string';
    case 'number':
      return 'number';
    case 'template':
      return 'template string';
    default:
      return t.text;
  }
}

export function parseModule(file: string, source: string): Module {
  const m = new Parser(tokenize(source, file), file).module();
  const blocks = metadataBlocks(file, source);
  if (blocks.size) {
    const pkg = blocks.get(m.pkgLoc.row);
    if (pkg) m.annotations = annotationsOf(pkg, 'package', file);
    for (const r of m.rules) {
      const a = blocks.get(r.loc.row);
      if (a) r.annotations = annotationsOf(a, 'rule', file);
    }
  }
  return m;
}

/** `# METADATA` comment blocks (YAML after the `#`), keyed by the row of the statement that follows each block. */
function metadataBlocks(file: string, source: string): Map<number, { doc: unknown; row: number }> {
  const out = new Map<number, { doc: unknown; row: number }>();
  if (!source.includes('METADATA')) return out;
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if ((lines[i] as string).trim() !== '# METADATA') continue;
    const yaml: string[] = [];
    let j = i + 1;
    for (; j < lines.length && (lines[j] as string).trimStart().startsWith('#'); j++) yaml.push((lines[j] as string).trimStart().slice(1).replace(/^ /, ''));
    let doc: unknown;
    try {
      doc = parseYAML(yaml.join('\n')) ?? {};
    } catch (err) {
      throw new RegoError('rego_parse_error', `yaml: ${(err as Error).message.split('\n')[0]}`, { file, row: i + 1, col: 1 });
    }
    let next = j;
    while (next < lines.length && (lines[next] as string).trim() === '') next++;
    out.set(next + 1, { doc, row: i + 1 });
    i = j - 1;
  }
  return out;
}

const SCOPES = new Set(['rule', 'document', 'package', 'subpackages']);

/** A METADATA block as OPA reports it: authors and related resources in object form, the scope made explicit. */
function annotationsOf(block: { doc: unknown; row: number }, scopeByDefault: 'rule' | 'package', file: string): Record<string, unknown> {
  const fail = (msg: string): never => {
    throw new RegoError('rego_parse_error', msg, { file, row: block.row, col: 1 });
  };
  const doc = block.doc;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return fail('invalid metadata: expected a YAML mapping');
  const out: Record<string, unknown> = { ...(doc as Record<string, unknown>) };
  const scope = out.scope ?? scopeByDefault;
  if (typeof scope !== 'string' || !SCOPES.has(scope)) return fail(`invalid annotation scope '${String(scope)}'`);
  if (scopeByDefault === 'rule' && (scope === 'package' || scope === 'subpackages')) return fail(`annotation scope '${scope}' must be applied to package`);
  out.scope = scope;
  if (Array.isArray(out.authors)) {
    out.authors = out.authors.map((a) => {
      if (typeof a !== 'string') return a;
      const m = /^(.*?)\s*<([^>]*)>$/.exec(a.trim());
      return m ? (m[1] ? { name: m[1], email: m[2] } : { email: m[2] }) : { name: a.trim() };
    });
  }
  if (Array.isArray(out.related_resources)) out.related_resources = out.related_resources.map((r) => (typeof r === 'string' ? { ref: r } : r));
  return out;
}

export function parseQuery(source: string, file = 'query'): Body {
  const p = new Parser(tokenize(source, file), file);
  const body = p.query(null);
  return body;
}

/** A single term (e.g. an `input_term`). */
export function parseTerm(source: string, file = 'term'): Term {
  const p = new Parser(tokenize(source, file), file);
  const t = p.termIn();
  if (!p.atEnd()) throw new RegoError('rego_parse_error', 'unexpected trailing tokens', { file, row: 1, col: 1 });
  return t;
}

/** `{x with input as v}` in a template: the first value of `[t | t = x with input as v]`, undefined when there is none. */
function withValue(e: Expr, name: string): Term {
  const loc = e.loc;
  const v: Term = { type: 'var', name, loc };
  const body: Expr = { kind: 'unify', left: v, right: (e as Extract<Expr, { kind: 'term' }>).term, assign: false, negated: false, withs: e.withs, loc };
  return { type: 'ref', head: { type: 'arraycompr', head: v, body: [body], loc }, path: [{ type: 'scalar', value: 0, loc }], loc };
}
