/**
 * The retrieval thread's entry (see `threadedRetriever.ts`): loads the index version the service
 * has loaded, from the same directory and with the same offline embedding, and answers `retrieve`
 * requests from it. It holds no other state and does no I/O besides reading the version.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HashingEmbeddings } from './hashingEmbeddings.js';
import { loadIndexVersion, type KnowledgeIndex } from './indexLoader.js';
import type { ThreadReply, ThreadRequest, ThreadSettings } from './threadProtocol.js';

const port = parentPort;
if (!port) throw new Error('retrievalThread.ts runs only as a worker thread');
const settings = workerData as ThreadSettings;
const embeddings = new HashingEmbeddings({ dimensions: settings.dimensions });
let index: KnowledgeIndex | undefined;
/** The version being loaded; a later `load` supersedes it. */
let loading: string | undefined;

const reply = (message: ThreadReply) => port.postMessage(message);

port.on('message', (request: ThreadRequest) => {
  if (request.type === 'load') {
    loading = request.version;
    loadIndexVersion(request.dir, embeddings).then(
      (loaded) => {
        if (loading !== request.version) return;
        index = loaded;
        reply({ type: 'loaded', version: loaded.version });
      },
      (err: unknown) => {
        if (loading !== request.version) return;
        reply({ type: 'loadFailed', version: request.version, error: String(err) });
      },
    );
    return;
  }
  const { id, query, k, version } = request;
  if (!index || index.version !== version) {
    reply({ type: 'failed', id, error: `version ${version} is not loaded here` });
    return;
  }
  index.retriever.retrieve(query, { k }).then(
    (result) =>
      reply({
        type: 'retrieved',
        id,
        // The chunks stay here: the service has the same ones, in the same order, for this version.
        result: {
          ...result,
          hits: result.hits.map((h) => ({
            index: index!.retriever.chunkIndex(h.chunk.id)!,
            score: h.score,
            ranks: h.ranks,
          })),
        },
      }),
    (err: unknown) => reply({ type: 'failed', id, error: String(err) }),
  );
});
