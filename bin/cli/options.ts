// Options several commands share: the forge flags and the signing key, turned into library objects in one place.
import { InputError } from '../../engine/errors.ts';
import type { Forge } from '../../gitops/forge/forge.ts';
import { createForge, FORGE_IDS } from '../../gitops/forge/registry.ts';

export const FORGE_USAGE = `  --forge ${FORGE_IDS.join('|')}  the forge pull requests are opened on
  --forge-url URL          the forge's API base URL (e.g. https://api.github.com)
  --forge-repo OWNER/NAME  the repository on the forge (GitLab: GROUP/PROJECT)`;

/** The forge's token from the environment: ARBITER_GITHUB_TOKEN or ARBITER_GITLAB_TOKEN (GitLab also GITLAB_TOKEN), else ARBITER_GIT_TOKEN. */
export function forgeToken(forge: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const own = forge === 'gitlab' ? env.ARBITER_GITLAB_TOKEN || env.GITLAB_TOKEN : forge === 'github' ? env.ARBITER_GITHUB_TOKEN : undefined;
  return own || env.ARBITER_GIT_TOKEN || undefined;
}

/** `--forge ID --forge-url URL --forge-repo OWNER/NAME`, or undefined without `--forge`. */
export function forgeFromFlags(values: { forge?: string; 'forge-url'?: string; 'forge-repo'?: string }, command: string): Forge | undefined {
  if (values.forge === undefined) {
    if (values['forge-url'] || values['forge-repo']) throw new InputError(`--forge-url and --forge-repo need --forge ${FORGE_IDS.join('|')}`, '--forge');
    return undefined;
  }
  if (!values['forge-url']) throw new InputError(`required with --forge ${values.forge}`, '--forge-url');
  if (!values['forge-repo']) throw new InputError(`required with --forge ${values.forge}`, '--forge-repo');
  return createForge(values.forge, {
    url: values['forge-url'],
    repo: values['forge-repo'],
    ...(forgeToken(values.forge) ? { token: forgeToken(values.forge) } : {}),
    log: (line) => process.stderr.write(`arbiter ${command}: ${line}\n`),
  });
}
