import { OpenAIEmbeddings } from '@langchain/openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEmbeddings } from '../../src/retrieval/embeddingsFactory.js';
import { HashingEmbeddings } from '../../src/retrieval/hashingEmbeddings.js';
import { buildIndex } from '../../src/retrieval/indexBuilder.js';
import { IndexVersions } from '../../src/retrieval/indexVersions.js';
import { KnowledgeBase, loadIndexVersion } from '../../src/retrieval/knowledgeIndex.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fakeOpenAI.js';
import {
  REAL_KNOWLEDGE_DIR,
  copySmallKnowledge,
  hitDocs,
  makeTempDir,
  removeDir,
  silentLogger,
} from '../helpers/knowledge.js';

let fake: FakeOpenAI;
const temps: string[] = [];
beforeAll(async () => {
  fake = await startFakeOpenAI({ dimensions: 64 });
});
afterAll(async () => {
  await fake?.close();
  temps.forEach(removeDir);
});

function configFor(env: Record<string, string>) {
  const dataDir = makeTempDir();
  temps.push(dataDir);
  return loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dataDir, KNOWLEDGE_DIR: REAL_KNOWLEDGE_DIR, ...env });
}

describe('createEmbeddings', () => {
  it('uses the offline hashing embedding when no embedding model is configured', () => {
    const offline = createEmbeddings(configFor({}));
    expect(offline.embeddings).toBeInstanceOf(HashingEmbeddings);
    // A chat model alone does not change the embedding.
    const chatOnly = createEmbeddings(configFor({ OPENAI_BASE_URL: fake.url }));
    expect(chatOnly.embeddings).toBeInstanceOf(HashingEmbeddings);
    expect(chatOnly.id).toBe(offline.id);
  });

  it('uses OpenAIEmbeddings against the configured OpenAI-compatible server', () => {
    const choice = createEmbeddings(
      configFor({ OPENAI_BASE_URL: fake.url, OPENAI_EMBEDDING_MODEL: 'bge-m3' }),
    );
    expect(choice.embeddings).toBeInstanceOf(OpenAIEmbeddings);
    expect(choice.id).toContain('bge-m3');
    expect(choice.id).toContain(fake.url);
  });
});

describe('the knowledge index with OpenAI-compatible embeddings', () => {
  it('builds the real knowledge base and retrieves from it, sending the configured model', async () => {
    fake.reset();
    const config = configFor({ OPENAI_BASE_URL: fake.url, OPENAI_EMBEDDING_MODEL: 'fake-embed-64' });
    const { embeddings, id } = createEmbeddings(config);
    const manifest = await buildIndex({
      knowledgeDir: REAL_KNOWLEDGE_DIR,
      dataDir: config.dataDir,
      embeddings,
      embedderId: id,
    });
    expect(manifest.embedder).toBe(id);
    expect(manifest.dimensions).toBe(64);
    expect(manifest.skipped).toEqual([]);

    const built = fake.embeddingRequests();
    expect(built.length).toBeGreaterThan(0);
    const sentTexts = built.reduce((n, r) => n + (r.body.input as string[]).length, 0);
    expect(sentTexts).toBe(manifest.chunkCount + manifest.faqQuestionCount);

    const index = await loadIndexVersion(new IndexVersions(config.dataDir).dir(manifest.version), embeddings);
    const result = await index.retriever.retrieve('lam sao kich hoat tai khoan vneid muc 2', { k: 5 });
    expect(hitDocs(result.hits, 3)).toContain('guides/vneid-dang-ky-va-kich-hoat-muc-2.md');
    expect(result.signals.vectorSimilarity).toBeGreaterThan(0);

    // The query was embedded by the server too, and every request named the configured model.
    expect(fake.embeddingRequests().length).toBe(built.length + 1);
    expect(fake.embeddingRequests().every((r) => r.body.model === 'fake-embed-64')).toBe(true);
    expect(fake.chatRequests()).toHaveLength(0);
  });

  it('rebuilds when the configured embedding changes, and reuses nothing across embedders', async () => {
    fake.reset();
    const knowledgeDir = copySmallKnowledge();
    const dataDir = makeTempDir();
    temps.push(knowledgeDir, dataDir);
    const hashing = new HashingEmbeddings();
    const offline = await buildIndex({
      knowledgeDir,
      dataDir,
      embeddings: hashing,
      embedderId: hashing.modelId,
    });

    const config = configFor({ OPENAI_BASE_URL: fake.url, OPENAI_EMBEDDING_MODEL: 'fake-embed-64' });
    const { embeddings, id } = createEmbeddings(config);
    const kb = new KnowledgeBase({
      knowledgeDir,
      dataDir,
      embeddings,
      embedderId: id,
      logger: silentLogger(),
    });
    await kb.start();
    expect(kb.status().ready).toBe(true);
    expect(kb.status().version).not.toBe(offline.version);
    expect(kb.current!.manifest.embedder).toBe(id);
    expect(kb.current!.manifest.dimensions).toBe(64);
    expect(kb.current!.manifest.reusedVectors).toBe(0);
    expect((await kb.retrieve('quên mật khẩu VNeID')).hits[0]!.chunk.docId).toMatch(/vneid-quen-mat-khau/);
  });
});
