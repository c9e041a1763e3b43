import { messageCommand } from "./define.js";

/**
 * "Animate with Kling" on a message with an image: a modal asks for the prompt, the duration and the model,
 * and the image becomes the start of an image-to-video job (src/discord/handlers/animate.ts).
 */
export const AnimateCommand = messageCommand({
  name: "Animate with Kling",
  name_localizations: { ja: "Klingで動かす" },
});
