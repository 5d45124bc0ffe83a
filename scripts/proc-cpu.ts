/**
 * CPU time from /proc, for scripts/bench.ts: a process's threads grouped by role, this process
 * (process.cpuUsage()) and the whole machine (/proc/stat), as deltas between two snapshots.
 *
 * Node 20 gives every thread the name `node`, so where the name says nothing (newer Node names
 * them `libuv-worker`, `V8 DefaultWorke`, `WorkerThread`) a thread's role is read from what it
 * waits on while the process is idle (/proc/PID/task/TID/syscall): the V8 platform threads (GC,
 * compilation) and the libuv threadpool (fs) are each a pool of threads waiting on one shared
 * condition variable, the platform's created first, at start; a worker_thread waits in epoll on
 * its own event loop, and one started after the process was ready is a codec worker (the
 * module-loader thread tsx starts earlier counts as other). The CPU of a thread that exits
 * between two snapshots is not counted (the threads of these servers live as long as the process).
 */
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const ROLES = ['main', 'codec workers', 'fs threads', 'GC', 'other'] as const;
export type Role = (typeof ROLES)[number];

const TICK = (() => {
  try {
    return Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields after the `(comm)` of a /proc stat line: [0] is the state, [11] utime, [12] stime, [19] starttime. */
const statFields = (path: string): string[] | undefined => {
  try {
    const s = readFileSync(path, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // the thread (or process) is gone
  }
};

const NAMED: [RegExp, Role][] = [
  [/^libuv-worker/, 'fs threads'],
  [/^V8 /, 'GC'],
  [/^WorkerThread/, 'codec workers'],
];

// futex and epoll_wait/epoll_pwait, by architecture
const SYSCALLS = process.arch === 'arm64' ? { futex: ['98'], epoll: ['22'] } : { futex: ['202'], epoll: ['232', '281'] };

/** Gives the threads of one process their roles, from the snapshots it is shown (see the header). */
export class ThreadRoles {
  private readonly role = new Map<number, Role>(); // by name, or a codec worker
  private readonly pools = new Map<string, { first: number; tids: Set<number> }>(); // condition variable → waiters
  private poolRole = new Map<number, Role>();
  private readonly startup = new Set<number>();
  private ready = false;

  constructor(readonly pid: number) {}

  get(tid: number): Role {
    return tid === this.pid ? 'main' : (this.role.get(tid) ?? this.poolRole.get(tid) ?? 'other');
  }

  /** Looks at the threads not yet given a role; call it while the process is idle. */
  observe(): void {
    for (const tid of readdirSync(`/proc/${this.pid}/task`).map(Number)) {
      if (tid === this.pid || this.role.has(tid) || this.poolRole.has(tid)) continue;
      const dir = `/proc/${this.pid}/task/${tid}`;
      let comm = '';
      let sys: string[] = [];
      try {
        comm = readFileSync(`${dir}/comm`, 'utf8').trim();
        sys = readFileSync(`${dir}/syscall`, 'utf8').trim().split(' ');
      } catch {
        // gone, or no permission to read syscall: the name alone decides, else other
      }
      const named = NAMED.find(([re]) => re.test(comm));
      if (named) {
        this.role.set(tid, named[1]);
      } else if (SYSCALLS.futex.includes(sys[0]!) && sys[1]) {
        // glibc's condition variable waits on one of two adjacent words of an 8-aligned pair
        const key = (BigInt(sys[1]) & ~7n).toString(16);
        const start = Number(statFields(`${dir}/stat`)?.[19] ?? 0);
        const pool = this.pools.get(key) ?? { first: Infinity, tids: new Set<number>() };
        pool.first = Math.min(pool.first, start * 1e9 + tid);
        pool.tids.add(tid);
        this.pools.set(key, pool);
      } else if (SYSCALLS.epoll.includes(sys[0]!) && this.ready && !this.startup.has(tid)) {
        this.role.set(tid, 'codec workers'); // an event loop started after the process was ready
      }
      if (!this.ready) this.startup.add(tid);
    }
    this.ready = true;
    // pools of two or more waiters, oldest first: the V8 platform, then the libuv threadpool
    const pools = [...this.pools.values()].filter((p) => p.tids.size > 1).sort((a, b) => a.first - b.first);
    this.poolRole = new Map(pools.slice(0, 2).flatMap((p, i) => [...p.tids].map((t): [number, Role] => [t, i === 0 ? 'GC' : 'fs threads'])));
  }
}

/** CPU seconds (user + system, all threads) a whole process has used so far; 0 once it is gone. */
export function processCpu(pid: number): number {
  const f = statFields(`/proc/${pid}/stat`);
  return f ? (Number(f[11]) + Number(f[12])) / TICK : 0;
}

export interface CpuSnapshot {
  client: NodeJS.CpuUsage;
  machine: { busy: number; total: number; cores: number };
  threads?: Map<number, number>; // utime + stime by thread id
}

function machine(): CpuSnapshot['machine'] {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const v = lines[0]!.split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - v[3]! - v[4]!, total, cores: lines.filter((l) => /^cpu\d/.test(l)).length };
}

export function snapshot(roles?: ThreadRoles): CpuSnapshot {
  let threads: CpuSnapshot['threads'];
  if (roles) {
    roles.observe();
    threads = new Map();
    for (const tid of readdirSync(`/proc/${roles.pid}/task`).map(Number)) {
      const f = statFields(`/proc/${roles.pid}/task/${tid}/stat`);
      if (f) threads.set(tid, Number(f[11]) + Number(f[12]));
    }
  }
  return { client: process.cpuUsage(), machine: machine(), threads };
}

export interface CpuDelta {
  /** CPU seconds of the process's threads, in all and by role. */
  server?: { total: number; by: Map<Role, number> };
  client: number;
  machine: { seconds: number; busy: number; cores: number };
}

export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot, roles?: ThreadRoles): CpuDelta {
  let server: CpuDelta['server'];
  if (a.threads && b.threads && roles) {
    const by = new Map<Role, number>();
    let total = 0;
    for (const [tid, t] of b.threads) {
      const s = (t - (a.threads.get(tid) ?? 0)) / TICK;
      total += s;
      by.set(roles.get(tid), (by.get(roles.get(tid)) ?? 0) + s);
    }
    server = { total, by };
  }
  const cu = (b.client.user + b.client.system - a.client.user - a.client.system) / 1e6;
  const busy = b.machine.busy - a.machine.busy;
  const total = b.machine.total - a.machine.total;
  return { server, client: cu, machine: { seconds: busy / TICK, busy: total > 0 ? busy / total : 0, cores: b.machine.cores } };
}

/** `name 1.85 (main 0.71, …)  client 0.20  machine 2.40 of 2 cores (busy 85%)`, every figure divided by `per`. */
export function formatCpu(name: string, d: CpuDelta, per: number, digits: number): string {
  const f = (s: number) => (s / per).toFixed(digits);
  const parts = [`${name}:`];
  if (d.server) {
    const by = ROLES.filter((r) => d.server!.by.has(r)).map((r) => `${r} ${f(d.server!.by.get(r)!)}`);
    parts[0] = `${name} ${f(d.server.total)} (${by.join(', ')})`;
  }
  parts.push(`client ${f(d.client)}`, `machine ${f(d.machine.seconds)} of ${d.machine.cores} cores (busy ${(d.machine.busy * 100).toFixed(0)}%)`);
  return parts.join('  ');
}
