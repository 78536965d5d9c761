/** Errors cross worker boundaries as plain data, never as strings, so the UI can show both parts. */
export interface SerializedError {
  name: string;
  message: string;
}

/** A failure a user can act on: it names the file (or thing) and the reason. */
export class UserFacingError extends Error {
  constructor(
    message: string,
    readonly subject?: string,
  ) {
    super(message);
    this.name = 'UserFacingError';
  }
}

export class DecodeError extends UserFacingError {
  constructor(fileName: string, reason: string) {
    super(`${fileName}: ${reason}`, fileName);
    this.name = 'DecodeError';
  }
}

export class CancelledError extends Error {
  constructor(message = 'Cancelled') {
    super(message);
    this.name = 'AbortError';
  }
}

/** A worker that died under its job (out of memory, an uncaught error); the next job gets a fresh one. */
export class WorkerCrashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerCrashError';
  }
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

export function isAbortError(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

/** The message of anything thrown: an Error's own, else its string form (a worker or library may throw a string). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
