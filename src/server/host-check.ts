import type { FastifyReply, FastifyRequest } from 'fastify';

/** Hostnames a local server answers to unless told otherwise. */
export const LOCAL_HOSTNAMES = ['localhost', '127.0.0.1', '[::1]'];

/** `Host: example.com:8787` → `example.com`; `[::1]:8787` → `[::1]`. */
function hostnameOf(host: string): string {
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith('[')) return trimmed.slice(0, trimmed.indexOf(']') + 1);
  return trimmed.split(':')[0];
}

/**
 * DNS-rebinding protection: a web page whose domain is re-pointed at this machine reaches it with
 * its own domain in `Host` and `Origin`. Only requests naming an allowed hostname (any port) are
 * served; requests from a browser page must also come from an allowed origin.
 */
export function hostGuard(allowedHostnames: readonly string[]) {
  const allowed = new Set(allowedHostnames.map((h) => h.toLowerCase()));
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const host = request.headers.host;
    if (!host || !allowed.has(hostnameOf(host))) {
      await reply.code(403).send({
        error: `Host "${host ?? ''}" is not allowed; add it with --allowed-hosts if this server is meant to be reached by that name`,
      });
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined) {
      const originHost = URL.canParse(origin) ? new URL(origin).host : '';
      if (!originHost || !allowed.has(hostnameOf(originHost))) {
        await reply.code(403).send({ error: `Origin "${origin}" is not allowed` });
      }
    }
  };
}
