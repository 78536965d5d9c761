/**
 * A throwaway PostgreSQL server for the endpoint's tests and load runs: `initdb` in a temporary folder, `pg_ctl`
 * on a free loopback port (TCP only, no Unix socket), trust authentication for the `postgres` role, removed
 * afterwards. As root it runs the server as an unprivileged user (`postgres` when the Debian package created it,
 * else `nobody`), since PostgreSQL refuses to run as root.
 *
 * The binaries come from PATH or Debian's /usr/lib/postgresql/<version>/bin; when neither has them, it runs
 * scripts/ensure-postgres.sh (apt-get install postgresql) once and looks again.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENSURE_SCRIPT = join(ROOT, 'scripts', 'ensure-postgres.sh');

export interface LocalPostgres {
  readonly port: number;
  readonly dir: string;
  /** postgres://postgres@127.0.0.1:PORT/DATABASE */
  url(database: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** The server's version line, e.g. "PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu…". */
  version(): Promise<string>;
  /** Stops the server and removes its folder. */
  destroy(): Promise<void>;
}

function onPath(name: string): string | null {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return null;
}

/** initdb and pg_ctl from one installation: PATH first, then the newest /usr/lib/postgresql/<version>/bin. */
export function findPostgresBin(): { initdb: string; pgCtl: string } | null {
  const initdb = onPath('initdb');
  const pgCtl = onPath('pg_ctl');
  if (initdb && pgCtl) return { initdb, pgCtl };
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')) && existsSync(join(base, v, 'bin', 'pg_ctl')))
    .sort((x, y) => Number(y) - Number(x));
  return versions.length ? { initdb: join(base, versions[0], 'bin', 'initdb'), pgCtl: join(base, versions[0], 'bin', 'pg_ctl') } : null;
}

function ensureInstalled(): { initdb: string; pgCtl: string } {
  const found = findPostgresBin();
  if (found) return found;
  const run = spawnSync('bash', [ENSURE_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 600_000 });
  const again = findPostgresBin();
  if (again) return again;
  throw new Error(
    `PostgreSQL server binaries (initdb, pg_ctl) are not on this machine and ${ENSURE_SCRIPT} could not install them ` +
      `(exit ${run.status ?? run.signal}):\n${run.stdout}${run.stderr}`,
  );
}

function userExists(name: string): boolean {
  return spawnSync('id', ['-u', name], { stdio: 'ignore' }).status === 0;
}

function idOf(name: string, flag: '-u' | '-g'): number {
  return Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface LocalPostgresOptions {
  /**
   * false turns fsync off: for tests, whose PostgreSQL restarts are clean shutdowns, so nothing is lost, and whose
   * shutdown checkpoints then take milliseconds rather than seconds on a busy disk. Default true (load runs).
   */
  durable?: boolean;
}

export async function startLocalPostgres(opts: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const bin = ensureInstalled();
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? (userExists('postgres') ? 'postgres' : 'nobody') : null;
  if (asRoot && !onPath('runuser')) throw new Error('running as root, but runuser (util-linux) is missing: cannot start PostgreSQL as an unprivileged user');
  let dir = mkdtempSync(join(tmpdir(), 'votes-pg-'));
  if (user) {
    chownSync(dir, idOf(user, '-u'), idOf(user, '-g'));
    // TMPDIR may sit under a folder only root can enter (/root/tmp): then use /tmp.
    if (spawnSync('runuser', ['-u', user, '--', 'test', '-w', dir]).status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      dir = mkdtempSync('/tmp/votes-pg-');
      chownSync(dir, idOf(user, '-u'), idOf(user, '-g'));
    }
  }
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const port = await freePort();

  const run = (file: string, args: string[], timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const [cmd, argv] = user ? ['runuser', ['-u', user, '--', file, ...args]] : [file, args];
      execFile(cmd, argv, { timeout: timeoutMs, cwd: dir }, (e, stdout, stderr) => {
        if (!e) return resolve(stdout);
        const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n') : '';
        reject(new Error(`${file} ${args.join(' ')} failed: ${e.message}\n${stdout}${stderr}${tail ? `\nserver log:\n${tail}` : ''}`));
      });
    });

  await run(bin.initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories='' -c max_connections=200${opts.durable === false ? ' -c fsync=off' : ''}`;
  let running = false;
  const start = async () => {
    await run(bin.pgCtl, ['-D', data, '-l', log, '-w', '-t', '60', '-o', options, 'start']);
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    if (!running) return;
    await run(bin.pgCtl, ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    running = false;
  };
  // If the test run dies, the server must not outlive it.
  const onExit = () => {
    if (running) spawnSync(user ? 'runuser' : bin.pgCtl, user ? ['-u', user, '--', bin.pgCtl, '-D', data, '-m', 'immediate', 'stop'] : ['-D', data, '-m', 'immediate', 'stop'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  try {
    await start();
  } catch (e) {
    onExit();
    process.off('exit', onExit);
    throw e;
  }

  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const admin = async <T>(f: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: url('postgres') });
    await c.connect();
    try {
      return await f(c);
    } finally {
      await c.end();
    }
  };
  return {
    port,
    dir,
    url,
    createDatabase: async (name) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name}: use lowercase letters, digits and _`);
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      return url(name);
    },
    start,
    stop,
    version: () => admin(async (c) => (await c.query<{ v: string }>('SELECT version() AS v')).rows[0].v),
    destroy: async () => {
      try {
        await stop('fast');
      } finally {
        process.off('exit', onExit);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
