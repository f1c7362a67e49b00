// A real Prometheus for tests: Debian's `prometheus` binary on 127.0.0.1 with a temporary config and storage,
// scraping a loopback `/metrics` exporter whose gauges the test sets (scrape interval 1 s).
//
//   const exporter = await startExporter();
//   exporter.set('arbiter_test_error_rate', { service: 'checkout' }, 0.2);
//   const prom = await startPrometheus({ targets: [exporter.hostPort] });
//   await prom.waitFor('arbiter_test_error_rate{service="checkout"}', (v) => v === 0.2);
//   await prom.close(); await exporter.close();
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingLine, TOOLS } from './prereqs.ts';

export interface Exporter {
  hostPort: string;
  set(name: string, labels: Record<string, string>, value: number): void;
  scrapes: number;
  close(): Promise<void>;
}

export async function startExporter(): Promise<Exporter> {
  const series = new Map<string, { name: string; labels: Record<string, string>; value: number }>();
  const exporter = { scrapes: 0 } as Exporter;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    exporter.scrapes++;
    const names = new Set([...series.values()].map((s) => s.name));
    const lines: string[] = [];
    for (const name of names) {
      lines.push(`# HELP ${name} set by the test`, `# TYPE ${name} gauge`);
      for (const s of series.values()) {
        if (s.name !== name) continue;
        const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${v.replace(/["\\]/g, '\\$&')}"`).join(',');
        lines.push(`${name}${labels ? `{${labels}}` : ''} ${s.value}`);
      }
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  exporter.hostPort = `127.0.0.1:${port}`;
  exporter.set = (name, labels, value) => series.set(`${name}${JSON.stringify(labels)}`, { name, labels, value });
  exporter.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return exporter;
}

export function findPrometheus(): string {
  const found = TOOLS.prometheus.locate();
  if (!found) throw new Error(missingLine('prometheus'));
  return found;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PrometheusProcess {
  url: string;
  /** Polls an instant query until `accept` holds for its first value (default: any value), bounded. */
  waitFor(query: string, accept?: (value: number) => boolean, timeoutMs?: number): Promise<number>;
  /** SIGSTOP / SIGCONT: a Prometheus that accepts connections and never answers (timeout tests). */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startPrometheus(options: { targets: string[]; timeoutMs?: number }): Promise<PrometheusProcess> {
  const binary = findPrometheus();
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-prometheus-'));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: arbiter-test\n    scrape_interval: 1s\n    static_configs:\n      - targets: [${options.targets.map((t) => JSON.stringify(t)).join(', ')}]\n`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log: string[] = [];
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1h', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString('utf8')));
  let exited = false;
  child.on('exit', () => (exited = true));
  const close = async (): Promise<void> => {
    if (!exited) child.kill('SIGCONT');
    if (!exited) {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
      if (!exited) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (exited) {
      await close();
      throw new Error(`prometheus exited during start-up: ${log.join('').slice(-2000)}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok).catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`prometheus was not ready within ${options.timeoutMs ?? 20_000} ms: ${log.join('').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async waitFor(query, accept = () => true, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const body = (await fetch(`${url}/api/v1/query?${new URLSearchParams({ query })}`).then((r) => r.json())) as { data?: { result?: Array<{ value: [number, string] }> } };
        const value = body.data?.result?.[0] ? Number(body.data.result[0].value[1]) : undefined;
        if (value !== undefined && accept(value)) return value;
        if (Date.now() > until) throw new Error(`prometheus: ${query} did not reach the expected value within ${timeoutMs} ms (last ${value})`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    close,
  };
}
