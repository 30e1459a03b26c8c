/**
 * Vocabulary the seeder draws from: projects with their source trees, realistic error
 * messages per runtime, people, teams and commit messages.
 */

export type Runtime = 'node' | 'browser' | 'python' | 'go';

export interface SourceFile {
  path: string;
  functions: string[];
}

export interface ProjectBlueprint {
  slug: string;
  /** Sentry project platform. */
  platform: string;
  runtime: Runtime;
  teamSlug: string;
  files: SourceFile[];
}

export const PROJECT_BLUEPRINTS: readonly ProjectBlueprint[] = [
  {
    slug: 'checkout-api',
    platform: 'node-express',
    runtime: 'node',
    teamSlug: 'backend',
    files: [
      { path: 'src/routes/checkout.ts', functions: ['createCheckout', 'confirmCheckout'] },
      { path: 'src/services/cart.ts', functions: ['loadCart', 'applyDiscount', 'priceLineItems'] },
      { path: 'src/services/payment.ts', functions: ['chargeCard', 'capturePayment', 'refundPayment'] },
      { path: 'src/db/orders.ts', functions: ['insertOrder', 'findOrderById'] },
      { path: 'src/middleware/auth.ts', functions: ['requireSession', 'decodeJwt'] },
      { path: 'src/lib/http-client.ts', functions: ['request', 'withRetry'] },
    ],
  },
  {
    slug: 'web-app',
    platform: 'javascript-react',
    runtime: 'browser',
    teamSlug: 'frontend',
    files: [
      { path: 'src/components/CartDrawer.tsx', functions: ['CartDrawer', 'renderLineItem'] },
      { path: 'src/components/ProductGrid.tsx', functions: ['ProductGrid', 'useInfiniteProducts'] },
      { path: 'src/pages/Checkout.tsx', functions: ['CheckoutPage', 'handleSubmit'] },
      { path: 'src/hooks/useSession.ts', functions: ['useSession', 'refreshSession'] },
      { path: 'src/api/client.ts', functions: ['apiFetch', 'parseResponse'] },
      { path: 'src/store/cartSlice.ts', functions: ['addItem', 'removeItem', 'hydrateCart'] },
    ],
  },
  {
    slug: 'payments-worker',
    platform: 'python',
    runtime: 'python',
    teamSlug: 'payments',
    files: [
      { path: 'payments/tasks/settle.py', functions: ['settle_batch', 'settle_transaction'] },
      { path: 'payments/tasks/refund.py', functions: ['process_refund', 'notify_refund'] },
      { path: 'payments/providers/stripe_gateway.py', functions: ['create_charge', 'retrieve_intent'] },
      { path: 'payments/models/ledger.py', functions: ['post_entry', 'balance_for'] },
      { path: 'payments/utils/money.py', functions: ['to_minor_units', 'convert_currency'] },
    ],
  },
  {
    slug: 'inventory-service',
    platform: 'go',
    runtime: 'go',
    teamSlug: 'backend',
    files: [
      { path: 'internal/stock/reserve.go', functions: ['Reserve', 'releaseExpired'] },
      { path: 'internal/stock/store.go', functions: ['(*Store).Get', '(*Store).Decrement'] },
      { path: 'internal/http/handlers.go', functions: ['handleReserve', 'handleRestock'] },
      { path: 'internal/events/publisher.go', functions: ['(*Publisher).Publish', 'encodeEvent'] },
    ],
  },
  {
    slug: 'notifications-worker',
    platform: 'python-celery',
    runtime: 'python',
    teamSlug: 'platform',
    files: [
      { path: 'notifications/tasks/email.py', functions: ['send_receipt', 'render_template'] },
      { path: 'notifications/tasks/push.py', functions: ['send_push', 'fan_out'] },
      { path: 'notifications/clients/sendgrid.py', functions: ['post_mail', 'handle_bounce'] },
    ],
  },
  {
    slug: 'search-api',
    platform: 'node',
    runtime: 'node',
    teamSlug: 'platform',
    files: [
      { path: 'src/search/query-builder.ts', functions: ['buildQuery', 'parseFilters'] },
      { path: 'src/search/indexer.ts', functions: ['indexProduct', 'bulkIndex'] },
      { path: 'src/routes/search.ts', functions: ['searchHandler', 'suggestHandler'] },
    ],
  },
  {
    slug: 'admin-dashboard',
    platform: 'javascript-react',
    runtime: 'browser',
    teamSlug: 'frontend',
    files: [
      { path: 'src/views/Orders.tsx', functions: ['OrdersView', 'useOrderFilters'] },
      { path: 'src/views/Refunds.tsx', functions: ['RefundsView', 'confirmRefund'] },
      { path: 'src/lib/format.ts', functions: ['formatMoney', 'formatDate'] },
    ],
  },
];

export interface ErrorTemplate {
  type: string;
  /** `{prop}`, `{status}`, `{n}` are filled in by the seeder. */
  value: string;
  handled: boolean;
  level: 'fatal' | 'error' | 'warning';
}

export const ERROR_TEMPLATES: Record<Runtime, readonly ErrorTemplate[]> = {
  node: [
    {
      type: 'TypeError',
      value: "Cannot read properties of undefined (reading '{prop}')",
      handled: false,
      level: 'error',
    },
    {
      type: 'TypeError',
      value: "Cannot destructure property '{prop}' of 'req.body' as it is undefined.",
      handled: false,
      level: 'error',
    },
    { type: 'Error', value: 'Request failed with status code {status}', handled: true, level: 'error' },
    { type: 'Error', value: 'connect ECONNREFUSED 10.0.{n}.12:5432', handled: false, level: 'fatal' },
    { type: 'RangeError', value: 'Maximum call stack size exceeded', handled: false, level: 'error' },
    { type: 'SyntaxError', value: 'Unexpected token < in JSON at position 0', handled: true, level: 'warning' },
    { type: 'Error', value: 'Timeout of {n}000ms exceeded', handled: true, level: 'warning' },
  ],
  browser: [
    { type: 'TypeError', value: "Cannot read properties of null (reading '{prop}')", handled: false, level: 'error' },
    {
      type: 'TypeError',
      value: "undefined is not an object (evaluating 'state.{prop}')",
      handled: false,
      level: 'error',
    },
    { type: 'ChunkLoadError', value: 'Loading chunk {n} failed.', handled: false, level: 'error' },
    { type: 'TypeError', value: 'Failed to fetch', handled: true, level: 'warning' },
    {
      type: 'Error',
      value: 'Minified React error #{n}; visit https://react.dev/errors/{n}',
      handled: false,
      level: 'error',
    },
    { type: 'ReferenceError', value: '{prop} is not defined', handled: false, level: 'error' },
  ],
  python: [
    { type: 'KeyError', value: "'{prop}'", handled: false, level: 'error' },
    { type: 'ValueError', value: "invalid literal for int() with base 10: '{prop}'", handled: false, level: 'error' },
    {
      type: 'ConnectionError',
      value: "HTTPSConnectionPool(host='api.stripe.com', port=443): Max retries exceeded",
      handled: true,
      level: 'error',
    },
    {
      type: 'IntegrityError',
      value: 'duplicate key value violates unique constraint "ledger_entry_{prop}_key"',
      handled: false,
      level: 'error',
    },
    { type: 'TimeoutError', value: 'Task timed out after {n} seconds', handled: true, level: 'warning' },
    { type: 'AttributeError', value: "'NoneType' object has no attribute '{prop}'", handled: false, level: 'error' },
  ],
  go: [
    {
      type: 'runtime.Error',
      value: 'invalid memory address or nil pointer dereference',
      handled: false,
      level: 'fatal',
    },
    { type: '*errors.errorString', value: 'context deadline exceeded', handled: true, level: 'error' },
    { type: '*pq.Error', value: 'pq: deadlock detected', handled: true, level: 'error' },
    { type: '*fmt.wrapError', value: 'reserve sku {n}: insufficient stock', handled: true, level: 'warning' },
    { type: 'runtime.Error', value: 'index out of range [{n}] with length {n}', handled: false, level: 'fatal' },
  ],
};

export const PROPERTY_NAMES = [
  'id',
  'userId',
  'items',
  'total',
  'currency',
  'token',
  'address',
  'sku',
  'price',
  'session',
  'email',
  'quantity',
];
export const HTTP_STATUSES = [400, 401, 404, 409, 422, 500, 502, 503];

export const FIRST_NAMES = [
  'Jane',
  'Omar',
  'Priya',
  'Lukas',
  'Mei',
  'Carlos',
  'Aisha',
  'Tom',
  'Sofia',
  'Kenji',
  'Nadia',
  'Ben',
  'Elena',
  'Yusuf',
  'Grace',
  'Ravi',
];
export const LAST_NAMES = [
  'Developer',
  'Haddad',
  'Raman',
  'Becker',
  'Chen',
  'Alvarez',
  'Okafor',
  'Nguyen',
  'Rossi',
  'Tanaka',
  'Petrova',
  'Cohen',
  'Silva',
  'Kaya',
  'Moore',
  'Iyer',
];

export const TEAM_SLUGS = ['backend', 'frontend', 'payments', 'platform'];

export const COMMIT_VERBS = ['Fix', 'Handle', 'Add', 'Refactor', 'Guard against', 'Retry', 'Log', 'Remove'];
export const COMMIT_SUBJECTS = [
  'missing {prop} in {file}',
  'null {prop} when cart is empty',
  'timeout handling in {file}',
  'duplicate submissions in {file}',
  'stale session refresh',
  'currency rounding for refunds',
  'pagination of order history',
  'race in stock reservation',
  'error reporting context',
  'flaky retry backoff',
];

export const COMMENT_TEXTS = [
  'Investigating after the latest deploy.',
  'Looks related to the cart refactor, checking.',
  'Seeing this only in production, staging is clean.',
  'Customer reported this via support ticket.',
  'Fix is in review, should go out with the next release.',
  'Could not reproduce locally. Need more context.',
  'Spiked after the DB failover last night.',
  'Assigning to payments, looks like a gateway issue.',
];

export const ENVIRONMENTS = ['production', 'staging'] as const;
