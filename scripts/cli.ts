import fs from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../src/config.js';
import { createLogger, type Logger } from '../src/logger.js';

/** Config and a quiet logger for command-line tools (same settings as the service). */
export function cliSetup(level: 'warn' | 'info' | 'error' = 'warn'): { config: Config; logger: Logger } {
  if (fs.existsSync('.env')) process.loadEnvFile('.env');
  try {
    const config = loadConfig();
    const logger = createLogger({
      level: process.env.LOG_LEVEL ? config.logLevel : level,
      pretty: Boolean(process.stderr.isTTY),
      destination: process.stderr.isTTY ? undefined : process.stderr,
    });
    return { config, logger };
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}
