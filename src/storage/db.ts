import { openDB, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { UserFacingError } from '../shared/errors';
import { DB_NAME, DB_VERSION, upgradeSchema, type AiMixerDB } from './schema';

export type AiMixerDatabase = IDBPDatabase<AiMixerDB>;

let connection: Promise<AiMixerDatabase> | undefined;

/** One shared connection per realm (window or worker); opening is slow and upgrades must not race. */
export function openDb(): Promise<AiMixerDatabase> {
  connection ??= connect().catch((e: unknown) => {
    connection = undefined;
    throw e;
  });
  return connection;
}

/** Closes the shared connection; the next openDb() reopens. Tests use it to start from a clean database. */
export async function closeDb(): Promise<void> {
  const pending = connection;
  connection = undefined;
  const db = await pending?.catch(() => undefined);
  db?.close();
}

/**
 * Runs `write` in one readwrite transaction: either everything it wrote commits or, on any throw
 * (synchronous or from a request), nothing does.
 */
export async function writeAtomically<Stores extends StoreNames<AiMixerDB>[], T>(
  stores: Stores,
  write: (tx: IDBPTransaction<AiMixerDB, Stores, 'readwrite'>) => Promise<T>,
): Promise<T> {
  const db = await openDb();
  const tx = db.transaction(stores, 'readwrite');
  // The rejection is re-read below; this only stops it being reported as unhandled meanwhile.
  tx.done.catch(() => undefined);
  try {
    const result = await write(tx);
    await tx.done;
    return result;
  } catch (e) {
    try {
      tx.abort();
    } catch {
      // Already finished: a failed request aborts the transaction on its own.
    }
    throw e;
  }
}

/** The database was written by a newer version of the app than this one (an old tab, or a rolled-back deploy). */
export class NewerDatabaseError extends UserFacingError {
  constructor(readonly storedVersion: number) {
    super(
      `Your saved sessions were stored by a newer version of AI Mixer (storage version ${storedVersion}; this page reads up to ${DB_VERSION}). ` +
        'Reload the page, or close other AI Mixer tabs and reload, to get the new version; nothing was changed.',
      'storage',
    );
    this.name = 'NewerDatabaseError';
  }
}

/** An upgrade whose migration failed; the browser rolled it back, so the stored data is as before. */
export class UpgradeFailedError extends UserFacingError {
  constructor(fromVersion: number, cause: unknown) {
    super(
      `Updating your saved data from storage version ${fromVersion} to ${DB_VERSION} failed (${cause instanceof Error ? cause.message : String(cause)}). ` +
        'Nothing was changed; reload to try again.',
      'storage',
    );
    this.name = 'UpgradeFailedError';
    this.cause = cause;
  }
}

async function connect(): Promise<AiMixerDatabase> {
  if (typeof indexedDB === 'undefined') {
    throw new UserFacingError('This browser offers no IndexedDB storage here (private mode can disable it), so sessions cannot be saved.');
  }
  let migration: { from: number; done: Promise<unknown> } | undefined;
  try {
    return await openDB<AiMixerDB>(DB_NAME, DB_VERSION, {
      upgrade: (db, oldVersion, newVersion, tx) => {
        const done = upgradeSchema(db, oldVersion, newVersion, tx).catch((e: unknown) => {
          // Aborting a versionchange transaction rolls back every store change and record move; the open
          // request then fails, which is reported below, so the transaction's own rejection is not.
          tx.done.catch(() => undefined);
          tx.abort();
          throw e;
        });
        // Re-read below; this only stops it being reported as unhandled meanwhile.
        done.catch(() => undefined);
        migration = { from: oldVersion, done };
      },
      // A newer tab wants to upgrade: step aside so it is not blocked; our next call reopens.
      blocking: () => void closeDb(),
      // The browser closed us (storage cleared, disk error): reopen on next use.
      terminated: () => {
        connection = undefined;
      },
    });
  } catch (e) {
    if (e instanceof Error && e.name === 'VersionError') throw new NewerDatabaseError(await storedVersion());
    if (migration) {
      const failure = await migration.done.then(
        () => undefined,
        (cause: unknown) => cause,
      );
      if (failure !== undefined) throw new UpgradeFailedError(migration.from, failure);
    }
    throw e;
  }
}

/** The version of the database on disk: opened without a version, it is not upgraded. */
async function storedVersion(): Promise<number> {
  const db = await openDB(DB_NAME);
  const { version } = db;
  db.close();
  return version;
}
