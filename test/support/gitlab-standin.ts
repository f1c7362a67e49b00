// The GitLab stand-in lives with the scenario runner, which uses it in product code.
export * from '../../scenarios/runner/gitlab-standin.ts';
