export type {
  AttachmentSpec,
  AutocompleteSpec,
  ChatInputSpec,
  ComponentSpec,
  MessageMenuSpec,
  ModalSubmitSpec,
  OptionValue,
} from "./builders.js";
export { OptionType } from "./builders.js";
export type { StoredCommand } from "./commands.js";
export { CloseCode, type IdentifyRecord } from "./gateway.js";
export type { ChannelModel, FakeChannelConfig, FakeGuildConfig, GuildModel } from "./guilds.js";
export type { FakeAttachment, FakeMessage, MessageWrite, Pings, UploadedFile } from "./messages.js";
export {
  DEFAULT_BOT_PERMISSIONS,
  DEFAULT_EVERYONE_PERMISSIONS,
  MessageFlag,
  Permission,
} from "./protocol.js";
export {
  type ExpiredAnswer,
  type FakeDiscord,
  type FakeDiscordOptions,
  type FaultHandle,
  type FaultSpec,
  type InteractionState,
  type MemberMessageSpec,
  type RateLimitRule,
  type RecordedRequest,
  type RequestMatcher,
  startFakeDiscord,
} from "./server.js";
