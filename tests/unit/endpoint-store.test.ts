// The vote store port, on real SQLite files and a real PostgreSQL server (endpoint/local-postgres.ts): the same
// migrations, the same idempotent, all-or-nothing batches, and the same leaderboard numbers from either store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { leaderboardFromVotes } from '../../src/rating/gaming-flags';
import type { Vote } from '../../src/shared/votes';
import { loadVotes } from '../../endpoint/load';
import { flagsFromTally, leaderboardFromTally, type LeaderboardFitOptions } from '../../endpoint/leaderboard';
import { startLocalPostgres, type LocalPostgres } from '../../endpoint/local-postgres';
import { MIGRATIONS, SCHEMA_VERSION } from '../../endpoint/migrations';
import { openStore, StoreUnavailableError, type VoteStore } from '../../endpoint/store';
import { SqliteVoteStore } from '../../endpoint/store-sqlite';
import { copyVotes } from '../../endpoint/copy-votes';
import { PostgresVoteStore } from '../../endpoint/store-postgres';

const dir = mkdtempSync(join(tmpdir(), 'vote-store-'));
let postgres: LocalPostgres;
const open: VoteStore[] = [];

beforeAll(async () => {
  postgres = await startLocalPostgres({ durable: false });
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(open.map((s) => s.close()));
  await postgres?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function fresh(kind: 'sqlite' | 'postgres', name: string): Promise<VoteStore> {
  const store = await openStore(kind === 'sqlite' ? join(dir, `${name}.db`) : await postgres.createDatabase(name));
  open.push(store);
  return store;
}

async function pgRows<R extends pg.QueryResultRow>(db: string, sql: string): Promise<R[]> {
  const c = new pg.Client({ connectionString: postgres.url(db) });
  await c.connect();
  try {
    return (await c.query<R>(sql)).rows;
  } finally {
    await c.end();
  }
}

const FIT: LeaderboardFitOptions = { bootstrap: 300, seed: 7, bootstrapBudget: 20_000_000, sameSideMinVotes: 20, minDecideMs: 1000 };

describe('vote stores', () => {
  it('give the same leaderboard from SQLite and PostgreSQL, equal to an in-process fit of the raw votes', async () => {
    const honest = loadVotes(6000, 3); // six models, ties and both_bad included
    const gamer = '0badc0de-0000-4000-8000-000000000021';
    const hasty = '0badc0de-0000-4000-8000-000000000022';
    const banned = '0badc0de-0000-4000-8000-000000000023';
    const extra = loadVotes(400, 4);
    const all: Vote[] = [
      ...honest,
      ...extra.slice(0, 30).map((v) => ({ ...v, client: gamer, winner: 'b' as const })),
      ...extra.slice(30, 60).map((v, k) => ({ ...v, client: hasty, decideMs: k % 2 ? 400 : 999.5 })),
      ...extra.slice(60, 160).map((v) => ({ ...v, client: banned, winner: 'a' as const, a: 'random-gains' })).filter((v) => v.b !== 'random-gains'),
    ];
    const sqlite = await fresh('sqlite', 'same');
    const postgresStore = await fresh('postgres', 'same');
    await sqlite.migrate();
    await postgresStore.migrate();
    // Different batches, different orders: the tally is a multiset.
    for (let i = 0; i < all.length; i += 500) await sqlite.insert(all.slice(i, i + 500));
    const reversed = [...all].reverse();
    for (let i = 0; i < reversed.length; i += 137) await postgresStore.insert(reversed.slice(i, i + 137));
    expect(await sqlite.count()).toBe(all.length);
    expect(await postgresStore.count()).toBe(all.length);
    for (const s of [sqlite, postgresStore]) expect((await s.exclude(banned, 'always picks random-gains', 'test')).changed).toBe(true);

    const fromSqlite = leaderboardFromTally(await sqlite.tally(FIT.minDecideMs), FIT);
    const fromPostgres = leaderboardFromTally(await postgresStore.tally(FIT.minDecideMs), FIT);
    expect(fromPostgres).toEqual(fromSqlite);

    const kept = all.filter((v) => v.client !== banned);
    const moderated = all.length - kept.length;
    expect(moderated).toBeGreaterThan(50);
    const local = leaderboardFromVotes(kept, { bootstrap: FIT.bootstrap, seed: FIT.seed });
    expect(fromSqlite).toEqual({
      ...local,
      totalVotes: all.length,
      excludedVotes: local.excludedVotes + moderated,
      moderatedVotes: moderated,
      bootstrap: { rounds: FIT.bootstrap, seed: FIT.seed },
    });
    // The flags and exclusions did their part: both sub-second kinds (400 and 999.5 ms) and the same-side client.
    expect(local.flags).toEqual([
      { kind: 'same_side', client: gamer, votes: 30, side: 'b' },
      { kind: 'sub_second', client: hasty, votes: 30 },
    ]);
    expect(fromSqlite.models.find((m) => m.id === 'random-gains')!.rating).toBeLessThan(900);

    // The moderators' list sees the banned client too, and says it is excluded.
    const adminSqlite = flagsFromTally(await sqlite.tally(FIT.minDecideMs), FIT);
    expect(flagsFromTally(await postgresStore.tally(FIT.minDecideMs), FIT)).toEqual(adminSqlite);
    expect(adminSqlite.find((f) => f.client === banned)).toMatchObject({ kind: 'same_side', side: 'a', excluded: true });
    expect(await postgresStore.signature()).toBe(await sqlite.signature());
  });

  it('apply the same numbered migrations once, and the same columns, on both stores', async () => {
    const sqlite = await fresh('sqlite', 'migrations');
    const postgresStore = await fresh('postgres', 'migrations');
    for (const s of [sqlite, postgresStore]) {
      expect(await s.migrate()).toBe(SCHEMA_VERSION);
      expect(await s.migrate()).toBe(SCHEMA_VERSION);
    }
    const expected = MIGRATIONS.map((m) => [m.version, m.name]);
    expect(expected).toEqual([
      [1, 'votes'],
      [2, 'moderation'],
    ]);
    const file = new Database(join(dir, 'migrations.db'), { readonly: true });
    const sqliteVersions = (file.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as { version: number; name: string }[]).map((r) => [r.version, r.name]);
    const tables = ['votes', 'excluded_clients', 'moderation_log'];
    const sqliteColumns = tables.map((t) => (file.pragma(`table_info(${t})`) as { name: string }[]).map((c) => c.name));
    expect(file.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    file.close();
    const pgVersions = (await pgRows<{ version: number; name: string }>('migrations', 'SELECT version, name FROM schema_migrations ORDER BY version')).map((r) => [r.version, r.name]);
    const pgColumns = [];
    for (const t of tables) {
      pgColumns.push((await pgRows<{ column_name: string }>('migrations', `SELECT column_name FROM information_schema.columns WHERE table_name = '${t}' ORDER BY ordinal_position`)).map((r) => r.column_name));
    }
    expect(sqliteVersions).toEqual(expected);
    expect(pgVersions).toEqual(expected);
    expect(pgColumns).toEqual(sqliteColumns);
    expect(sqliteColumns[0]).toEqual(['id', 'a', 'a_version', 'b', 'b_version', 'winner', 'client', 'ts', 'session', 'listen_a_ms', 'listen_b_ms', 'decide_ms', 'received_at']);
  });

  it('adopt a SQLite file written by the earlier endpoint (user_version 1, no migrations table)', async () => {
    const file = join(dir, 'legacy.db');
    const legacy = new Database(file);
    legacy.exec(`${MIGRATIONS[0].sql.sqlite}; PRAGMA user_version = 1;`);
    const v = loadVotes(1, 9)[0];
    legacy
      .prepare('INSERT INTO votes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(v.id, v.a, v.aVersion, v.b, v.bVersion, v.winner, v.client, v.ts, v.session, v.listenMs.a, v.listenMs.b, v.decideMs, 1);
    legacy.close();
    const store = new SqliteVoteStore(file);
    open.push(store);
    expect(await store.migrate()).toBe(SCHEMA_VERSION);
    expect(await store.count()).toBe(1);
    expect(await store.insert([v])).toEqual({ accepted: 0, duplicates: 1 });
  });

  it.each(['sqlite', 'postgres'] as const)('refuse (%s) a database from a newer endpoint', async (kind) => {
    const store = await fresh(kind, `newer_${kind}`);
    await store.migrate();
    if (kind === 'sqlite') {
      const file = new Database(join(dir, `newer_${kind}.db`));
      file.prepare('INSERT INTO schema_migrations VALUES (99, ?, 0)').run('from the future');
      file.close();
    } else {
      await pgRows(`newer_${kind}`, "INSERT INTO schema_migrations VALUES (99, 'from the future', 0)");
    }
    await expect(store.migrate()).rejects.toThrow(/schema 99 is newer than this endpoint \(2\)/);
  });

  it.each(['sqlite', 'postgres'] as const)('store a batch all or nothing, and each vote id once (%s)', async (kind) => {
    const store = await fresh(kind, `atomic_${kind}`);
    await store.migrate();
    const batch = loadVotes(300, 11);
    expect(await store.insert(batch.slice(0, 100))).toEqual({ accepted: 100, duplicates: 0 });
    // The last vote breaks a constraint the schema keeps (validation would have caught it; the store must too).
    const broken = [...batch.slice(100), { ...batch[0], id: '00000000-0000-4000-8000-00000000dead', winner: 'nobody' as Vote['winner'] }];
    await expect(store.insert(broken)).rejects.toThrow(/CHECK constraint|check constraint/i);
    expect(await store.count()).toBe(100);
    expect(await store.insert([...batch, batch[250]])).toEqual({ accepted: 200, duplicates: 101 });
    expect(await store.count()).toBe(300);
  });

  it('lets several PostgreSQL endpoints migrate and insert the same batch at once, each vote stored once', async () => {
    const url = await postgres.createDatabase('concurrent');
    const stores = Array.from({ length: 4 }, () => new PostgresVoteStore(url, { poolSize: 2 }));
    open.push(...stores);
    expect(await Promise.all(stores.map((s) => s.migrate()))).toEqual([2, 2, 2, 2]);
    expect((await pgRows<{ n: number }>('concurrent', 'SELECT count(*)::int AS n FROM schema_migrations'))[0].n).toBe(2);
    const batch = loadVotes(500, 12);
    const results = await Promise.all(stores.map((s) => s.insert(batch)));
    expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(500);
    for (const r of results) expect(r.accepted + r.duplicates).toBe(500);
    expect(await stores[0].count()).toBe(500);
  });

  it('report an unreachable PostgreSQL as StoreUnavailableError, naming the server without its password', async () => {
    const store = new PostgresVoteStore(`postgres://votes:secret@127.0.0.1:1/votes`);
    open.push(store);
    const err = await store.migrate().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(/^PostgreSQL postgres:\/\/votes:\*\*\*@127\.0\.0\.1:\d+\/votes unreachable: /);
    expect((err as Error).message).not.toContain('secret');
  });

  it('copy a SQLite file to PostgreSQL, votes and exclusions, to the same leaderboard, and copy only what is missing when run again', async () => {
    const sqlite = await fresh('sqlite', 'copy_from');
    const target = await fresh('postgres', 'copy_to');
    await sqlite.migrate();
    await target.migrate();
    const votes = loadVotes(12_345, 13);
    for (let i = 0; i < votes.length; i += 500) await sqlite.insert(votes.slice(i, i + 500));
    await sqlite.exclude(votes[0].client, 'copied exclusion', 'dave', 1_767_225_600_000);
    await target.insert(votes.slice(100, 600)); // some already there
    const first = await copyVotes(sqlite, target, 1000);
    expect(first).toMatchObject({ read: 12_345, accepted: 12_345 - 500, duplicates: 500, exclusionsCopied: 1 });
    expect(await target.count()).toBe(12_345);
    expect(await target.readVotes(null, 12_345)).toEqual(await sqlite.readVotes(null, 12_345));
    expect((await target.excludedClients()).map((x) => [x.client, x.reason, x.moderator, x.excludedAt])).toEqual([[votes[0].client, 'copied exclusion', 'dave', 1_767_225_600_000]]);
    expect(leaderboardFromTally(await target.tally(1000), FIT)).toEqual(leaderboardFromTally(await sqlite.tally(1000), FIT));
    const more = loadVotes(100, 14);
    await sqlite.insert(more);
    expect(await copyVotes(sqlite, target, 1000)).toMatchObject({ read: 12_445, accepted: 100, duplicates: 12_345, exclusionsCopied: 0 });
  });
});
