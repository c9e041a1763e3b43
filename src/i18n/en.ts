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
  "progress.waiting.turn":
    "Waiting for its turn: place **{place}** in the queue. Videos are sent a few at a time, taking turns between servers; this message moves with the queue.",
  "progress.title": "Video #{job} — generating",
  "progress.elapsedLeft": "Generating — {elapsed} elapsed, about {left} left",
  "progress.overdue": "Generating — {elapsed} elapsed, longer than the usual {usual}; it should be done soon",

  // A finished video: a new message that pings the requester; their reply then points to it
  "delivered.title": "Video #{job}",
  "delivered.done": "Done in {took} — **{charged}** charged; the server has {balance} left.",
  "delivered.link": "[Download the video]({url}) ({why}; the link expires).",
  "delivered.ping": "{mention} your video is ready.",
  "delivered.why.tooLarge": "it is larger than the {mib} MiB upload limit here",
  "delivered.why.refused": "Discord refused the file as too large",
  "delivered.pointer": "**Video #{job}** is ready: {link}",

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
  "validation.notChoiceTyped": "`{option}` must be one of {choices}: type one of them.",
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
  "status.videoLink": "video",
  // `when` is a Discord timestamp that reads "in 23 hours"
  "status.download": "[download link]({url}) (expires {when})",
  "status.downloadExpired": "the download link has expired",

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
  "perm.readMessageHistory": "Read Message History",

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
  // Why a server's rules refuse a /video request (ephemeral); each says what the member can do
  "rule.channel":
    "Videos can't be made in this channel. Use one of the channels the server allows: {channels}.",
  "rule.role":
    "Making videos here is for members with one of these roles: {roles}. Ask a server manager if you should have one.",
  "rule.frozen": "Your video requests in this server are paused by a server manager.",
  "rule.frozenWhy": "Your video requests in this server are paused by a server manager: “{reason}”.",
  "rule.blocklist":
    "Your prompt contains “{phrase}”, which this server does not allow. Reword it and try again.",
  "rule.model": "This server doesn't allow the model {model}. Pick one of: {allowed}.",
  "rule.duration":
    "This server allows videos of at most {max} seconds; you asked for {duration}. Pick a shorter duration.",
  "rule.sound": "This server doesn't allow videos with sound. Set `sound` to False.",
  "rule.member-jobs.one":
    "You already have {count} video in the works, the most this server allows at once. Wait for it to finish.",
  "rule.member-jobs.other":
    "You already have {count} videos in the works, the most this server allows at once. Wait for one to finish.",
  "rule.server-jobs.one":
    "This server already has {count} video in the works, the most it allows at once. Try again in a few minutes.",
  "rule.server-jobs.other":
    "This server already has {count} videos in the works, the most it allows at once. Try again in a few minutes.",
  "rule.daily-cap":
    "This video costs {cost}; you have spent {spent} of your {cap} for today (UTC). Try a cheaper video, or wait until tomorrow.",
  "rule.title": "Not allowed here",

  // Approvals
  "approval.waiting":
    "This video costs more than this server lets a member spend without a manager's approval: **{held}** are held, and a manager has been asked. You'll see the decision here.",
  "approval.waitingTitle": "Video #{job} — waiting for approval",
  "approval.requestTitle": "Approval needed: video #{job}",
  "approval.request":
    "{user} asks for a video that costs **{cost}** ({model}). Approve it, or deny it with a reason. Without a decision in 24 hours the credits go back.",
  "approval.approve": "Approve",
  "approval.deny": "Deny",
  "approval.approved": "Approved by {user}.",
  "approval.denied": "Denied by {user}.",
  "approval.deniedWhy": "Denied by {user}: “{reason}”.",
  "approval.expired": "Nobody decided within 24 hours; the credits went back.",
  "approval.cancelled": "Cancelled by {user}.",
  "approval.denyTitle": "Deny video #{job}",
  "approval.denyReason": "Reason (shown to the member)",
  "approval.noChannel":
    "A job needs approval but the server has no moderator channel; ask a manager to set one with `/budget config moderator_channel`.",
  "approval.tooLate": "Video #{job} was already decided or has moved on: nothing changed.",
  "approval.done": "Done: video #{job} is {state}.",
  "reason.DENIED": "A server manager ({by}) did not approve this video.",
  "reason.DENIED_WHY": "A server manager ({by}) did not approve this video: “{reason}”.",
  "reason.APPROVAL_EXPIRED": "No server manager decided on this video within 24 hours.",
  "reason.CANCELLED": "This video was cancelled by {by} before it was sent.",

  // Who may do what
  "rights.managers": "Only this server's managers (Manage Server, or the manager role it names) can do that.",
  "rights.operators":
    "Only the bot's operators can create or remove credits. Server managers decide how the server's credits are shared.",
  "rights.cancel": "Only the member who asked for the video, or a server manager, can cancel it.",
  "rights.otherServer": "That belongs to another server: nothing changed.",

  // /budget config and the lists
  "config.title": "Budget settings",
  "config.saved": "Saved. The settings are now:",
  "config.dailyCap": "Daily cap per member",
  "config.memberJobs": "Jobs in flight per member",
  "config.serverJobs": "Jobs in flight for the server",
  "config.maxDuration": "Longest video",
  "config.allowSound": "Sound",
  "config.allowedModels": "Models",
  "config.defaultModel": "Default model",
  "config.approvalAbove": "Approval above",
  "config.moderatorChannel": "Moderator channel",
  "config.galleryChannel": "Gallery channel",
  "config.managerRole": "Manager role",
  "config.channels": "Channels for /video",
  "config.roles": "Roles that may generate",
  "config.blocklist": "Blocked phrases",
  "config.none": "no limit",
  "config.everywhere": "all channels",
  "config.everyone": "everyone",
  "config.all": "all",
  "config.unset": "not set",
  "config.seconds": "{seconds} s",
  "config.badModels": "`allowed_models` must be a comma list of {models}; “{value}” is not one of them.",
  "config.approvalNeedsChannel":
    "`approval_above` needs a moderator channel first: set `moderator_channel` (in the same command is fine).",
  "config.defaultNotAllowed":
    "`default_model` {model} is not among `allowed_models`: allow it or pick another default.",
  "list.added": "Added {item}.",
  "list.removed": "Removed {item}.",
  "list.notThere": "{item} was not on the list: nothing changed.",
  "list.already": "{item} is already on the list.",
  "list.empty": "The list is empty.",
  "list.full": "The list is full ({max}); remove something first.",
  "freeze.done": "{user} can no longer spend this server's credits.",
  "freeze.undone": "{user} can spend this server's credits again.",
  "freeze.notFrozen": "{user} was not paused: nothing changed.",

  // /budget grant and allowance (operators)
  "grant.done": "{change} for this server ({reason}). The balance is now **{balance}**.",
  "grant.clamped":
    "Only {applied} could be removed: the balance was lower. The balance is now **{balance}**.",
  "grant.badGuild": "`guild_id` must be a Discord server id (17–20 digits).",
  "grant.zero": "`credits` must not be 0.",
  "allowance.set":
    "The monthly allowance is now **{credits}**: on the 1st of each month (UTC) the balance is topped up to it. Next top-up: {next}.",
  "allowance.off": "The monthly allowance is off.",

  // /budget show additions
  "budget.allowance": "Monthly allowance",
  "budget.allowanceValue": "{credits}, next top-up {next}",
  "budget.spentToday": "Your spending today",
  "budget.capLeft": "Left of your daily cap",
  "budget.slots": "Your job slots free",
  "budget.frozen": "⚠️ Your video requests here are paused by a server manager.",
  "budget.frozenWhy": "⚠️ Your video requests here are paused by a server manager: “{reason}”.",

  // /video cancel
  "cancel.done": "Video #{job} was cancelled and its credits went back to the server.",
  "cancel.sent": "Video #{job} has already been sent to the video service, which cannot stop it.",
  "cancel.over": "Video #{job} has already ended ({state}).",

  // Audit trail lines in the moderator channel
  "audit.grant": "{actor} changed the balance by {change} ({reason}); balance {balance}.",
  "audit.config": "{actor} changed the settings: {what}.",
  "audit.freeze": "{actor} paused {user}{why}.",
  "audit.unfreeze": "{actor} let {user} spend again.",
  "audit.denied": "{actor} denied video #{job} of {user}{why}.",
  "audit.approved": "{actor} approved video #{job} of {user}.",

  // /budget usage (managers): spending per member and model; `period` is one of `usage.period.*`
  "usage.title": "Spending — {period}",
  "usage.period.today": "today (UTC)",
  "usage.period.7d": "the last 7 days",
  "usage.period.30d": "the last 30 days",
  "usage.period.month": "this month (UTC)",
  "usage.since": "Since {since}.",
  "usage.counts":
    "Counted: the credits of the videos delivered in this period, settled to what the video service charged. Failed and cancelled videos cost nothing.",
  "usage.held": "Not counted yet: {credits} held for videos in flight.",
  "usage.empty": "No video was delivered in this period: nothing was spent.",
  "usage.member": "Member",
  "usage.model": "Model",
  "usage.jobs": "Videos",
  "usage.credits": "Credits",
  "usage.total": "Total",
  "usage.more.one": "… and {count} more row in the CSV file.",
  "usage.more.other": "… and {count} more rows in the CSV file.",
  "usage.csv": "The CSV file has one row per member and model.",

  // /budget ledger (managers): the server's ledger, newest first, page by page
  "ledger.title": "Credit ledger",
  "ledger.balance": "Balance now: **{balance}**. Newest first.",
  "ledger.empty": "No rows here.",
  "ledger.footer": "Rows {newest} to {oldest}",
  "ledger.previous": "Previous",
  "ledger.next": "Next",
  "ledger.by": "by {actor}",
  "ledger.job": "video #{job}",
  "ledger.kind.grant": "Grant",
  "ledger.kind.hold": "Held for a video",
  "ledger.kind.capture": "Settled (unused part back)",
  "ledger.kind.release": "Returned",
  "ledger.kind.adjustment": "Extra charge",
  "ledger.actor.cli": "the command-line tool",
  "ledger.actor.allowance": "the monthly allowance",
  "ledger.actor.system": "the bot",

  // A server not on the operator's list (ALLOWED_GUILD_IDS): said once before the bot leaves
  "guild.leaving":
    "Hello! This bot only works in the servers its operator has allowed, and this server is not one of them, so it is leaving now. Nothing was charged. If you expected to use it here, ask the bot's operator.",
  "guild.notAllowed": "This bot does not work in this server. Ask the bot's operator if you expected it to.",
  "reply.answeredPrivately": "Answered privately.",
  // A delivered clip's buttons, and what they open and answer (the new video's own messages are the usual ones)
  "clip.button.reroll": "Re-roll",
  "clip.button.edit": "Edit",
  "clip.button.continue": "Continue",
  "clip.button.reference": "Use as reference",
  "clip.button.share": "Share",
  "clip.edit.title": "Edit this clip · std {std}, pro {pro} credits",
  "clip.edit.prompt": "What to change",
  "clip.edit.quality": "Quality: pro or std",
  "clip.continue.title": "Continue this clip · {cost}",
  "clip.continue.prompt": "What happens next",
  "clip.reference.title": "Use as reference · {cost}",
  "clip.reference.prompt": "What the new video should show",
  "clip.gone":
    "I can't find this video's job in this server, so this button does nothing. Nothing was charged.",
  "clip.notDone": "This video has no finished clip to use. Nothing was charged.",
  "clip.unavailable": "I can't use this video any more: {why}. Nothing was charged.",
  "clip.tooLarge": "This video is too large for me to take its last frame. Nothing was charged.",
  "clip.frameFailed": "I could not take the last frame of this video. Nothing was charged; please try again.",
  "clip.frame": "The last frame of this clip, for {user}'s next video.",
  "clip.queued": "Your new video is queued: {link}",
  "clip.cantPost":
    "I can't post the new video in this channel: I lack {permissions} here. Nothing was charged.",
  "reason.NOT_POSTED": "I could not post this video's message in the channel, so I did not send it.",

  // Cancel on a job's reply while it waits
  "job.button.cancel": "Cancel",

  // Share: a finished video in the server's gallery channel
  "share.onlyRequester": "Only the member who made this video can share it.",
  "share.noGallery":
    "This server has no gallery channel yet; a manager can set one with `/budget config gallery_channel`.",
  "share.done": "Shared in {channel}: {link}",
  "share.already": "This video is already in {channel}: {link}",
  "share.busy": "This video is being shared right now.",
  "share.cantPost":
    "I can't post in {channel}: a manager can give me View Channel, Send Messages, Attach Files and Embed Links there.",
  "share.title": "Shared video",
  "share.original": "[Original message]({link})",

  // "Animate with Kling" on a message
  "animate.title": "Animate with Kling · {cost}",
  "animate.prompt": "Prompt",
  "animate.duration": "Duration (seconds)",
  "animate.durationHint": "{min}–{max}",
  "animate.model": "Model",
  "animate.modelHint": "pro, std, o3-pro or o3-std",
  "animate.noImage":
    "“Animate with Kling” needs a message with an image: a PNG, JPEG or WebP attachment, or an image embed. This message has none.",
  "animate.gone": "I can't read that message any more (it may have been deleted). Nothing was charged.",
} as const;
