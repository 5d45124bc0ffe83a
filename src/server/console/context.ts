/** What the console's routes get: its dependencies and the per-request context of a signed-in key. */
import type { Context } from 'hono';
import type { Accounts } from '../../../accounts/accounts.ts';
import type { AdminClient } from '../../../accounts/client.ts';
import type { Viewer } from './layout.ts';
import type { S3As } from './s3-client.ts';
import type { Session, SessionOptions } from './session.ts';

export interface ConsoleDeps {
  /** The accounts service: key -> secret and account, the role, the account's own quota and metering. */
  accounts: Pick<Accounts, 'lookup' | 'isAdmin' | 'getAccount' | 'usageReport'>;
  region: string;
  /** This server's own address (the console's S3 and admin requests go there). */
  self: () => string;
  log?: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
  sessions?: SessionOptions;
}

export type ConsoleEnv = {
  Variables: {
    session: Session;
    viewer: Viewer;
    /** S3 as the signed-in key. */
    s3: S3As;
    /** The admin API as the signed-in key (it refuses keys of non-admin accounts). */
    admin: AdminClient;
    /** The origin the browser uses: presigned URLs are signed for it. */
    origin: string;
    /** The request body, read within the console's size limit (pages/forms.ts boundedBody). */
    body?: Buffer;
  };
};
export type ConsoleContext = Context<ConsoleEnv>;
