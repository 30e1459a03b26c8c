/** The ceiling: a bare node:http server that only verifies the HMAC over the raw body and answers 200. */
import { createServer } from 'node:http';
import { verifySignature } from '../src/sentry/webhooks/signature.js';

const secrets = [process.env.SENTRY_CLIENT_SECRET ?? 'bench-secret'];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const signature = req.headers['sentry-hook-signature'];
    const ok = verifySignature(Buffer.concat(chunks), Array.isArray(signature) ? signature[0] : signature, secrets);
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(ok ? '{"ok":true}' : '{"ok":false}');
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`Server listening at http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
});
