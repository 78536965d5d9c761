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

function connect(): Promise<AiMixerDatabase> {
  if (typeof indexedDB === 'undefined') {
    return Promise.reject(
      new UserFacingError('This browser offers no IndexedDB storage here (private mode can disable it), so sessions cannot be saved.'),
    );
  }
  return openDB<AiMixerDB>(DB_NAME, DB_VERSION, {
    upgrade: (db, oldVersion, newVersion) => upgradeSchema(db, oldVersion, newVersion),
    // A newer tab wants to upgrade: step aside so it is not blocked; our next call reopens.
    blocking: () => void closeDb(),
    // The browser closed us (storage cleared, disk error): reopen on next use.
    terminated: () => {
      connection = undefined;
    },
  });
}
