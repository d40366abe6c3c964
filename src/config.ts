import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * The one place that reads the environment. Everything else receives a typed `Config`.
 * Every setting here is documented, with its default, in `.env.example`.
 */

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const int = (def: number, min: number, max: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(def));
const url = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
    .optional(),
);

const schema = z.object({
  PORT: int(3978, 0, 65535),
  HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must start with postgres:// or postgresql://')
      .optional(),
  ),
  DATABASE_POOL_MAX: int(10, 1, 200),
  SQL_CHECK_TRANSACTIONS: z.preprocess(emptyToUndefined, z.enum(['0', '1']).default('0')),
  KNOWLEDGE_DIR: z.preprocess(emptyToUndefined, z.string().default('./knowledge')),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  MicrosoftAppId: optionalString,
  MicrosoftAppPassword: optionalString,
  MicrosoftAppType: z.preprocess(
    emptyToUndefined,
    z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant'),
  ),
  MicrosoftAppTenantId: optionalString,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: url,
  OPENAI_MODEL: z.preprocess(emptyToUndefined, z.string().default('gpt-4o-mini')),
  OPENAI_EMBEDDING_MODEL: optionalString,
  LLM_TIMEOUT_MS: int(8000, 100, 120_000),
  ANSWER_MAX_CHARS: int(700, 200, 4000),
  MAX_MESSAGE_CHARS: int(2000, 50, 100_000),
  CHAT_MESSAGES_PER_MINUTE: int(20, 1, 10_000),
  RETRIEVAL_THREAD: z.preprocess(emptyToUndefined, z.enum(['auto', 'on', 'off']).default('auto')),
  SQLITE_CHECKPOINT_THREAD: z.preprocess(emptyToUndefined, z.enum(['on', 'off']).default('on')),
  TRUST_PROXY: z.preprocess((v) => {
    const t = typeof v === 'string' ? v.trim().toLowerCase() : v;
    return t === 'true' || t === 'yes' ? '1' : t === 'false' || t === 'no' ? '0' : emptyToUndefined(v);
  }, z.coerce.number().int().min(0).max(10).default(0)),
  RATE_LIMIT_IP_PER_MINUTE: int(600, 0, 1_000_000),
  RATE_LIMIT_DL_TOKENS_PER_MINUTE: int(20, 0, 1_000_000),
  RATE_LIMIT_DL_USER_PER_MINUTE: int(60, 0, 1_000_000),
  RATE_LIMIT_BOT_USER_PER_MINUTE: int(60, 0, 1_000_000),
  RATE_LIMIT_TEAM_PER_MINUTE: int(300, 0, 1_000_000),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 0, 120_000),
  BRAND_NAME: z.preprocess(emptyToUndefined, z.string().max(80).default('Trợ lý Công dân số')),
  BRAND_LOGO_URL: optionalString,
  BRAND_PRIMARY_COLOR: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, 'a colour such as #0b5fa5')
      .default('#0b5fa5'),
  ),
  PUBLIC_URL: url,
  WEBCHAT_ORIGINS: optionalString,
  DIRECTLINE_TOKEN_SECRET: optionalString,
  DIRECTLINE_TOKEN_TTL_SECONDS: int(3600, 60, 30 * 24 * 3600),
  ADMIN_TOKEN: optionalString,
  RETENTION_DAYS: int(90, 1, 3650),
  STALE_AFTER_MINUTES: int(120, 1, 10_080),
  TAKEOVER_IDLE_MINUTES: int(15, 1, 1440),
  KB_UPLOAD_MAX_BYTES: int(10 * 1024 * 1024, 1024, 200 * 1024 * 1024),
  ZALO_APP_ID: optionalString,
  ZALO_APP_SECRET: optionalString,
  ZALO_OA_SECRET_KEY: optionalString,
  ZALO_ACCESS_TOKEN: optionalString,
  ZALO_REFRESH_TOKEN: optionalString,
  ZALO_API_BASE: z.preprocess(emptyToUndefined, z.string().url().default('https://openapi.zalo.me')),
  ZALO_OAUTH_BASE: z.preprocess(emptyToUndefined, z.string().url().default('https://oauth.zaloapp.com')),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Set when PostgreSQL is the (shared) store of several replicas; SQLite under dataDir otherwise. */
  database?: { url: string; poolMax: number };
  /**
   * The store reports its outer handle used inside one of its transactions (a programming error)
   * instead of hanging; off in the service for its CPU cost (see runInScope), on in the tests.
   */
  checkSqlTransactions: boolean;
  knowledgeDir: string;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  botAuth: {
    appId?: string;
    appPassword?: string;
    appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
    tenantId?: string;
    /**
     * False when no MicrosoftAppId is set: /api/messages then accepts unauthenticated requests, from a
     * loopback client with a loopback serviceUrl only (local use: the Emulator, tests).
     */
    enabled: boolean;
  };
  /** Set when an OpenAI-compatible endpoint is configured (a key, a base URL, or both). */
  llm?: { apiKey: string; baseURL?: string; model: string; embeddingModel?: string; timeoutMs: number };
  answerMaxChars: number;
  maxMessageChars: number;
  /** Messages one user may send per minute; past it the bot asks them to slow down. */
  chatMessagesPerMinute: number;
  /**
   * Retrieval with the offline embedding runs on a worker thread (src/retrieval/threadedRetriever.ts):
   * RETRIEVAL_THREAD=on, or auto (the default) on a machine with more than one CPU.
   */
  retrievalThread: boolean;
  /**
   * The embedded store's WAL checkpoints run on a worker thread, not on the event loop
   * (src/storage/walCheckpointer.ts): SQLITE_CHECKPOINT_THREAD=on (the default) or off.
   */
  checkpointThread: boolean;
  /** Per-minute budgets of the HTTP APIs (429 past them; 0 = no limit); see src/http/rateLimits.ts. */
  rateLimits: {
    /** Every API request per client IP (not /api/messages, /api/zalo, health checks, pages). */
    ipPerMinute: number;
    /** Direct Line conversations started (tokens/generate) per client IP. */
    directLineTokensPerMinute: number;
    /** Direct Line activity posts per token user. */
    directLineUserPerMinute: number;
    /** /api/messages activities per Bot Framework conversation user. */
    botUserPerMinute: number;
    /** /api/team/* requests per team token. */
    teamPerMinute: number;
    /** Reverse proxies in front whose X-Forwarded-For is trusted for the client IP (0 = none). */
    trustProxyHops: number;
  };
  shutdownTimeoutMs: number;
  brandName: string;
  webchat: {
    logoUrl?: string;
    primaryColor: string;
    /** Origins allowed to call the Direct Line API from a browser (CORS); same-origin always works. */
    allowedOrigins: string[];
    /** Public base URL (for stream URLs behind a proxy); derived from the request when unset. */
    publicUrl?: string;
  };
  directLine: {
    /** HMAC secret for tokens; generated and persisted in the store on first start when unset. */
    tokenSecret?: string;
    tokenTtlSeconds: number;
  };
  team: {
    /** Bootstraps the first ICT admin; compared in constant time, never logged. */
    adminToken?: string;
    /** Transcripts of closed questions are deleted after this many days. */
    retentionDays: number;
    /** Open questions older than this are flagged on the dashboard. */
    staleAfterMinutes: number;
    /** A live takeover hands back to the assistant after this long without a team message. */
    takeoverIdleMinutes: number;
  };
  /** The knowledge console (/team, npm run kb). */
  kb: {
    /** Largest file accepted by an upload (the request body may be about 4/3 of it, base64). */
    uploadMaxBytes: number;
  };
  /** Set when the Zalo Official Account channel is configured (app id and OA secret key). */
  zalo?: {
    appId: string;
    appSecret?: string;
    oaSecretKey: string;
    accessToken?: string;
    refreshToken?: string;
    apiBase: string;
    oauthBase: string;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function describeExpected(issue: z.ZodIssue): string {
  switch (issue.code) {
    case 'invalid_enum_value':
      return `one of ${issue.options.join(', ')}`;
    case 'too_small':
      return `a number >= ${String(issue.minimum)}`;
    case 'too_big':
      return `a number <= ${String(issue.maximum)}`;
    case 'invalid_type':
      return issue.expected === 'number' ? 'a whole number' : `a ${issue.expected}`;
    case 'invalid_string':
      return 'a URL such as http://127.0.0.1:8000/v1';
    default:
      return issue.message;
  }
}

const SECRET_VARIABLES = new Set([
  'DATABASE_URL',
  'OPENAI_API_KEY',
  'MicrosoftAppPassword',
  'ADMIN_TOKEN',
  'DIRECTLINE_TOKEN_SECRET',
  'ZALO_APP_SECRET',
  'ZALO_OA_SECRET_KEY',
  'ZALO_ACCESS_TOKEN',
  'ZALO_REFRESH_TOKEN',
]);

/** Reads and validates the environment once. Throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      // Values that may hold a password are never echoed.
      const shown = SECRET_VARIABLES.has(name) ? '(hidden)' : JSON.stringify(env[name] ?? '');
      return `${name}=${shown} is invalid: expected ${describeExpected(issue)}`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.MicrosoftAppId && !e.MicrosoftAppPassword && e.MicrosoftAppType !== 'UserAssignedMSI') {
    problems.push(
      'MicrosoftAppPassword is required when MicrosoftAppId is set (unless MicrosoftAppType=UserAssignedMSI)',
    );
  }
  if (e.MicrosoftAppType === 'SingleTenant' && e.MicrosoftAppId && !e.MicrosoftAppTenantId) {
    problems.push('MicrosoftAppTenantId is required when MicrosoftAppType=SingleTenant');
  }
  if (Boolean(e.ZALO_APP_ID) !== Boolean(e.ZALO_OA_SECRET_KEY)) {
    problems.push('ZALO_APP_ID and ZALO_OA_SECRET_KEY must be set together to turn on the Zalo channel');
  }
  if (e.ZALO_APP_ID && !e.ZALO_ACCESS_TOKEN && !e.ZALO_REFRESH_TOKEN) {
    problems.push('ZALO_ACCESS_TOKEN or ZALO_REFRESH_TOKEN is required when ZALO_APP_ID is set');
  }
  if (problems.length) throw new ConfigError(problems);

  const llmConfigured = Boolean(e.OPENAI_API_KEY || e.OPENAI_BASE_URL);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(cwd, e.DATA_DIR),
    database: e.DATABASE_URL ? { url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX } : undefined,
    checkSqlTransactions: e.SQL_CHECK_TRANSACTIONS === '1',
    knowledgeDir: path.resolve(cwd, e.KNOWLEDGE_DIR),
    logLevel: e.LOG_LEVEL,
    botAuth: {
      appId: e.MicrosoftAppId,
      appPassword: e.MicrosoftAppPassword,
      appType: e.MicrosoftAppType,
      tenantId: e.MicrosoftAppTenantId,
      enabled: Boolean(e.MicrosoftAppId),
    },
    llm: llmConfigured
      ? {
          // Self-hosted OpenAI-compatible servers (vLLM, Ollama) usually accept any key.
          apiKey: e.OPENAI_API_KEY ?? 'not-needed',
          baseURL: e.OPENAI_BASE_URL,
          model: e.OPENAI_MODEL,
          embeddingModel: e.OPENAI_EMBEDDING_MODEL,
          timeoutMs: e.LLM_TIMEOUT_MS,
        }
      : undefined,
    answerMaxChars: e.ANSWER_MAX_CHARS,
    maxMessageChars: e.MAX_MESSAGE_CHARS,
    chatMessagesPerMinute: e.CHAT_MESSAGES_PER_MINUTE,
    retrievalThread:
      e.RETRIEVAL_THREAD === 'on' || (e.RETRIEVAL_THREAD === 'auto' && os.availableParallelism() > 1),
    checkpointThread: e.SQLITE_CHECKPOINT_THREAD === 'on',
    rateLimits: {
      ipPerMinute: e.RATE_LIMIT_IP_PER_MINUTE,
      directLineTokensPerMinute: e.RATE_LIMIT_DL_TOKENS_PER_MINUTE,
      directLineUserPerMinute: e.RATE_LIMIT_DL_USER_PER_MINUTE,
      botUserPerMinute: e.RATE_LIMIT_BOT_USER_PER_MINUTE,
      teamPerMinute: e.RATE_LIMIT_TEAM_PER_MINUTE,
      trustProxyHops: e.TRUST_PROXY,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    brandName: e.BRAND_NAME,
    webchat: {
      logoUrl: e.BRAND_LOGO_URL,
      primaryColor: e.BRAND_PRIMARY_COLOR,
      allowedOrigins: (e.WEBCHAT_ORIGINS ?? '')
        .split(',')
        .map((o) => o.trim().replace(/\/$/, ''))
        .filter(Boolean),
      publicUrl: e.PUBLIC_URL?.replace(/\/$/, ''),
    },
    team: {
      adminToken: e.ADMIN_TOKEN,
      retentionDays: e.RETENTION_DAYS,
      staleAfterMinutes: e.STALE_AFTER_MINUTES,
      takeoverIdleMinutes: e.TAKEOVER_IDLE_MINUTES,
    },
    kb: { uploadMaxBytes: e.KB_UPLOAD_MAX_BYTES },
    directLine: { tokenSecret: e.DIRECTLINE_TOKEN_SECRET, tokenTtlSeconds: e.DIRECTLINE_TOKEN_TTL_SECONDS },
    zalo:
      e.ZALO_APP_ID && e.ZALO_OA_SECRET_KEY
        ? {
            appId: e.ZALO_APP_ID,
            appSecret: e.ZALO_APP_SECRET,
            oaSecretKey: e.ZALO_OA_SECRET_KEY,
            accessToken: e.ZALO_ACCESS_TOKEN,
            refreshToken: e.ZALO_REFRESH_TOKEN,
            apiBase: e.ZALO_API_BASE.replace(/\/$/, ''),
            oauthBase: e.ZALO_OAUTH_BASE.replace(/\/$/, ''),
          }
        : undefined,
  };
}
