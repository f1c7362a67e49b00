// The Git object model shared by the object store (./objects.ts) and the pack reader/writer (./pack.ts), kept apart
// so that neither imports the other for its types.
export type ObjectType = 'blob' | 'tree' | 'commit' | 'tag';

export interface GitObject {
  type: ObjectType;
  content: Buffer;
}
