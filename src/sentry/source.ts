/** How Sentry's rows are labelled in source-agnostic tables (inbox, connections): other sources sit beside it. */
export const SENTRY_SOURCE = 'sentry';
