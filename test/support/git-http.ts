// The loopback smart-HTTP Git server lives with the scenario runner, which uses it in product code.
export * from '../../scenarios/runner/git-http.ts';
