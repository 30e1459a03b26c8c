/** A question the memory cannot answer as asked; the message says what to change. */
export class QueryError extends Error {}

/** The thing asked about is not in memory (yet). */
export class NotInMemoryError extends QueryError {}
