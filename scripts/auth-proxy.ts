/**
 * Forwards every request to `target`, adding `Authorization: Bearer <key>` and keeping every other
 * header as sent — Host and Origin included, so DNS-rebinding checks see exactly what the client sent.
 * Exists because the MCP conformance runner cannot send an API key. Prints its URL on stdout.
 *
 *   tsx scripts/auth-proxy.ts <target-origin> <key-env-var>
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const [target, keyVariable] = process.argv.slice(2);
const key = keyVariable ? process.env[keyVariable] : undefined;
if (!target || !key) {
  console.error('usage: tsx scripts/auth-proxy.ts <target-origin> <name of the env variable holding the API key>');
  process.exit(2);
}
const upstream = new URL(target);

const server = createServer((incoming, outgoing) => {
  const forwarded = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: incoming.method,
      path: incoming.url,
      headers: { ...incoming.headers, authorization: `Bearer ${key}` },
    },
    (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    },
  );
  forwarded.on('error', (error) => {
    outgoing.writeHead(502).end(String(error));
  });
  incoming.pipe(forwarded);
});
server.listen(0, '127.0.0.1', () => {
  console.log(`http://localhost:${(server.address() as AddressInfo).port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
