// Builtins: graphql.parse, graphql.parse_and_verify, graphql.parse_query, graphql.parse_schema, graphql.is_valid, graphql.schema_is_valid
// (owner while building: B2)
import { register } from './registry.ts';

void register;
