// Container image references: split `repo:tag@digest` and compare repositories the way a registry does.

export interface ImageRef {
  /** The repository exactly as written (no tag, no digest). */
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImageRef(ref: string): ImageRef {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) return { repository: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { repository: rest, digest };
}

/** `nginx` and `docker.io/library/nginx` are the same repository. */
export function canonicalRepository(repository: string): string {
  const parts = repository.toLowerCase().split('/');
  const hasRegistry = parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost');
  if (hasRegistry) return parts[0] === 'index.docker.io' ? ['docker.io', ...parts.slice(1)].join('/') : parts.join('/');
  return parts.length === 1 ? `docker.io/library/${parts[0]}` : `docker.io/${parts.join('/')}`;
}

export const sameRepository = (a: string, b: string): boolean => canonicalRepository(a) === canonicalRepository(b);
