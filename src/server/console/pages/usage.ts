/**
 * Usage: the signed-in account's storage, objects, buckets and this month's transfer against its
 * quotas, and its usage over the last months, as charts rendered here in SVG.
 */
import { html } from 'hono/html';
import type { Hono } from 'hono';
import type { ConsoleEnv } from '../context.ts';
import type { ConsoleDeps } from '../context.ts';
import { bar, bytes, chart, page } from '../layout.ts';
import { formatCount } from '../../../core/sizes.ts';

/** Months shown in the chart, this one included. */
const HISTORY_MONTHS = 6;

const monthsBack = (now: Date, n: number): string[] => {
  const out: string[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    out.push(d.toISOString().slice(0, 7));
  }
  return out;
};

/** Hours of `month` so far (all of it for a past month). */
const hoursOf = (month: string, now: Date): number => {
  const start = Date.parse(`${month}-01T00:00:00Z`);
  const [y, m] = month.split('-').map(Number) as [number, number];
  const end = Math.min(Date.UTC(y, m, 1), now.getTime());
  return Math.max(1, (end - start) / 3_600_000);
};

export function mountUsage(app: Hono<ConsoleEnv>, accounts: ConsoleDeps['accounts']): void {
  app.get('/usage', (c) => {
    const v = c.get('viewer');
    const info = accounts.getAccount(v.account);
    const now = new Date();
    const months = monthsBack(now, HISTORY_MONTHS);
    const history = months.map((m) => {
      const r = accounts.usageReport(v.account, m)[0];
      return {
        month: m,
        storage: r ? r.storageByteHours / hoursOf(m, now) : 0,
        transfer: r ? r.ingressBytes + r.egressBytes : 0,
        requests: r ? r.readRequests + r.writeRequests : 0,
      };
    });
    const thisMonth = history.at(-1)!;
    const q = info.quota;
    const label = (m: string) => new Date(`${m}-01T00:00:00Z`).toLocaleString('en-US', { month: 'short', year: '2-digit', timeZone: 'UTC' });
    return c.html(
      page(
        'Usage',
        v,
        'usage',
        html`<h1>Usage of ${v.account}</h1>
<section class="card">
  <h2>Against your quotas</h2>
  ${bar('Storage', info.usage.bytes, q.maxStorage.limit, bytes)}
  ${bar('Objects', info.usage.objects, q.maxObjects.limit, formatCount)}
  ${bar('Buckets', info.usage.buckets, q.maxBuckets.limit, formatCount)}
  ${bar(`Transfer in ${thisMonth.month} (in + out)`, thisMonth.transfer, q.maxMonthlyTransfer.limit, bytes)}
  <p class="muted small">Largest object: ${q.maxObjectSize.limit === null ? 'no limit' : bytes(q.maxObjectSize.limit)}.
  Requests a minute: ${q.maxRequestsPerMinute.limit === null ? 'no limit' : formatCount(q.maxRequestsPerMinute.limit)}.
  Requests this month: ${formatCount(thisMonth.requests)}.</p>
</section>
<section class="card charts">
  <h2>Over time</h2>
  ${chart('Average storage per month', history.map((h) => ({ label: label(h.month), value: h.storage })), bytes)}
  ${chart('Transfer per month (in + out)', history.map((h) => ({ label: label(h.month), value: h.transfer })), bytes)}
</section>`,
      ),
    );
  });
}
