// The GitHub stand-in lives with the scenario runner, which uses it in product code.
export * from '../../scenarios/runner/github-standin.ts';
