/**
 * Moves a deployment from one store to another (usually its SQLite file to PostgreSQL), while both may be live:
 *   npm run endpoint:copy -- --from votes.db --to postgres://votes:…@db.internal/votes
 * Copies every vote in id order, in pages, each page one transaction, idempotent by id (run it again to pick up
 * votes that arrived meanwhile; it copies only what is missing), then the moderators' exclusions (each logged in
 * the target as a new exclusion with the original reason and moderator). Votes keep their ids and fields; their
 * received_at becomes the copy's time.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { openStore, redactUrl, type VoteStore } from './store';

export interface CopySummary {
  read: number;
  accepted: number;
  duplicates: number;
  exclusionsCopied: number;
  ms: number;
}

export async function copyVotes(from: VoteStore, to: VoteStore, pageSize = 5000): Promise<CopySummary> {
  const t0 = performance.now();
  const summary = { read: 0, accepted: 0, duplicates: 0, exclusionsCopied: 0 };
  for (let after: string | null = null; ; ) {
    const page = await from.readVotes(after, pageSize);
    if (page.length === 0) break;
    const r = await to.insert(page);
    summary.read += page.length;
    summary.accepted += r.accepted;
    summary.duplicates += r.duplicates;
    after = page[page.length - 1].id;
  }
  for (const x of await from.excludedClients()) {
    if ((await to.exclude(x.client, x.reason, x.moderator, x.excludedAt)).changed) summary.exclusionsCopied++;
  }
  return { ...summary, ms: Math.round(performance.now() - t0) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } } });
  if (!values.from || !values.to) {
    console.error('copy: --from DB --to DB are required (each a SQLite file or a postgres:// URL)');
    process.exit(2);
  }
  if (values.from === values.to) {
    console.error('copy: --from and --to are the same database');
    process.exit(2);
  }
  const from = await openStore(values.from);
  const to = await openStore(values.to);
  try {
    await from.migrate();
    await to.migrate();
    const s = await copyVotes(from, to);
    console.log(JSON.stringify({ from: redactUrl(values.from), to: redactUrl(values.to), ...s }));
  } catch (e) {
    console.error(`copy: ${(e as Error).message}`);
    process.exitCode = 1;
  } finally {
    await Promise.allSettled([from.close(), to.close()]);
  }
}
