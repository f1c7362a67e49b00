// Forges by id, as Renovate's platform/api.ts: adding GitLab is one new file next to github.ts plus one line here.
// Nothing else in arbiter names a forge: the CLI, the server config and the scenario runner all come through here.
import { InputError } from '../../engine/errors.ts';
import type { Forge } from './forge.ts';
import { GitHubForge } from './github.ts';
import { GitLabForge } from './gitlab.ts';

/** What every forge needs to be reached: the API base URL, the repository there, a token. */
export interface ForgeSettings {
  url: string;
  /** `OWNER/NAME` on the forge (GitLab: `GROUP/PROJECT`, subgroups allowed). */
  repo: string;
  token?: string;
  /** Retries after a rate limit (the forge's default when omitted). */
  rateLimitRetries?: number;
  log?: (line: string) => void;
}

type ForgeFactory = (settings: ForgeSettings) => Forge;

const FORGES = {
  github: (s) =>
    new GitHubForge({
      baseUrl: s.url,
      repository: s.repo,
      ...(s.token !== undefined ? { token: s.token } : {}),
      ...(s.rateLimitRetries !== undefined ? { rateLimitRetries: s.rateLimitRetries } : {}),
      ...(s.log ? { log: s.log } : {}),
    }),
  gitlab: (s) =>
    new GitLabForge({
      baseUrl: s.url,
      repository: s.repo,
      ...(s.token !== undefined ? { token: s.token } : {}),
      ...(s.rateLimitRetries !== undefined ? { rateLimitRetries: s.rateLimitRetries } : {}),
      ...(s.log ? { log: s.log } : {}),
    }),
} satisfies Record<string, ForgeFactory>;

export type ForgeId = keyof typeof FORGES;
export const FORGE_IDS = Object.keys(FORGES) as [ForgeId, ...ForgeId[]];

export function isForgeId(id: string): id is ForgeId {
  return Object.hasOwn(FORGES, id);
}

/** The forge `id` reaching `settings`; an unknown id is an InputError on `field` (default `forge`). */
export function createForge(id: string, settings: ForgeSettings, field = 'forge'): Forge {
  if (!isForgeId(id)) throw new InputError(`must be one of ${FORGE_IDS.join(', ')}`, field);
  return FORGES[id](settings);
}
