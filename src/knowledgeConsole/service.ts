import fs from 'node:fs';
import path from 'node:path';
import type { Answer } from '../answer/types.js';
import type { Logger } from '../logger.js';
import { listKnowledgeFiles, type IndexManifest } from '../retrieval/indexBuilder.js';
import { IndexVersions } from '../retrieval/indexVersions.js';
import type { KnowledgeBase, KnowledgeIndex } from '../retrieval/knowledgeIndex.js';
import { readEvalRun } from '../quality/evaluation.js';
import type { AuditEntry, AuditRepository } from '../team/teamStore.js';
import {
  describeDocument,
  listDocuments,
  retireDocument,
  saveMarkdown,
  showDocument,
  type IndexView,
} from './documents.js';
import { ConsoleError, badArgument, conflict, notFound } from './errors.js';
import { EvalRunner } from './evalRuns.js';
import { addExpected } from './expected.js';
import { hitTest } from './hitTest.js';
import { ReindexJob, type ReindexChange } from './reindexJob.js';
import { readSynonyms, SYNONYMS_FILE, writeSynonyms } from './synonymsFile.js';
import { storeUpload, type UploadInput } from './upload.js';

/** Who makes a change: a team admin (dashboard) or `cli:<user>` (npm run kb). */
export interface Actor {
  id: string;
  name: string;
}

export interface KnowledgeConsoleOptions {
  knowledgeDir: string;
  dataDir: string;
  knowledge: Pick<KnowledgeBase, 'current' | 'rebuild' | 'refresh'>;
  /** The answer the bot would give (the service's AnswerService). */
  answers: { answer(request: { question: string }): Promise<Answer> };
  audit: AuditRepository;
  logger: Logger;
  uploadMaxBytes: number;
  maxMessageChars: number;
  answerMaxChars: number;
  /** The shared re-index queue (one per service); made here when not given. */
  job?: ReindexJob;
  /** Evaluate each new index version in the background (default true). */
  evalAfterIndex?: boolean;
  /** "console" in the service, "npm run kb" from the CLI. */
  source?: string;
  /** The CLI evaluates in the foreground; the service yields to chat turns. */
  background?: boolean;
  fixturesDir?: string;
}

const SYSTEM: Actor = { id: 'system', name: 'Lập chỉ mục tự động' };

/**
 * The knowledge console (issue 8): documents, uploads and edits, retirement, index versions and
 * rollback, hit testing, expected answers, synonyms, eval trend and audit. The HTTP routes
 * (/api/team/kb) and `npm run kb` both call this.
 */
export class KnowledgeConsole {
  readonly job: ReindexJob;
  readonly evals: EvalRunner;
  private readonly versions: IndexVersions;
  private readonly unsubscribe: (() => void)[] = [];
  /** Audit entries being written (awaited by `idle`, and before the audit log is read). */
  private readonly auditing = new Set<Promise<void>>();

  constructor(private readonly o: KnowledgeConsoleOptions) {
    this.job = o.job ?? new ReindexJob({ knowledge: o.knowledge, logger: o.logger });
    this.versions = new IndexVersions(o.dataDir);
    this.evals = new EvalRunner({
      dataDir: o.dataDir,
      knowledgeDir: o.knowledgeDir,
      knowledge: o.knowledge,
      answerMaxChars: o.answerMaxChars,
      logger: o.logger,
      fixturesDir: o.fixturesDir,
      source: o.source ?? 'console',
      background: o.background ?? true,
      building: () => (this.job.snapshot().state === 'idle' ? undefined : this.job.idle()),
    });
    this.unsubscribe.push(
      this.job.onIndexed((e) => {
        this.record(SYSTEM, 'kb.indexed', e.version, {
          version: e.version,
          previous: e.previous ?? null,
          changes: e.changes.map((c) => ({
            action: c.action,
            target: c.target,
            by: c.actorName ?? c.actorId,
          })),
          documents: e.manifest.documents.length,
          chunks: e.manifest.chunkCount,
          skipped: e.manifest.skipped,
          seconds: e.manifest.seconds,
        });
        if (o.evalAfterIndex !== false) this.evals.schedule(e.version);
      }),
      this.job.onFailed((error, changes) =>
        this.record(SYSTEM, 'kb.index_failed', undefined, {
          error,
          changes: changes.map((c) => ({ action: c.action, target: c.target, by: c.actorName ?? c.actorId })),
        }),
      ),
    );
  }

  /** The version the service answers from (the CLI: the one CURRENT names). */
  currentVersion(): string | undefined {
    return this.o.knowledge.current?.version ?? this.versions.current();
  }

  private indexView(): IndexView | undefined {
    const loaded = this.o.knowledge.current;
    if (loaded)
      return { version: loaded.version, manifest: loaded.manifest, chunks: loaded.retriever.chunks };
    const v = this.versions.current();
    const manifest = v ? this.manifest(v) : undefined;
    return v && manifest ? { version: v, manifest } : undefined;
  }

  private manifest(version: string): IndexManifest | undefined {
    try {
      return JSON.parse(
        fs.readFileSync(path.join(this.versions.dir(version), 'manifest.json'), 'utf8'),
      ) as IndexManifest;
    } catch {
      return undefined;
    }
  }

  /**
   * Writes an audit entry (the index version is the one current now). The changes made on request
   * await it; those of the background re-index are tracked, and `idle` waits for them. A failed write
   * is logged.
   */
  private record(
    actor: Actor,
    action: string,
    target: string | undefined,
    detail: Record<string, unknown>,
  ): Promise<void> {
    const p: Promise<void> = this.o.audit
      .record({
        actorId: actor.id,
        actorName: actor.name,
        action,
        target,
        detail: { ...detail, indexVersion: this.currentVersion() ?? null },
      })
      .catch((err: unknown) =>
        this.o.logger.error({ err, action }, 'knowledge console: audit entry not written'),
      )
      .finally(() => this.auditing.delete(p));
    this.auditing.add(p);
    return p;
  }

  /** Resolves when every audit entry recorded so far is written. */
  async auditIdle(): Promise<void> {
    while (this.auditing.size) await Promise.all([...this.auditing]);
  }

  private reindexFor(actor: Actor, action: string, target?: string) {
    const change: ReindexChange = { action, target, actorId: actor.id, actorName: actor.name };
    void this.job.request(change);
    return this.job.snapshot();
  }

  documents() {
    return listDocuments(this.o.knowledgeDir, this.indexView());
  }

  document(id: unknown) {
    return showDocument(this.o.knowledgeDir, id, this.indexView());
  }

  /** Edits (or creates) a Markdown guide, FAQ entry or plan. */
  async saveDocument(actor: Actor, id: unknown, content: unknown) {
    const saved = saveMarkdown(this.o.knowledgeDir, id, content);
    const action = saved.created ? 'kb.create' : 'kb.edit';
    await this.record(actor, action, saved.id, { file: saved.id, chars: (content as string).length });
    const job = this.reindexFor(actor, action, saved.id);
    return {
      created: saved.created,
      document: describeDocument(this.o.knowledgeDir, saved.id, this.indexView()),
      job,
    };
  }

  async upload(actor: Actor, input: UploadInput) {
    const stored = await storeUpload({
      knowledgeDir: this.o.knowledgeDir,
      input,
      maxBytes: this.o.uploadMaxBytes,
      defaultOwner: actor.name,
    });
    await this.record(actor, 'kb.upload', stored.id, {
      file: stored.id,
      original: stored.original ?? null,
      filename: stored.filename,
      bytes: stored.bytes,
      type: stored.type,
      kind: stored.kind,
    });
    const job = this.reindexFor(actor, 'kb.upload', stored.id);
    return {
      document: {
        ...describeDocument(this.o.knowledgeDir, stored.id, this.indexView()),
        original: stored.original,
      },
      job,
    };
  }

  async retire(actor: Actor, id: unknown, reason: unknown) {
    if (reason !== undefined && reason !== null && (typeof reason !== 'string' || reason.length > 500)) {
      throw badArgument('reason must be a text of at most 500 characters');
    }
    const r = retireDocument(this.o.knowledgeDir, id);
    await this.record(actor, 'kb.retire', r.id, {
      file: r.id,
      retiredTo: r.retiredTo,
      reason: reason || null,
    });
    return { ...r, job: this.reindexFor(actor, 'kb.retire', r.id) };
  }

  async reindex(actor: Actor) {
    await this.record(actor, 'kb.reindex', undefined, {});
    return { job: this.reindexFor(actor, 'kb.reindex') };
  }

  versionList() {
    const current = this.currentVersion() ?? null;
    const all = this.versions.list();
    const i = current ? all.indexOf(current) : -1;
    return {
      current,
      previous: i >= 0 ? (all[i + 1] ?? null) : null,
      versions: all.map((version) => {
        const m = this.manifest(version);
        const e = readEvalRun(this.o.dataDir, version);
        return {
          version,
          createdAt: m?.createdAt ?? null,
          chunkCount: m?.chunkCount ?? 0,
          documentCount: m?.documents.length ?? 0,
          current: version === current,
          eval: e
            ? {
                recallAt1: e.ours.recallAt1,
                recallAt5: e.ours.recallAt5,
                mrr: e.ours.mrrAt10,
                answeredInScope: e.ours.answeredInScope,
                outOfScopeRejected: e.ours.rejectedOutOfScope,
              }
            : undefined,
        };
      }),
      job: this.job.snapshot(),
    };
  }

  /** Switches to another version (default: the one before the current) and loads it at once. */
  async rollback(actor: Actor, version?: unknown) {
    if (version !== undefined && version !== null && version !== '' && typeof version !== 'string') {
      throw badArgument('version must be a text');
    }
    if (this.job.snapshot().state !== 'idle') {
      throw conflict('a re-index is in progress; roll back when it has finished');
    }
    const from = this.currentVersion() ?? null;
    const all = this.versions.list();
    const i = from ? all.indexOf(from) : -1;
    const target = (version as string | undefined) || (i >= 0 ? all[i + 1] : undefined);
    if (!target) throw conflict('there is no previous index version to roll back to');
    if (!all.includes(target)) throw notFound(`no index version "${target}"`);
    if (target === from) throw conflict(`${target} is already the current version`);
    const manifest = this.manifest(target);
    const currentEmbedder = from ? this.manifest(from)?.embedder : undefined;
    if (!manifest || (currentEmbedder && manifest.embedder !== currentEmbedder)) {
      throw conflict(`${target} was built with another embedding model and cannot be used`);
    }
    this.versions.switchTo(target);
    await this.o.knowledge.refresh();
    if (this.o.knowledge.current && this.o.knowledge.current.version !== target) {
      if (from) this.versions.switchTo(from);
      await this.o.knowledge.refresh();
      throw new ConsoleError(500, 'ServiceError', `${target} could not be loaded; still on ${from}`);
    }
    await this.record(actor, 'kb.rollback', target, { version: target, from });
    return { current: target, rolledBackFrom: from };
  }

  hit(q: unknown, k?: unknown) {
    return hitTest({
      index: this.o.knowledge.current as KnowledgeIndex | undefined,
      answers: this.o.answers,
      q,
      k,
      maxChars: this.o.maxMessageChars,
    });
  }

  /** "This should have matched": adds the question with its expected document to the eval set. */
  async expected(actor: Actor, q: unknown, docId: unknown) {
    const id = typeof docId === 'string' ? docId.trim() : '';
    if (!id || !listKnowledgeFiles(this.o.knowledgeDir).includes(id)) {
      throw badArgument(
        `docId must be a document of the knowledge base (e.g. guides/…md); got "${String(docId ?? '')}"`,
      );
    }
    const r = addExpected({
      knowledgeDir: this.o.knowledgeDir,
      q,
      docId: id,
      addedBy: actor.name,
      maxChars: this.o.maxMessageChars,
    });
    if (!r.duplicate) await this.record(actor, 'kb.expected', id, { file: r.file, q: r.added.q, docId: id });
    return r;
  }

  synonyms() {
    return readSynonyms(this.o.knowledgeDir);
  }

  async saveSynonyms(actor: Actor, content: unknown) {
    const { groups } = writeSynonyms(this.o.knowledgeDir, content);
    await this.record(actor, 'kb.synonyms', SYNONYMS_FILE, { file: SYNONYMS_FILE, groups });
    return { groups, job: this.reindexFor(actor, 'kb.synonyms', SYNONYMS_FILE) };
  }

  evalRuns() {
    return { runs: this.evals.list() };
  }

  async auditEntries(limit = 500): Promise<{ entries: AuditEntry[] }> {
    await this.auditIdle();
    return { entries: await this.o.audit.list(limit, { actionPrefix: 'kb.' }) };
  }

  /** Resolves when no re-index and no eval is queued or running. */
  async idle(): Promise<void> {
    do {
      await this.job.idle();
      await this.evals.idle();
      await this.auditIdle();
    } while (this.job.snapshot().state !== 'idle');
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.job.stop();
    this.evals.stop();
  }
}
