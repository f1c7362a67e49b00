// A loopback stand-in for the Anthropic Messages API (POST /v1/messages, non-streaming JSON) that replays a scripted
// conversation and records what the client sent. It checks requests as the real API does where arbiter could get it
// wrong: the API key (x-api-key or a bearer token) and anthropic-version headers, tool names and schemas, tool_choice naming an offered tool, and
// every tool_use of the previous assistant turn answered by a tool_result in the next user turn.
//
//   const api = await startAnthropicStandin([
//     reply([toolUse('prometheus_query', { query: 'up' })]),
//     overloaded({ retryAfter: 0 }),                          // 529 {type:"error",error:{type:"overloaded_error"}}
//     (req) => reply([toolUse('submit_diagnosis', { ...req.body })]),   // a turn computed from the request
//   ]);
//   process.env.ANTHROPIC_BASE_URL = api.url;  api.requests[0].body.tools …;  await api.close();
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown };

export interface RecordedRequest {
  headers: IncomingMessage['headers'];
  body: any;
}

export type Turn =
  | { kind: 'reply'; content: Block[]; stopReason?: string; usage?: { input_tokens: number; output_tokens: number } }
  | { kind: 'error'; status: number; type: string; message: string; headers?: Record<string, string> };

export type ScriptStep = Turn | ((request: RecordedRequest, index: number) => Turn);

export const text = (t: string): Block => ({ type: 'text', text: t });
export const toolUse = (name: string, input: unknown, id = `toolu_${randomBytes(8).toString('hex')}`): Block => ({ type: 'tool_use', id, name, input });
export const reply = (content: Block[], options: { stopReason?: string; usage?: { input_tokens: number; output_tokens: number } } = {}): Turn => ({ kind: 'reply', content, ...options });
export const overloaded = (options: { retryAfter?: number } = {}): Turn => ({ kind: 'error', status: 529, type: 'overloaded_error', message: 'Overloaded', headers: { 'retry-after': String(options.retryAfter ?? 0) } });
export const rateLimited = (options: { retryAfter?: number } = {}): Turn => ({ kind: 'error', status: 429, type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit', headers: { 'retry-after': String(options.retryAfter ?? 0) } });

export interface AnthropicStandin {
  url: string;
  requests: RecordedRequest[];
  /** Steps not yet replayed. */
  readonly remaining: number;
  push(...steps: ScriptStep[]): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_standin_${randomBytes(6).toString('hex')}`, 'content-length': String(Buffer.byteLength(json)), ...headers });
  res.end(json);
}

function apiError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  send(res, status, { type: 'error', error: { type, message }, request_id: `req_standin_${randomBytes(6).toString('hex')}` }, { ...headers, ...(status === 529 || status === 429 ? { 'x-should-retry': 'true' } : {}) });
}

/** What the real API refuses with 400 invalid_request_error; undefined when the request is well-formed. */
function malformed(body: any): string | undefined {
  if (!body || typeof body !== 'object') return 'the body must be a JSON object';
  if (typeof body.model !== 'string' || !body.model) return 'model: Field required';
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) return 'max_tokens: Field required';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: at least one message is required';
  const names = new Set<string>();
  for (const [i, tool] of (body.tools ?? []).entries()) {
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(tool?.name ?? '')) return `tools.${i}.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`;
    if (tool.input_schema?.type !== 'object') return `tools.${i}.input_schema.type: Input should be 'object'`;
    names.add(tool.name);
  }
  if (body.tool_choice?.type === 'tool' && !names.has(body.tool_choice.name)) return `tool_choice: tool ${body.tool_choice.name} is not among the offered tools`;
  for (let i = 0; i < body.messages.length; i++) {
    const m = body.messages[i];
    if (m.role !== (i % 2 === 0 ? 'user' : 'assistant')) return `messages: roles must alternate between "user" and "assistant", starting with "user"`;
    if (m.role !== 'assistant' || !Array.isArray(m.content)) continue;
    const uses = m.content.filter((b: any) => b.type === 'tool_use').map((b: any) => b.id);
    if (uses.length === 0) continue;
    const next = body.messages[i + 1];
    const answered = new Set(Array.isArray(next?.content) ? next.content.filter((b: any) => b.type === 'tool_result').map((b: any) => b.tool_use_id) : []);
    const missing = uses.filter((id: string) => !answered.has(id));
    if (next && missing.length) return `messages.${i + 1}: tool_use ids were found without tool_result blocks immediately after: ${missing.join(', ')}`;
  }
  return undefined;
}

export async function startAnthropicStandin(script: ScriptStep[] = [], options: { apiKey?: string } = {}): Promise<AnthropicStandin> {
  const steps = [...script];
  const requests: RecordedRequest[] = [];
  let served = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/v1/messages') return apiError(res, 404, 'not_found_error', `${req.method} ${req.url} is not served by the stand-in`);
      // the key comes as x-api-key or, from newer SDKs, as a bearer token
      const key = req.headers['x-api-key'] ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!key || (options.apiKey && key !== options.apiKey)) return apiError(res, 401, 'authentication_error', 'invalid x-api-key');
      if (!req.headers['anthropic-version']) return apiError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return apiError(res, 400, 'invalid_request_error', 'the body is not valid JSON');
      }
      const request = { headers: req.headers, body };
      requests.push(request);
      const problem = malformed(body);
      if (problem) return apiError(res, 400, 'invalid_request_error', problem);
      const step = steps.shift();
      if (!step) return apiError(res, 400, 'invalid_request_error', `stand-in: the script has no turn left for request ${requests.length}`);
      const turn = typeof step === 'function' ? step(request, served) : step;
      served++;
      if (turn.kind === 'error') return apiError(res, turn.status, turn.type, turn.message, turn.headers);
      const output = JSON.stringify(turn.content);
      send(res, 200, {
        id: `msg_standin_${served}`,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content: turn.content,
        stop_reason: turn.stopReason ?? (turn.content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'),
        stop_sequence: null,
        usage: turn.usage ?? { input_tokens: Math.ceil(JSON.stringify(body).length / 4), output_tokens: Math.ceil(output.length / 4), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get remaining() {
      return steps.length;
    },
    push: (...more) => steps.push(...more),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
