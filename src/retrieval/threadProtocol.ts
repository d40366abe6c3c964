import type { RetrievalHit, RetrievalResult } from './types.js';

/** What the retrieval thread is started with. */
export interface ThreadSettings {
  /** The offline embedding's vector size (HashingEmbeddings). */
  dimensions: number;
}

/** From the service to the retrieval thread. */
export type ThreadRequest =
  | { type: 'load'; version: string; dir: string }
  | { type: 'retrieve'; id: number; version: string; query: string; k?: number };

/** A hit with its chunk's position in the version's chunk list instead of the chunk. */
export type ThreadHit = Omit<RetrievalHit, 'chunk'> & { index: number };

/** From the retrieval thread to the service. */
export type ThreadReply =
  | { type: 'loaded'; version: string }
  | { type: 'loadFailed'; version: string; error: string }
  | { type: 'retrieved'; id: number; result: Omit<RetrievalResult, 'hits'> & { hits: ThreadHit[] } }
  | { type: 'failed'; id: number; error: string };
