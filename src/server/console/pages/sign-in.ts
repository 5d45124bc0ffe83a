import { html } from 'hono/html';
import { notice, page, type Html } from '../layout.ts';

export function signInPage(error?: string): Html {
  return page(
    'Sign in',
    undefined,
    'sign-in',
    html`<section class="card narrow">
  <h1>Sign in</h1>
  <p class="muted">Use an S3 access key of this server. The console can do exactly what the key can do through S3.</p>
  ${notice(error, 'error')}
  <form method="post" action="/console/sign-in" class="stack">
    <label for="accessKeyId">Access key ID</label>
    <input id="accessKeyId" name="accessKeyId" autocomplete="username" required spellcheck="false" autofocus>
    <label for="secretAccessKey">Secret access key</label>
    <input id="secretAccessKey" name="secretAccessKey" type="password" autocomplete="current-password" required>
    <button type="submit">Sign in</button>
  </form>
  <p class="muted small">The secret is checked by the server and never kept in the browser; the session ends after an hour without use or when you sign out.</p>
</section>`,
  );
}
