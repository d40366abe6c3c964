import os from 'node:os';
import type { Logger } from '../logger.js';
import { forUpdate, type SqlDb, type SqlMigration } from '../storage/sql/index.js';
import type { IndexManifest } from './indexBuilder.js';
import {
  IndexArchiveError,
  assertVersionName,
  packIndexVersion,
  sha256Hex,
  unpackIndexVersion,
} from './indexArchive.js';
import { compareVersionNames, versionsToKeep } from './indexVersions.js';

/** The notification sent (payload: the version) when the cluster's current index version changes. */
export const KB_INDEX_CHANNEL = 'kb_index';
/** The cluster-wide lock under which index versions are built, so two replicas never build at once. */
export const KB_INDEX_BUILD_LOCK = 'kb-index-build';

/**
 * `kb_index_versions`: each published version once, its directory packed (`indexArchive.ts`).
 * `kb_index_current`: the single row naming the version every replica answers from.
 */
export const KB_INDEX_MIGRATIONS: readonly SqlMigration[] = [
  {
    id: 'kb_index/1',
    sqlite: `
      CREATE TABLE kb_index_versions (
        version TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        embedder TEXT NOT NULL,
        manifest TEXT NOT NULL,
        archive BLOB NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        published_at TEXT NOT NULL,
        published_by TEXT NOT NULL
      );
      CREATE TABLE kb_index_current (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version TEXT NOT NULL REFERENCES kb_index_versions (version),
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
      );`,
    postgres: `
      CREATE TABLE kb_index_versions (
        version TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        embedder TEXT NOT NULL,
        manifest TEXT NOT NULL,
        archive BYTEA NOT NULL,
        sha256 TEXT NOT NULL,
        size BIGINT NOT NULL,
        published_at TEXT NOT NULL,
        published_by TEXT NOT NULL
      );
      -- Already gzipped: stored out of line without another compression attempt.
      ALTER TABLE kb_index_versions ALTER COLUMN archive SET STORAGE EXTERNAL;
      CREATE TABLE kb_index_current (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version TEXT NOT NULL REFERENCES kb_index_versions (version),
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
      );`,
  },
];

/** A published version, without its archive. */
export interface PublishedVersion {
  version: string;
  createdAt: string;
  embedder: string;
  /** Bytes of the packed archive. */
  size: number;
  publishedAt: string;
  publishedBy: string;
}

export interface IndexPointer {
  version: string;
  updatedAt: string;
  updatedBy: string;
}

export interface IndexPublisherOptions {
  logger: Logger;
  /** Who publishes, for `published_by` / `updated_by` (default `<hostname>/<pid>`). */
  instance?: string;
  /** Versions kept besides the current one and the one before it (default 3). */
  keep?: number;
}

export interface PublishOptions {
  /**
   * Move the pointer only if it still names this version (`null`: only if there is none yet), so
   * an automatic publication never overrides a newer one made elsewhere. Default: unconditionally.
   */
  expected?: string | null;
}

interface VersionRow {
  version: string;
  created_at: string;
  embedder: string;
  size: number;
  published_at: string;
  published_by: string;
}

const toVersion = (r: VersionRow): PublishedVersion => ({
  version: r.version,
  createdAt: r.created_at,
  embedder: r.embedder,
  size: Number(r.size),
  publishedAt: r.published_at,
  publishedBy: r.published_by,
});

/**
 * Publishes knowledge index versions through the shared store, so that every replica of a
 * replicated deployment answers from the same version: a version is uploaded once (its directory
 * packed), the single-row pointer `kb_index_current` names the current one, and a notification on
 * `kb_index` tells the other replicas to fetch it (they also poll: notifications are at most once).
 * `KnowledgeBase` (knowledgeIndex.ts) publishes after a build or a rollback and follows the pointer.
 *
 * Used with PostgreSQL only (`createIndexPublisher`): on a single machine with SQLite the local
 * `DATA_DIR/index` is the publication. (It works on a SqliteDb too, which the unit tests use.)
 */
export class IndexPublisher {
  readonly instance: string;
  private migrated: Promise<void> | undefined;

  constructor(
    readonly sql: SqlDb,
    private readonly o: IndexPublisherOptions,
  ) {
    this.instance = o.instance ?? `${os.hostname()}/${process.pid}`;
  }

  /** Creates the tables (once; a failure is retried on the next call). */
  ready(): Promise<void> {
    this.migrated ??= this.sql.migrate(KB_INDEX_MIGRATIONS).catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  async pointer(): Promise<IndexPointer | undefined> {
    await this.ready();
    const row = await this.sql.get<{ version: string; updated_at: string; updated_by: string }>(
      'SELECT version, updated_at, updated_by FROM kb_index_current WHERE id = 1',
    );
    return row ? { version: row.version, updatedAt: row.updated_at, updatedBy: row.updated_by } : undefined;
  }

  /** Published versions, newest first (by name, as locally). */
  async versions(): Promise<PublishedVersion[]> {
    await this.ready();
    const rows = await this.sql.all<VersionRow>(
      'SELECT version, created_at, embedder, size, published_at, published_by FROM kb_index_versions',
    );
    return rows.map(toVersion).sort((a, b) => compareVersionNames(b.version, a.version));
  }

  async version(version: string): Promise<PublishedVersion | undefined> {
    await this.ready();
    const row = await this.sql.get<VersionRow>(
      'SELECT version, created_at, embedder, size, published_at, published_by FROM kb_index_versions WHERE version = ?',
      [version],
    );
    return row ? toVersion(row) : undefined;
  }

  async manifest(version: string): Promise<IndexManifest | undefined> {
    await this.ready();
    const row = await this.sql.get<{ manifest: string }>(
      'SELECT manifest FROM kb_index_versions WHERE version = ?',
      [version],
    );
    return row ? (JSON.parse(row.manifest) as IndexManifest) : undefined;
  }

  /**
   * Uploads the version directory `dir` unless that version is published already. Returns true when
   * it was uploaded now. A published version of the same name from another build is an error.
   */
  async upload(dir: string, manifest: IndexManifest): Promise<boolean> {
    assertVersionName(manifest.version);
    const existing = await this.version(manifest.version);
    if (existing) {
      this.assertSameBuild(existing, manifest);
      return false;
    }
    const archive = packIndexVersion(dir);
    const { changes } = await this.sql.run(
      `INSERT INTO kb_index_versions
         (version, created_at, embedder, manifest, archive, sha256, size, published_at, published_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (version) DO NOTHING`,
      [
        manifest.version,
        manifest.createdAt,
        manifest.embedder,
        JSON.stringify(manifest),
        archive,
        sha256Hex(archive),
        archive.length,
        new Date().toISOString(),
        this.instance,
      ],
    );
    if (changes === 0) {
      const raced = await this.version(manifest.version);
      if (raced) this.assertSameBuild(raced, manifest);
      return false;
    }
    this.o.logger.info(
      { version: manifest.version, bytes: archive.length },
      'knowledge index version uploaded to the shared store',
    );
    return true;
  }

  private assertSameBuild(published: PublishedVersion, manifest: IndexManifest): void {
    if (published.createdAt !== manifest.createdAt || published.embedder !== manifest.embedder) {
      throw new Error(
        `index version ${manifest.version} is already published from another build (created ${published.createdAt})`,
      );
    }
  }

  /**
   * Downloads a published version into `<root>/<version>/` (atomically, see `unpackIndexVersion`).
   * Returns its directory, or undefined when the version is not (or no longer) published. A damaged
   * archive is an `IndexArchiveError`.
   */
  async download(version: string, root: string): Promise<string | undefined> {
    assertVersionName(version);
    await this.ready();
    const row = await this.sql.get<{ archive: Buffer; sha256: string }>(
      'SELECT archive, sha256 FROM kb_index_versions WHERE version = ?',
      [version],
    );
    if (!row) return undefined;
    const archive = Buffer.isBuffer(row.archive) ? row.archive : Buffer.from(row.archive);
    if (sha256Hex(archive) !== row.sha256) {
      throw new IndexArchiveError(`the published archive of ${version} is damaged (checksum mismatch)`);
    }
    const dir = unpackIndexVersion(archive, root, version);
    this.o.logger.info(
      { version, bytes: archive.length },
      'knowledge index version downloaded from the shared store',
    );
    return dir;
  }

  /**
   * Points every replica at `version` (which must be published) and notifies them. With
   * `expected`, only if the pointer still names that version. Returns false when it did not move
   * because of `expected`; true when it moved or already named `version`.
   */
  async movePointer(version: string, options: PublishOptions = {}): Promise<boolean> {
    await this.ready();
    const now = new Date().toISOString();
    return this.sql.transaction(async (tx) => {
      const row = await tx.get<{ version: string }>(
        `SELECT version FROM kb_index_current WHERE id = 1${forUpdate(tx)}`,
      );
      if (row?.version === version) return true;
      if (options.expected !== undefined && (row?.version ?? null) !== options.expected) return false;
      if (row) {
        await tx.run('UPDATE kb_index_current SET version = ?, updated_at = ?, updated_by = ? WHERE id = 1', [
          version,
          now,
          this.instance,
        ]);
      } else {
        const { changes } = await tx.run(
          `INSERT INTO kb_index_current (id, version, updated_at, updated_by) VALUES (1, ?, ?, ?)
           ON CONFLICT (id) DO NOTHING`,
          [version, now, this.instance],
        );
        // Another replica made the first pointer meanwhile: only an unconditional move overrides it.
        if (changes === 0) {
          if (options.expected !== undefined) return false;
          await tx.run(
            'UPDATE kb_index_current SET version = ?, updated_at = ?, updated_by = ? WHERE id = 1',
            [version, now, this.instance],
          );
        }
      }
      await tx.notify(KB_INDEX_CHANNEL, version); // delivered at COMMIT
      return true;
    });
  }

  /**
   * Publishes a local version: uploads it if absent, moves the pointer, prunes old versions.
   * Returns false when `expected` did not match (nothing moved).
   */
  async publish(dir: string, manifest: IndexManifest, options: PublishOptions = {}): Promise<boolean> {
    await this.upload(dir, manifest);
    const moved = await this.movePointer(manifest.version, options);
    if (!moved) return false;
    this.o.logger.info(
      { version: manifest.version, by: this.instance },
      'knowledge index version published to every replica',
    );
    try {
      await this.prune();
    } catch (err) {
      this.o.logger.warn({ err }, 'pruning published index versions failed; retried at the next publication');
    }
    return true;
  }

  /** Deletes published versions other than the newest `keep`, the current one and the one before it. */
  async prune(): Promise<string[]> {
    await this.ready();
    const removed = await this.sql.transaction(async (tx) => {
      // Locks the pointer row: it cannot move to a version while that version is being deleted.
      const current = await tx.get<{ version: string }>(
        `SELECT version FROM kb_index_current WHERE id = 1${forUpdate(tx)}`,
      );
      const all = (await tx.all<{ version: string }>('SELECT version FROM kb_index_versions')).map(
        (r) => r.version,
      );
      const kept = versionsToKeep(all, current?.version, this.o.keep ?? 3);
      const gone = all.filter((v) => !kept.has(v));
      for (const v of gone) await tx.run('DELETE FROM kb_index_versions WHERE version = ?', [v]);
      return gone;
    });
    if (removed.length) this.o.logger.info({ removed }, 'old published index versions removed');
    return removed;
  }

  /** Runs fn under the cluster-wide build lock (not re-entrant). */
  async withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
    await this.ready();
    return this.sql.withLock(KB_INDEX_BUILD_LOCK, fn);
  }

  /**
   * Calls `onChange` when the pointer may have moved: on each notification, and after the listening
   * connection was re-established (notifications may have been missed). Resolves with the unlisten.
   */
  follow(onChange: () => void): Promise<() => Promise<void>> {
    return this.sql.listen(KB_INDEX_CHANNEL, () => onChange(), { onReconnect: onChange });
  }
}

/**
 * The publisher of a replicated deployment: with PostgreSQL (DATABASE_URL), index versions are
 * published through it; with the embedded SQLite store, none (the local directory is the publication).
 */
export function createIndexPublisher(sql: SqlDb, options: IndexPublisherOptions): IndexPublisher | undefined {
  return sql.dialect === 'postgres' ? new IndexPublisher(sql, options) : undefined;
}
