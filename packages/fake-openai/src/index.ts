export type {
  FakeChatAnswer,
  FakeChatHandler,
  FakeChatRequest,
  FakeFailureOptions,
  FakeOpenAIOptions,
  FakeOpenAIServer,
  FakeRecordedRequest,
} from './fake-openai-server.js';
export { echoChat, fixedChatText, fixedTextChat, startFakeOpenAI } from './fake-openai-server.js';
export type { FakeToolCall, FakeToolCallsAnswer, OpenAIErrorBody } from './fake-openai-wire.js';
export { toolCallsAnswer } from './fake-openai-wire.js';
