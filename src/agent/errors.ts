import { NotInMemoryError, QueryError } from '../memory/context/errors.js';

/** An error the agent can act on: the markdown says what to change, `missing` whether the thing asked about is not in memory. */
export interface AgentError {
  markdown: string;
  missing: boolean;
}

/** The one place typed memory errors become an answer for the agent (MCP tool error, HTTP body, CLI message); null for anything else. */
export function agentError(error: unknown): AgentError | null {
  if (error instanceof QueryError) return { markdown: error.message, missing: error instanceof NotInMemoryError };
  return null;
}
