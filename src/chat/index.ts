export { AbsurdChatTransport, type AbsurdChatTransportOptions } from './absurd-chat-transport.ts';
