/** The little the SQL drivers log: a pino Logger fits. */
export interface SqlLogger {
  warn(obj: object, msg?: string): void;
}

/** Used when no logger is given: one JSON-ish line on stderr. */
export const defaultLogger: SqlLogger = {
  warn(obj, msg) {
    const err = (obj as { err?: unknown }).err;
    console.warn(`[sql] ${msg ?? ''}${err ? `: ${err instanceof Error ? err.message : String(err)}` : ''}`);
  },
};
