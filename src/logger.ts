import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
const SECRET_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'authorization',
  'req.headers.authorization',
  'req.headers["x-zevent-signature"]',
  'headers.authorization',
  '*.access_token',
  '*.refresh_token',
];

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Human-readable output (pino-pretty) instead of JSON; defaults to "stdout is a terminal". */
  pretty?: boolean;
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const base: pino.LoggerOptions = {
    level: options.level,
    base: { service: 'tro-ly-cong-dan-so' },
    redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.destination) return pino(base, options.destination);
  if (pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } },
    });
  }
  return pino(base);
}
