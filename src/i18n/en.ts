/**
 * Every text a member or a manager reads, in English. The keys are flat and grouped by area; `{name}` is a
 * placeholder whose value `t` fills in (numbers are formatted for the locale, so a job number goes in as a
 * string: `#1,234` would read as two numbers). Durations and credit amounts go in already formatted
 * (`formatDuration`, `formatCredits`). A pair of keys `x.one` / `x.other` is a plural: ask for `x` with a
 * `count` and the locale's plural rule picks one. Keys in UPPER_SNAKE_CASE are the error codes they are for.
 * The Japanese catalogue (ja.ts) must have every key, with the same placeholders.
 */
export const en = {
  // Replies to a request to make a video
  "reply.invalidInput": "I can't make this video yet:\n{problems}\n\nNothing was charged.",
  "reply.guildOnly": "I work in servers: use this command in a server channel.",
  "reply.insufficient.title": "Not enough server credits",
  "reply.insufficient.body":
    "This video costs **{cost}**; the server has **{balance}** ({short} short).\nNothing was charged. Try a shorter or cheaper video, or ask the bot's operator for more credits.",
  "reply.queued.title": "Video #{job} — queued",
  "reply.queued.held": "Queued — **{held}** held; the server has {left} left.",
  "reply.warning.missingPermissions":
    "I lack {permissions} in this channel: if this video takes longer than 15 minutes I may not be able to post it here.",
  "reply.field.model": "Model",
  "reply.field.duration": "Duration",
  "reply.field.durationSeconds": "{seconds} s",
  "reply.field.sameAsSource": "same as source",
  "reply.field.aspectRatio": "Aspect ratio",
  "reply.field.sound": "Sound",
  "reply.field.soundOn": "on",
  "reply.field.soundOff": "off",
  "reply.field.requestedBy": "Requested by",

  // A job waiting to be sent (its title is `reply.queued.title`), then generating
  "progress.waiting":
    "The video service asked me to slow down: this video waits to be sent (place {place} in the queue).",
  "progress.title": "Video #{job} — generating",
  "progress.elapsed": "Generating — {elapsed} elapsed",
  "progress.elapsedLeft": "Generating — {elapsed} elapsed, about {left} left",
  "progress.elapsedAlmostDone": "Generating — {elapsed} elapsed, almost done",

  // A finished video
  "delivered.title": "Video #{job}",
  "delivered.done": "Done in {took} — **{charged}** charged.",
  "delivered.link": "[Download the video]({url}) ({why}; the link expires).",
  "delivered.ping": "{mention} your video is ready.",
  "delivered.why.tooLarge": "it is larger than the {mib} MiB upload limit here",
  "delivered.why.refused": "Discord refused the file as too large",

  // A job that ended without a video
  "failed.title": "Video #{job} — failed",
  "failed.ping": "{mention} your video could not be made.",
  "failed.refund.one": "Your {count} credit was returned to the server's budget.",
  "failed.refund.other": "Your {count} credits were returned to the server's budget.",

  // Why a job failed, by its failure code (UNCONFIRMED_TIMEOUT: UNCONFIRMED with `timedOut`); a Kling error
  // code has its text under `kling.*`
  "reason.TIMED_OUT":
    "The video service has been working on this video for {elapsed}, longer than the {limit} I wait, so I stopped waiting.",
  "reason.UNCONFIRMED_TIMEOUT":
    "The video service did not answer in time, so I can't tell whether it started this video. I stopped it here rather than risk making it twice. You can simply try again.",
  "reason.UNCONFIRMED":
    "The video service could not confirm this request, so I stopped it here rather than risk making it twice. You can simply try again.",
  "reason.SUBMIT_ERROR": "Something went wrong while sending this video to the video service.",
  "reason.INTERRUPTED":
    "The bot restarted while sending this video to the video service and cannot tell whether it arrived. I stopped it here to be safe.",
  "reason.TASK_FAILED": "The video service could not make this video: “{reason}”",
  "reason.NO_VIDEO_URL":
    "The video service reported this video as finished but gave no link I can fetch it from.",
  // `why` is one of these, named like the job flow's `VideoUnavailableWhy`
  "reason.VIDEO_UNAVAILABLE": "The video was made, but I could not fetch it: {why}.",
  "reason.VIDEO_UNAVAILABLE.http-status": "its host answered HTTP {status}",
  "reason.VIDEO_UNAVAILABLE.http-status-expired":
    "its host answered HTTP {status} (the link may have expired)",
  "reason.VIDEO_UNAVAILABLE.not-a-video": "what its link served is not a video file",
  "reason.VIDEO_UNAVAILABLE.not-allowed": "its link points somewhere I do not download from",
  "reason.VIDEO_UNAVAILABLE.too-slow": "its host was too slow",
  "reason.VIDEO_UNAVAILABLE.unreachable": "its host could not be reached",
  "reason.DELIVERY_FAILED": "The video was made, but I could not post it in the channel.",

  // What a Kling API error means for the member, by the client's error code; none takes parameters
  "kling.INVALID_PROMPT":
    "Kling refused the prompt. Reword it (no empty or over-long prompts, nothing it may block) and try again.",
  "kling.INVALID_DURATION": "Kling refused the duration. Pick a length from 3 to 15 seconds.",
  "kling.INVALID_TYPE": "Kling does not support that model or mode. Pick another one.",
  "kling.MISSING_IMAGE": "This mode needs an image. Add an image (a link Kling can download) and try again.",
  "kling.MISSING_VIDEO":
    "Video edit needs a video. Add the video to edit (a link Kling can download) and try again.",
  "kling.INVALID_API_KEY":
    "The bot's Kling API key is missing or invalid — tell the bot's operator to fix it. Your server's credits were not charged.",
  "kling.INSUFFICIENT_CREDITS":
    "The bot's Kling account is out of credits — tell the bot's operator. Your server's credits were not charged.",
  "kling.RATE_LIMITED": "Kling is getting too many requests right now. Wait a minute and try again.",
  "kling.INTERNAL_ERROR": "Kling had a server error. Try again later.",
  "kling.INVALID_REQUEST": "Kling refused the request. Check the options you chose and try again.",
  "kling.TIMEOUT": "Kling did not answer in time. Try again later.",
  "kling.NETWORK_ERROR": "The bot could not reach Kling. Try again later.",
  "kling.BAD_RESPONSE":
    "Kling sent an answer the bot could not understand. Try again later; if it keeps happening, tell the bot's operator.",
  "kling.UNKNOWN_ERROR": "Something went wrong while talking to Kling. Try again later.",
  "kling.cancelled": "The request to Kling was cancelled (the bot may be restarting). Try again in a moment.",
  // `reason` is Kling's own words; `message` a `kling.*` text
  "kling.refused": "Kling refused the request: {reason}",
  "kling.said": "{message} (Kling said: {reason})",
  "kling.taskExpired": "The task expired before it finished.",
  "kling.taskReportedAs": "Kling reported the task as {status}.",

  // Refusals of a request's options; `option` is the option's name, shown in backticks
  "validation.empty": "`{option}` is empty: {hint}.",
  "validation.invisible":
    "`{option}` has no visible characters: {hint} in words (spaces, invisible and formatting characters alone do not count).",
  "validation.hint.prompt": "describe what the video should show",
  "validation.hint.negativePrompt": "leave it out or say what to avoid",
  "validation.hint.default": "fill it in",
  "validation.controlCharacter":
    "`{option}` contains the control character {codePoint}: remove it (tabs and line breaks are fine).",
  "validation.brokenCharacter":
    "`{option}` contains {codePoint}, half of a character that was cut apart (often an emoji): remove it or paste the whole character again.",
  "validation.tooLong": "`{option}` is too long (at most {max} characters).",
  "validation.wrongType":
    "`{option}` must be {expected}; Discord may be showing an old version of this command: reload Discord and fill it in again.",
  "validation.expected.text": "text",
  "validation.expected.boolean": "True or False",
  "validation.notChoice": "`{option}` must be one of {choices}: pick one from the list.",
  "validation.notHttps": "`{option}` must be an https:// link to the file.",
  "validation.linkCredentials":
    "`{option}` contains a user name or password: give a plain https:// link to the file.",
  "validation.linkNotPublic":
    "`{option}` points to a private or local address: give a public https:// link to the file, or attach it.",
  "validation.notAttached": "`{option}` did not arrive as a Discord attachment: attach the file again.",
  "validation.mediaType": "`{option}` must be {media}; {name} is {type}.",
  "validation.mediaTypeUnknown": "`{option}` must be {media}; {name} is of unknown type.",
  "validation.media.image": "a PNG, JPEG or WebP image",
  "validation.media.video": "an MP4 or MOV video",
  "validation.noName": "(no name)",
  "validation.mediaSize": "`{option}` is {size} MiB; the limit is {max} MiB.",
  "validation.both": "Give either `{a}` or `{b}`, not both.",
  "validation.neither": "Attach `{a}` or give `{b}`.",
  "validation.referenceImageMissing": "Attach at least one reference image (`{option}`).",
  "validation.kling3Only.one":
    "{options} applies only to Kling 3.0 models (`pro`, `std`): remove it or pick one of those models.",
  "validation.kling3Only.other":
    "{options} apply only to Kling 3.0 models (`pro`, `std`): remove them or pick one of those models.",
  "validation.durationWhole": "`{option}` must be a whole number of seconds.",
  "validation.durationRange": "`{option}` must be {min}–{max} seconds.",
  "validation.fidelityRange": "`{option}` must be 0–1.",
  "validation.jobNumber":
    "`{option}` must be a job number (a whole number from 1): pick one from the list or see `/video history`.",
  "validation.unknownSubcommand":
    "`/video` has no subcommand {name} (reference `{ref}`): Discord may be showing an old command list; reload Discord and pick {known}.",
  "validation.unexpected": "`{option}` has a value I cannot use: reload Discord and fill it in again.",
  "validation.unexpectedRequest": "Something in this request is not valid: reload Discord and try again.",

  // /video status
  "status.title": "Video #{job}",
  "status.notFound": "There is no video #{job} in this server.",
  "status.requestedBy": "Requested by {user} {when}",
  "status.reason": "Reason: {reason}",
  "status.refunded": "refunded",
  "status.replyLink": "reply",

  // /video history
  "history.title": "Your recent videos",
  "history.empty": "You have not made any videos in this server yet. Try `/video text`.",

  // /budget show
  "budget.title": "Server video credits",
  "budget.balance": "Balance",
  "budget.held": "Held for jobs in flight",
  "budget.spentMonth": "Your spending this month",
  "budget.spentAll": "Your spending in all",
  "budget.spentAllValue.one": "{credits} ({count} video)",
  "budget.spentAllValue.other": "{credits} ({count} videos)",
  "budget.inFlight": "Jobs in flight ({count})",
  "budget.none": "none",

  // Job states
  "state.pending": "Waiting to be sent",
  "state.submitting": "Being sent",
  "state.running": "Generating",
  "state.delivering": "Being delivered",
  "state.completed": "Done",
  "state.failed": "Failed",

  // Unexpected errors
  "error.reference":
    "Something went wrong on my side (reference `{ref}`). Nothing was charged for it; please try again.",
  "error.componentUnknown": "This button no longer works. Run the command again.",

  // Discord permission names, as Discord's own settings show them
  "perm.viewChannel": "View Channel",
  "perm.sendMessages": "Send Messages",
  "perm.sendMessagesInThreads": "Send Messages in Threads",
  "perm.attachFiles": "Attach Files",
  "perm.embedLinks": "Embed Links",

  // Models (keys by model id) and O3 quality choices
  "model.pro": "Kling 3.0 Pro",
  "model.std": "Kling 3.0 Standard",
  "model.o3-pro": "Kling O3 Pro",
  "model.o3-std": "Kling O3 Standard",
  "model.quality.pro": "Pro",
  "model.quality.std": "Standard",

  // Units (see formatCredits and formatDuration)
  "unit.credits.one": "{count} credit",
  "unit.credits.other": "{count} credits",
  "unit.duration.hours": "{h}h {m}m",
  "unit.duration.minutes": "{m}m {s}s",
  "unit.duration.seconds": "{s}s",
} as const;
