// Every file format arbiter reads, with its JSON Schema generated from the zod schema that validates it (issue 15
// item 4): printed by `arbiter schema NAME`, committed as schemas/NAME.json (a test keeps them in sync) and referenced
// from the shipped YAML files by `# yaml-language-server: $schema=…` comments so editors complete and check them.
import { z } from 'zod';
import { CelPolicyDocument } from '../../engine/cel/policy.ts';
import { CalendarSpec, CatalogDocument } from '../../engine/context.ts';
import { CelPolicyTestDocument } from '../../engine/policytest.ts';
import { BundleSettings } from '../../engine/settings.ts';
import { Context, Diagnosis } from '../../engine/types.ts';
import { LedgerEntrySchema } from '../../gitops/ledger.ts';
import { ScenarioSchema } from '../../scenarios/runner/schema.ts';
import { ServeConfigSchema } from '../../serve/config.ts';

export interface FileFormat {
  schema: z.ZodType;
  title: string;
  /** Where arbiter reads it. */
  files: string;
}

export const FILE_FORMATS: Record<string, FileFormat> = {
  diagnosis: { schema: Diagnosis, title: 'arbiter Diagnosis', files: '--diagnosis FILE, POST /v1/diagnoses, examples/*.yaml' },
  context: { schema: Context, title: 'arbiter Context', files: '--context FILE' },
  'cel-policy': { schema: CelPolicyDocument, title: 'arbiter CEL policy', files: '<bundle>/*.cel.yaml' },
  'cel-test': { schema: CelPolicyTestDocument, title: 'arbiter CEL policy tests', files: '<bundle>/*_test.cel.yaml' },
  settings: { schema: BundleSettings, title: 'arbiter bundle settings', files: '<bundle>/arbiter.yaml' },
  catalog: { schema: CatalogDocument, title: 'arbiter service catalog', files: '<repo>/.arbiter/catalog.yaml' },
  calendar: { schema: CalendarSpec, title: 'arbiter calendar', files: '<repo>/.arbiter/calendar.yaml' },
  scenario: { schema: ScenarioSchema, title: 'arbiter scenario', files: 'scenarios/*.yaml' },
  serve: { schema: ServeConfigSchema, title: 'arbiter serve configuration', files: 'serve --config FILE' },
  'ledger-entry': { schema: LedgerEntrySchema, title: 'arbiter ledger entry', files: 'arbiter/ledger: decisions/YYYY/MM/DD/*.json' },
};

/** The JSON Schema (draft 2020-12) of a format, for what a user writes (zod's input side: defaults are optional). */
export function fileFormatSchema(name: string): Record<string, unknown> {
  const format = FILE_FORMATS[name]!;
  const schema = z.toJSONSchema(format.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: `https://arbiter.dev/schemas/v1/${name}.json`, title: format.title };
}

/** The committed text of schemas/NAME.json. */
export function fileFormatSchemaText(name: string): string {
  return `${JSON.stringify(fileFormatSchema(name), null, 2)}\n`;
}
