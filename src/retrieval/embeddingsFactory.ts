import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { OpenAIEmbeddings } from '@langchain/openai';
import type { Config } from '../config.js';
import { HashingEmbeddings } from './hashingEmbeddings.js';

export interface EmbeddingsChoice {
  embeddings: EmbeddingsInterface;
  /** Recorded in each index version; a change of embedder rebuilds the index. */
  id: string;
}

/**
 * OpenAIEmbeddings when an embedding model is configured (OpenAI, Azure, or a self-hosted
 * OpenAI-compatible server such as one serving bge-m3); otherwise the offline hashing embedding.
 */
export function createEmbeddings(config: Pick<Config, 'llm'>): EmbeddingsChoice {
  const llm = config.llm;
  if (llm?.embeddingModel) {
    return {
      embeddings: new OpenAIEmbeddings({
        model: llm.embeddingModel,
        apiKey: llm.apiKey,
        configuration: llm.baseURL ? { baseURL: llm.baseURL } : undefined,
        timeout: llm.timeoutMs * 4,
        maxRetries: 2,
      }),
      id: `openai:${llm.embeddingModel}@${llm.baseURL ?? 'api.openai.com'}`,
    };
  }
  const hashing = new HashingEmbeddings();
  return { embeddings: hashing, id: hashing.modelId };
}
