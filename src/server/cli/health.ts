/**
 * `datamesh health [--endpoint URL] [--wait DUR]`: exit 0 once GET /_datamesh/health/ready answers
 * 200, 1 otherwise. The container's HEALTHCHECK and the systemd unit's readiness check run it, so
 * neither needs curl. Without --endpoint: DATAMESH_ENDPOINT, else the address of DATAMESH_LISTEN
 * (0.0.0.0 and :: asked on loopback), else http://127.0.0.1:9000.
 */
import { ConfigError, parseDuration } from '../config.ts';
import type { CommandContext } from './types.ts';

export function healthEndpoint(values: CommandContext['values'], env: CommandContext['io']['env']): string {
  if (typeof values.endpoint === 'string') return values.endpoint;
  if (env.DATAMESH_ENDPOINT) return env.DATAMESH_ENDPOINT;
  const listen = env.DATAMESH_LISTEN;
  if (listen) {
    const i = listen.lastIndexOf(':');
    const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
    const local = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    return `http://${local.includes(':') ? `[${local}]` : local}:${listen.slice(i + 1)}`;
  }
  return 'http://127.0.0.1:9000';
}

export async function healthCommand({ values, io }: CommandContext): Promise<number> {
  const base = healthEndpoint(values, io.env);
  let waitMs = 0;
  try {
    if (typeof values.wait === 'string') waitMs = parseDuration(values.wait);
  } catch (e) {
    throw new ConfigError(`--wait: ${(e as Error).message}`);
  }
  const url = new URL('/_datamesh/health/ready', base);
  const deadline = Date.now() + waitMs;
  let last = '';
  for (;;) {
    try {
      const r = await (io.fetch ?? fetch)(url, { signal: AbortSignal.timeout(5_000) });
      await r.body?.cancel();
      if (r.status === 200) {
        io.stdout.write(`ready: ${url}\n`);
        return 0;
      }
      last = `HTTP ${r.status}`;
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      last = err.cause?.code ?? err.message;
    }
    if (Date.now() >= deadline) break;
    await new Promise((ok) => setTimeout(ok, Math.min(500, Math.max(0, deadline - Date.now()))));
  }
  io.stderr.write(`datamesh: not ready: ${url} (${last})${waitMs > 0 ? ` after ${values.wait}` : ''}\n`);
  return 1;
}
