/**
 * The naive baseline of `npm run bench`: LangChain's BM25Retriever over the same chunks as the
 * knowledge index (the text the lexical leg indexes), k=5, no accent folding, no synonyms, no
 * vectors, no FAQ matching. `NaiveRetriever` wraps it in our `Retriever` shape so the whole
 * service can answer with it (createApp's `overrides.retriever`): every hit counts as a sure
 * one (confidence 1), so the baseline answers whenever BM25 finds anything.
 */
import { BM25Retriever } from '@langchain/community/retrievers/bm25';
import { Document } from '@langchain/core/documents';
import { indexText } from '../src/retrieval/hybridRetriever.js';
import type { IndexedChunk, RetrievalResult, Retriever } from '../src/retrieval/types.js';

export const BASELINE_NAME = 'LangChain BM25Retriever (@langchain/community/retrievers/bm25), k=5';

/** BM25Retriever over `chunks`, each document carrying its chunk id in `metadata.id`. */
export function naiveBm25(chunks: readonly IndexedChunk[], k = 5): BM25Retriever {
  return BM25Retriever.fromDocuments(
    chunks.map((c) => new Document({ pageContent: indexText(c), metadata: { id: c.id, docId: c.docId } })),
    { k },
  );
}

/** The baseline as a `Retriever`: built lazily from the chunks once the index is loaded. */
export class NaiveRetriever implements Retriever {
  private bm25: BM25Retriever | undefined;
  private byId = new Map<string, IndexedChunk>();

  /** `chunks` is read on first use (or `prepare`), when the knowledge base has loaded. */
  constructor(private readonly chunks: () => readonly IndexedChunk[] | undefined) {}

  /** Builds the BM25 index now (so the first question does not pay for it). */
  prepare(): void {
    const chunks = this.chunks();
    if (!chunks) throw new Error('the knowledge index is not loaded yet');
    this.bm25 = naiveBm25(chunks);
    this.byId = new Map(chunks.map((c) => [c.id, c]));
  }

  async retrieve(query: string): Promise<RetrievalResult> {
    if (!this.bm25) this.prepare();
    const docs = await this.bm25!.invoke(query);
    const hits = docs.flatMap((d, i) => {
      const chunk = this.byId.get(String(d.metadata.id));
      return chunk ? [{ chunk, score: 1 / (i + 1), ranks: { lexical: i + 1 } }] : [];
    });
    return {
      query,
      normalized: query,
      expansions: [],
      hits,
      legs: {
        lexical: hits.map((h, i) => ({ chunkId: h.chunk.id, score: h.score, rank: i + 1 })),
        vector: [],
        faq: [],
      },
      confidence: hits.length ? 1 : 0,
      signals: { coverage: 0, vectorSimilarity: 0, faqSimilarity: 0, faqBest: 0, agreement: 0 },
    };
  }
}
