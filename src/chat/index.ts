export { AbsurdChatTransport, type AbsurdChatTransportOptions } from './absurd-chat-transport.ts';
export { discardSupersededChunks, supersededChunkType } from '../streams/superseded-marker.ts';
