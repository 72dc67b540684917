export { readStream, readIndexedStream, type ReadStreamOptions, type IndexedChunk } from './read-stream.ts';
export { streamResponse, type StreamResponseOptions } from './stream-response.ts';
export { StreamWriter, streamFlushIntervalMs } from './stream-writer.ts';
export { streamChannel } from './stream-wake-hub.ts';
export { validateStreamChunk, defaultMaxChunkBytes } from './validate-stream-chunk.ts';
