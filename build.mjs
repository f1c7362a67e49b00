// `npm run build` (also run by `npm ci` through `prepare`): bundles the CLI into plain ESM under dist/js/ that
// bin/arbiter runs without a transpiler. One chunk per lazily imported command/engine, so a command loads only what
// it uses; npm packages stay external (node_modules). Type checking is `npm run typecheck`'s job, not the build's.
// Data files (policies/, scenarios/fixtures/) are read live from the checkout, never copied: `import.meta.url` in a
// source becomes that source's own URL, computed from the chunk's (every chunk sits in dist/js/, two levels down).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

const OUT = 'dist/js';
const startedAtMs = Date.now();
rmSync(OUT, { recursive: true, force: true });
const result = await build({
  entryPoints: { main: 'bin/cli/main.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // npm packages are bundled too: zod alone is ~95 ESM files, yaml ~30 CJS files; one chunk loads far faster.
  // CommonJS inside them calls require() for node built-ins, which ESM output provides through createRequire.
  banner: { js: "import { createRequire as __arbiterCreateRequire } from 'node:module'; const require = __arbiterCreateRequire(import.meta.url);" },
  outdir: OUT,
  chunkNames: '[name]-[hash]',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  plugins: [sourceUrls()],
});
/** Rewrites `import.meta.url` in our sources to the source file's URL, relative to the chunk it lands in. */
function sourceUrls() {
  return {
    name: 'source-urls',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.includes('/node_modules/')) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (/import\.meta\.(dirname|filename)/.test(text)) {
          return { errors: [{ text: 'use fileURLToPath(import.meta.url): import.meta.dirname/filename would name the bundle chunk' }] };
        }
        if (!text.includes('import.meta.url')) return undefined;
        const source = JSON.stringify(`../../${relative(process.cwd(), args.path)}`);
        return { contents: text.replaceAll('import.meta.url', `new URL(${source}, import.meta.url).href`), loader: 'ts' };
      });
    },
  };
}

// bin/arbiter compares these sources' mtimes with the build time and falls back to tsx when any is newer
const sources = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/') && !f.startsWith('(disabled)')).sort();
mkdirSync(OUT, { recursive: true });
writeFileSync(`${OUT}/sources.json`, `${JSON.stringify({ builtAtMs: startedAtMs, sources })}\n`);
