/**
 * createApp(deps): the HTTP surface. /_datamesh/ holds the server's own endpoints (health, metrics,
 * admin API); everything else is S3. No I/O happens at import or construction.
 */
import { Hono, type Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { ObjectStore } from '../core/object-store.ts';
import { createS3Service, type S3ServiceDeps } from '../../s3/service.ts';

export interface AppDeps extends S3ServiceDeps {
  store: ObjectStore;
  /** Extra routes under /_datamesh/ (admin API, metrics), mounted before the S3 catch-all. */
  mount?: (app: Hono<{ Bindings: HttpBindings }>) => void;
}

export function createApp(deps: AppDeps): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  const s3 = createS3Service(deps);

  // The S3 service answers Expect: 100-continue itself, after authorization; the server's own
  // endpoints and the console read their bodies at once.
  app.use('*', async function expectContinue(c, next) {
    const { incoming, outgoing } = c.env ?? {};
    if (incoming?.headers.expect?.toLowerCase() === '100-continue' && /^\/(_datamesh\/.|console(\/|$))/.test(c.req.path)) outgoing.writeContinue();
    await next();
  });

  app.get('/_datamesh/health/live', (c) => c.json({ status: 'live' }));
  app.get('/_datamesh/health/ready', async (c) => {
    const ready = await deps.store.ready().catch(() => false);
    return c.json({ status: ready ? 'ready' : 'not ready' }, ready ? 200 : 503);
  });
  deps.mount?.(app);
  const toS3 = async (c: Context<{ Bindings: HttpBindings }>) => {
    await s3(c.env.incoming, c.env.outgoing);
    return RESPONSE_ALREADY_SENT;
  };
  app.all('/_datamesh/*', (c) =>
    /^\/_datamesh\/./.test(c.req.path)
      ? c.json({ error: { code: 'NotFound', message: `No datamesh endpoint at ${c.req.path}; see the README for /_datamesh/ endpoints.` } }, 404)
      : toS3(c),
  );
  app.all('*', toS3);
  return app;
}
