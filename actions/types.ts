// The contract between a Decision and the GitOps tree (DESIGN §5): each action kind plans file edits.
import type { z } from 'zod';
import type { Action, ActionKind, CatalogService, Context } from '../engine/types.ts';
import { ArbiterError, type ErrorKind } from '../engine/errors.ts';

/** A read-only view of the target branch's tree. Paths are repository-relative, '/'-separated. */
export interface TreeView {
  /** File contents as UTF-8, or undefined when the path is not a file. */
  read(path: string): string | undefined;
  /** Every file path under `prefix` (all files when omitted), sorted. */
  list(prefix?: string): string[];
}

/** One commit of the target branch's history, newest first in `HistoryView.log`. */
export interface HistoryCommit {
  oid: string;
  parents: string[];
  message: string;
  /** Files this commit changed relative to its first parent. */
  changed: string[];
  /** The commit's `Arbiter-Action` trailer (as git reads trailers) when arbiter wrote it, else null. */
  arbiterAction: string | null;
}

/** What `rollback` needs from Git history; implemented by `gitops/`. */
export interface HistoryView {
  /**
   * Commits of the branch's first-parent history that changed any of `paths` (prefix match), newest first, looking
   * at most `depth` commits back from the tip.
   */
  commitsTouching(paths: string[], limit?: number, depth?: number): Promise<HistoryCommit[]>;
  /** True when `oid` is the tip or one of its first-parent ancestors within `depth` commits (the branch really had it). */
  onFirstParentHistory(oid: string, depth: number): Promise<boolean>;
  /** The tree as it was at `oid`. */
  treeAt(oid: string): Promise<TreeView>;
}

/** A whole-file edit; `before`/`after` null mean absent (create/delete). */
export interface FileEdit {
  path: string;
  before: string | null;
  after: string | null;
}

export type RiskLevel = 'low' | 'medium' | 'high';

export interface VerificationSpec {
  metric: string;
  direction: 'decrease' | 'increase';
  window: string;
}

export interface PlanInput {
  tree: TreeView;
  action: Action;
  service: CatalogService;
  context: Context;
  history?: HistoryView;
  /** Settings from the bundle (e.g. the staged-rollout validation period). */
  settings?: Record<string, unknown>;
  /** The diagnosis target's environment: picks the Kustomize overlay to edit (default `production`). */
  environment?: string;
}

export interface Plan {
  edits: FileEdit[];
  /** Sentences for the rationale / PR body, e.g. "replicas clamped to 20 (catalog bound)". */
  notes: string[];
  /** The action with params as actually applied (after clamping and defaults). */
  applied: Action;
  /** A follow-up recorded in the ledger: scheduled revert or pending production step. */
  followUp?: {
    kind: 'revert' | 'promote';
    due: string;
    action: Action;
    detail: string;
    /** The environment the follow-up is planned for (the overlay the original plan edited or promotes to). */
    environment?: string;
  };
}

export interface ActionDefinition<P extends z.ZodType = z.ZodType> {
  kind: ActionKind;
  params: P;
  risk: RiskLevel;
  /** Plain-language description used in commit subjects: e.g. "roll back to 1.4.1". */
  describe(action: Action): string;
  plan(input: PlanInput): Promise<Plan>;
  /** The inverse action, given what the plan changed. */
  compensate(plan: Plan): FileEdit[];
  verification: VerificationSpec;
}

/** A plan was refused: outside allowed paths, breaks rendering, switches image repository, … */
export class PlanRefusedError extends ArbiterError {
  readonly kind: ErrorKind = 'check';
  constructor(message: string) {
    super(message);
  }
}
