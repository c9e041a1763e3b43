import type { en } from "./en.js";

/**
 * The Japanese catalogue: every key of en.ts, with the same placeholders (a missing key does not compile; a
 * test checks the placeholders). Polite and short (です/ます), written for a Discord community rather than
 * word for word. Model names, option names, commands and numbers stay as they are; Japanese has no plural,
 * so both forms of a plural pair read the same.
 */
export const ja: { readonly [K in keyof typeof en]: string } = {
  // Replies to a request to make a video
  "reply.invalidInput": "この動画はまだ作れません：\n{problems}\n\nクレジットは消費していません。",
  "reply.guildOnly": "このボットはサーバー専用です。サーバーのチャンネルでコマンドを使ってください。",
  "reply.insufficient.title": "サーバーのクレジットが足りません",
  "reply.insufficient.body":
    "この動画には **{cost}** かかりますが、サーバーの残高は **{balance}** です（{short} 不足）。\nクレジットは消費していません。短い動画か安いモデルを選ぶか、ボットの運営者にクレジットの追加を頼んでください。",
  "reply.queued.title": "動画 #{job} — 受付済み",
  "reply.queued.held": "受け付けました。**{held}** を確保し、サーバーの残りは {left} です。",
  "reply.warning.missingPermissions":
    "このチャンネルでボットに次の権限がありません：{permissions}。動画の完成に15分以上かかると、ここに投稿できないことがあります。",
  "reply.field.model": "モデル",
  "reply.field.duration": "長さ",
  "reply.field.durationSeconds": "{seconds} 秒",
  "reply.field.sameAsSource": "元の動画と同じ",
  "reply.field.aspectRatio": "アスペクト比",
  "reply.field.sound": "音声",
  "reply.field.soundOn": "オン",
  "reply.field.soundOff": "オフ",
  "reply.field.requestedBy": "依頼者",

  // A job waiting to be sent, then generating
  "progress.waiting":
    "動画サービスから送信を控えるよう求められたため、この動画は送信待ちです（待ち順 {place} 番目）。",
  "progress.waiting.turn":
    "順番待ち：キューの **{place}** 番目です。動画は数本ずつ、サーバー間で順番に送られます。順番が進むとこのメッセージも更新されます。",
  "progress.title": "動画 #{job} — 生成中",
  "progress.elapsedLeft": "生成中 — 経過 {elapsed}、残り約 {left}",
  "progress.overdue":
    "生成中 — 経過 {elapsed}。いつもの {usual} より長くかかっていますが、まもなく完了するはずです",

  // A finished video
  "delivered.title": "動画 #{job}",
  "delivered.done": "{took}で完成しました（**{charged}** を消費、サーバーの残りは {balance}）。",
  "delivered.link": "[動画をダウンロード]({url})（{why}。リンクには有効期限があります）",
  "delivered.ping": "{mention} 動画ができました。",
  "delivered.why.tooLarge": "ここでのアップロード上限（{mib} MiB）を超えています",
  "delivered.why.refused": "ファイルが大きすぎると Discord に拒否されました",
  "delivered.pointer": "**動画 #{job}** ができました：{link}",

  // A job that ended without a video
  "failed.title": "動画 #{job} — 失敗",
  "failed.ping": "{mention} 動画を作れませんでした。",
  "failed.refund.one": "確保していた {count} クレジットはサーバーの予算に戻しました。",
  "failed.refund.other": "確保していた {count} クレジットはサーバーの予算に戻しました。",

  // Why a job failed, by its error code
  "reason.TIMED_OUT":
    "動画サービスがこの動画に {elapsed} かかっており、待機の上限（{limit}）を超えたため、待つのをやめました。",
  "reason.UNCONFIRMED_TIMEOUT":
    "動画サービスから時間内に応答がなく、この動画の作成が始まったか確認できません。二重に作られないよう、ここで止めました。そのままもう一度お試しください。",
  "reason.UNCONFIRMED":
    "動画サービスがこのリクエストを確認できなかったため、二重に作られないよう、ここで止めました。そのままもう一度お試しください。",
  "reason.SUBMIT_ERROR": "この動画を動画サービスに送る途中で問題が起きました。",
  "reason.INTERRUPTED":
    "この動画を動画サービスに送っている途中でボットが再起動したため、届いたか確認できません。念のため、ここで止めました。",
  "reason.TASK_FAILED": "動画サービスがこの動画を作れませんでした：「{reason}」",
  "reason.NO_VIDEO_URL": "動画サービスはこの動画を完成と報告しましたが、取得できるリンクがありませんでした。",
  "reason.VIDEO_UNAVAILABLE": "動画は完成しましたが、取得できませんでした：{why}。",
  "reason.VIDEO_UNAVAILABLE.http-status": "配信元が HTTP {status} を返しました",
  "reason.VIDEO_UNAVAILABLE.http-status-expired":
    "配信元が HTTP {status} を返しました（リンクの有効期限が切れたのかもしれません）",
  "reason.VIDEO_UNAVAILABLE.not-a-video": "リンク先のファイルが動画ではありませんでした",
  "reason.VIDEO_UNAVAILABLE.not-allowed": "リンク先がボットのダウンロードできない場所でした",
  "reason.VIDEO_UNAVAILABLE.too-slow": "配信元の応答が遅すぎました",
  "reason.VIDEO_UNAVAILABLE.unreachable": "配信元に接続できませんでした",
  "reason.DELIVERY_FAILED": "動画は完成しましたが、チャンネルに投稿できませんでした。",

  // Kling API errors
  "kling.INVALID_PROMPT":
    "Kling にプロンプトを拒否されました。空や長すぎる文、ブロックされそうな内容を避けて書き直し、もう一度お試しください。",
  "kling.INVALID_DURATION": "Kling に長さを拒否されました。3〜15秒の長さを選んでください。",
  "kling.INVALID_TYPE": "Kling はそのモデルまたはモードに対応していません。別のものを選んでください。",
  "kling.MISSING_IMAGE":
    "このモードには画像が必要です。画像（Kling がダウンロードできるリンク）を指定して、もう一度お試しください。",
  "kling.MISSING_VIDEO":
    "動画編集には動画が必要です。編集する動画（Kling がダウンロードできるリンク）を指定して、もう一度お試しください。",
  "kling.INVALID_API_KEY":
    "ボットの Kling API キーが未設定か無効です。ボットの運営者に修正を頼んでください。サーバーのクレジットは消費していません。",
  "kling.INSUFFICIENT_CREDITS":
    "ボットの Kling アカウントのクレジットが尽きました。ボットの運営者に知らせてください。サーバーのクレジットは消費していません。",
  "kling.RATE_LIMITED":
    "いま Kling へのリクエストが集中しています。1分ほど待ってから、もう一度お試しください。",
  "kling.INTERNAL_ERROR": "Kling でサーバーエラーが起きました。しばらくしてから、もう一度お試しください。",
  "kling.INVALID_REQUEST":
    "Kling にリクエストを拒否されました。選んだオプションを確かめて、もう一度お試しください。",
  "kling.TIMEOUT": "Kling から時間内に応答がありませんでした。しばらくしてから、もう一度お試しください。",
  "kling.NETWORK_ERROR": "ボットが Kling に接続できませんでした。しばらくしてから、もう一度お試しください。",
  "kling.BAD_RESPONSE":
    "Kling から解釈できない応答が返ってきました。しばらくしてから、もう一度お試しください。続くようなら、ボットの運営者に知らせてください。",
  "kling.UNKNOWN_ERROR": "Kling とのやり取りで問題が起きました。しばらくしてから、もう一度お試しください。",
  "kling.cancelled":
    "Kling へのリクエストが取り消されました（ボットが再起動中かもしれません）。少し待ってから、もう一度お試しください。",
  "kling.refused": "Kling にリクエストを拒否されました：{reason}",
  "kling.said": "{message}（Kling の応答：{reason}）",
  "kling.taskExpired": "タスクが完了する前に期限切れになりました。",
  "kling.taskReportedAs": "Kling はタスクの状態を {status} と報告しました。",

  // Refusals of a request's options
  "validation.empty": "`{option}` が空です。{hint}。",
  "validation.invisible":
    "`{option}` に見える文字がありません。{hint}（スペースや見えない文字、書式用の文字だけでは入力になりません）。",
  "validation.hint.prompt": "動画に映したい内容を言葉で書いてください",
  "validation.hint.negativePrompt": "省くか、避けたい内容を言葉で書いてください",
  "validation.hint.default": "入力してください",
  "validation.controlCharacter":
    "`{option}` に制御文字 {codePoint} が含まれています。削除してください（タブと改行は使えます）。",
  "validation.brokenCharacter":
    "`{option}` に {codePoint} が含まれています。切れてしまった文字の片割れです（絵文字によくあります）。削除するか、文字全体を貼り直してください。",
  "validation.tooLong": "`{option}` が長すぎます（{max} 文字まで）。",
  "validation.wrongType":
    "`{option}` には{expected}を指定してください。Discord が古いコマンドを表示しているかもしれません。Discord を再読み込みして、もう一度入力してください。",
  "validation.expected.text": "テキスト",
  "validation.expected.boolean": "「True」か「False」",
  "validation.notChoice": "`{option}` は一覧から選んでください（{choices}）。",
  "validation.notChoiceTyped": "`{option}` には {choices} のいずれかを入力してください。",
  "validation.notHttps": "`{option}` にはファイルへの https:// リンクを指定してください。",
  "validation.linkCredentials":
    "`{option}` にユーザー名かパスワードが含まれています。ファイルへの普通の https:// リンクを指定してください。",
  "validation.linkNotPublic":
    "`{option}` がプライベートまたはローカルのアドレスを指しています。ファイルへの公開された https:// リンクを指定するか、ファイルを添付してください。",
  "validation.notAttached":
    "`{option}` が Discord の添付ファイルとして届きませんでした。ファイルをもう一度添付してください。",
  "validation.mediaType": "`{option}` には{media}を指定してください。{name} の形式は {type} です。",
  "validation.mediaTypeUnknown": "`{option}` には{media}を指定してください。{name} は形式がわかりません。",
  "validation.media.image": "画像（PNG、JPEG、WebP）",
  "validation.media.video": "動画（MP4 か MOV）",
  "validation.noName": "（名前なし）",
  "validation.mediaSize": "`{option}` は {size} MiB です。上限は {max} MiB です。",
  "validation.both": "`{a}` と `{b}` のどちらか一方だけを指定してください。",
  "validation.neither": "`{a}` を添付するか、`{b}` を指定してください。",
  "validation.referenceImageMissing": "参照画像を1枚以上添付してください（`{option}`）。",
  "validation.kling3Only.one":
    "{options} は Kling 3.0 のモデル（`pro`、`std`）専用です。指定を外すか、どちらかのモデルを選んでください。",
  "validation.kling3Only.other":
    "{options} は Kling 3.0 のモデル（`pro`、`std`）専用です。指定を外すか、どちらかのモデルを選んでください。",
  "validation.durationWhole": "`{option}` は秒数を整数で指定してください。",
  "validation.durationRange": "`{option}` は {min}〜{max} 秒にしてください。",
  "validation.fidelityRange": "`{option}` は 0〜1 にしてください。",
  "validation.jobNumber":
    "`{option}` にはジョブ番号（1 以上の整数）を指定してください。一覧から選ぶか、`/video history` で確かめてください。",
  "validation.unknownSubcommand":
    "`/video` にサブコマンド {name} はありません（参照番号 `{ref}`）。Discord が古いコマンド一覧を表示しているかもしれません。Discord を再読み込みして、{known} から選んでください。",
  "validation.unexpected":
    "`{option}` の値は使えません。Discord を再読み込みして、もう一度入力してください。",
  "validation.unexpectedRequest":
    "このリクエストには使えない値があります。Discord を再読み込みして、もう一度お試しください。",

  // /video status
  "status.title": "動画 #{job}",
  "status.notFound": "このサーバーに動画 #{job} はありません。",
  "status.requestedBy": "依頼者 {user}・{when}",
  "status.reason": "理由：{reason}",
  "status.refunded": "返金済み",
  "status.replyLink": "返信",
  "status.videoLink": "動画",
  "status.download": "[ダウンロードリンク]({url})（{when}に期限切れ）",
  "status.downloadExpired": "ダウンロードリンクは期限切れです",

  // /video history
  "history.title": "最近の動画",
  "history.empty": "このサーバーではまだ動画を作っていません。`/video text` を試してみてください。",

  // /budget show
  "budget.title": "サーバーの動画クレジット",
  "budget.balance": "残高",
  "budget.held": "進行中のジョブに確保中",
  "budget.spentMonth": "あなたの今月の利用",
  "budget.spentAll": "あなたの累計の利用",
  "budget.spentAllValue.one": "{credits}（動画 {count} 本）",
  "budget.spentAllValue.other": "{credits}（動画 {count} 本）",
  "budget.inFlight": "進行中のジョブ（{count}）",
  "budget.none": "なし",

  // Job states
  "state.pending": "送信待ち",
  "state.submitting": "送信中",
  "state.running": "生成中",
  "state.delivering": "投稿中",
  "state.completed": "完了",
  "state.failed": "失敗",

  // Unexpected errors
  "error.reference":
    "ボット側で問題が起きました（参照番号 `{ref}`）。クレジットは消費していません。もう一度お試しください。",
  "error.componentUnknown": "このボタンはもう使えません。コマンドをもう一度実行してください。",

  // Discord permission names, as the Japanese Discord client shows them
  "perm.viewChannel": "チャンネルを見る",
  "perm.sendMessages": "メッセージを送信",
  "perm.sendMessagesInThreads": "スレッドでメッセージを送信",
  "perm.attachFiles": "ファイルを添付",
  "perm.embedLinks": "埋め込みリンク",
  "perm.readMessageHistory": "メッセージ履歴を読む",

  // Models: the names stay in Latin script, the tier is glossed
  "model.pro": "Kling 3.0 Pro（高品質）",
  "model.std": "Kling 3.0 Standard（標準）",
  "model.o3-pro": "Kling O3 Pro（高品質）",
  "model.o3-std": "Kling O3 Standard（標準）",
  "model.quality.pro": "Pro（高品質）",
  "model.quality.std": "Standard（標準）",

  // Units
  "unit.credits.one": "{count} クレジット",
  "unit.credits.other": "{count} クレジット",
  "unit.duration.hours": "{h}時間{m}分",
  "unit.duration.minutes": "{m}分{s}秒",
  "unit.duration.seconds": "{s}秒",
  // サーバーのルールによるお断り（本人にだけ表示）
  "rule.channel":
    "このチャンネルでは動画を作れません。サーバーが許可しているチャンネルで使ってください：{channels}",
  "rule.role":
    "このサーバーで動画を作れるのは次のロールのメンバーです：{roles}。必要ならサーバーの管理者に相談してください。",
  "rule.frozen": "このサーバーでのあなたの動画リクエストは、管理者によって一時停止されています。",
  "rule.frozenWhy":
    "このサーバーでのあなたの動画リクエストは、管理者によって一時停止されています：「{reason}」",
  "rule.blocklist":
    "プロンプトに、このサーバーで使えない「{phrase}」が含まれています。言い換えてもう一度お試しください。",
  "rule.model": "このサーバーでは {model} は使えません。次から選んでください：{allowed}",
  "rule.duration":
    "このサーバーで作れる動画は最長 {max} 秒です（指定は {duration} 秒）。短い長さを選んでください。",
  "rule.sound": "このサーバーでは音声付きの動画は作れません。`sound` を False にしてください。",
  "rule.member-jobs.one":
    "あなたの動画はすでに {count} 本が進行中で、このサーバーで同時に作れる上限です。終わるまでお待ちください。",
  "rule.member-jobs.other":
    "あなたの動画はすでに {count} 本が進行中で、このサーバーで同時に作れる上限です。どれかが終わるまでお待ちください。",
  "rule.server-jobs.one":
    "このサーバーではすでに {count} 本の動画が進行中で、同時に作れる上限です。数分後にもう一度お試しください。",
  "rule.server-jobs.other":
    "このサーバーではすでに {count} 本の動画が進行中で、同時に作れる上限です。数分後にもう一度お試しください。",
  "rule.daily-cap":
    "この動画は {cost} かかります。本日（UTC）の上限 {cap} のうち、すでに {spent} を使っています。安い動画にするか、明日までお待ちください。",
  "rule.title": "ここでは作れません",

  // 承認
  "approval.waiting":
    "この動画は、管理者の承認なしで使える額を超えています。**{held}** を確保して管理者に確認を依頼しました。結果はここに表示されます。",
  "approval.waitingTitle": "動画 #{job} — 承認待ち",
  "approval.requestTitle": "承認が必要です：動画 #{job}",
  "approval.request":
    "{user} さんが **{cost}**（{model}）の動画をリクエストしています。承認するか、理由を添えて却下してください。24 時間以内に決まらない場合はクレジットが戻ります。",
  "approval.approve": "承認",
  "approval.deny": "却下",
  "approval.approved": "{user} さんが承認しました。",
  "approval.denied": "{user} さんが却下しました。",
  "approval.deniedWhy": "{user} さんが却下しました：「{reason}」",
  "approval.expired": "24 時間以内に決まらなかったため、クレジットを戻しました。",
  "approval.cancelled": "{user} さんがキャンセルしました。",
  "approval.denyTitle": "動画 #{job} を却下",
  "approval.denyReason": "理由（メンバーに表示されます）",
  "approval.noChannel":
    "承認が必要なジョブがありますが、モデレーター用チャンネルが設定されていません。管理者に `/budget config moderator_channel` で設定してもらってください。",
  "approval.tooLate": "動画 #{job} はすでに決定済みか、次の段階に進んでいます。何も変更していません。",
  "approval.done": "完了：動画 #{job} は{state}です。",
  "reason.DENIED": "サーバーの管理者（{by}）がこの動画を承認しませんでした。",
  "reason.DENIED_WHY": "サーバーの管理者（{by}）がこの動画を承認しませんでした：「{reason}」",
  "reason.APPROVAL_EXPIRED": "24 時間以内に管理者の判断がありませんでした。",
  "reason.CANCELLED": "この動画は送信前に {by} さんによってキャンセルされました。",

  // 権限
  "rights.managers":
    "これはサーバーの管理者（サーバー管理権限、または指定された管理者ロールを持つメンバー）だけができます。",
  "rights.operators":
    "クレジットを増やしたり減らしたりできるのはボットの運営者だけです。サーバーの管理者はクレジットの使い方を決められます。",
  "rights.cancel": "キャンセルできるのは、リクエストした本人かサーバーの管理者だけです。",
  "rights.otherServer": "これは別のサーバーのものです。何も変更していません。",

  // /budget config と各リスト
  "config.title": "予算の設定",
  "config.saved": "保存しました。現在の設定：",
  "config.dailyCap": "1 人あたりの 1 日の上限",
  "config.memberJobs": "1 人あたりの同時進行数",
  "config.serverJobs": "サーバー全体の同時進行数",
  "config.maxDuration": "最長の動画",
  "config.allowSound": "音声",
  "config.allowedModels": "モデル",
  "config.defaultModel": "既定のモデル",
  "config.approvalAbove": "承認が必要になる額",
  "config.moderatorChannel": "モデレーター用チャンネル",
  "config.galleryChannel": "ギャラリー用チャンネル",
  "config.managerRole": "管理者ロール",
  "config.channels": "/video を使えるチャンネル",
  "config.roles": "動画を作れるロール",
  "config.blocklist": "禁止フレーズ",
  "config.none": "上限なし",
  "config.everywhere": "すべてのチャンネル",
  "config.everyone": "全員",
  "config.all": "すべて",
  "config.unset": "未設定",
  "config.seconds": "{seconds} 秒",
  "config.badModels":
    "`allowed_models` は {models} をカンマで区切って指定してください。「{value}」は使えません。",
  "config.approvalNeedsChannel":
    "`approval_above` を使うには、先にモデレーター用チャンネルが必要です。`moderator_channel` を設定してください（同じコマンドで構いません）。",
  "config.defaultNotAllowed":
    "`default_model` の {model} が `allowed_models` に含まれていません。許可するか、別の既定モデルを選んでください。",
  "list.added": "{item} を追加しました。",
  "list.removed": "{item} を削除しました。",
  "list.notThere": "{item} はリストにありません。何も変更していません。",
  "list.already": "{item} はすでにリストにあります。",
  "list.empty": "リストは空です。",
  "list.full": "リストがいっぱいです（{max} 件）。先にどれかを削除してください。",
  "freeze.done": "{user} さんはこのサーバーのクレジットを使えなくなりました。",
  "freeze.undone": "{user} さんは再びこのサーバーのクレジットを使えます。",
  "freeze.notFrozen": "{user} さんは停止されていません。何も変更していません。",

  // /budget grant と allowance（運営者）
  "grant.done": "このサーバーのクレジットを {change} しました（{reason}）。残高は **{balance}** です。",
  "grant.clamped": "残高が足りなかったため、減らせたのは {applied} だけです。残高は **{balance}** です。",
  "grant.badGuild": "`guild_id` には Discord のサーバー ID（17〜20 桁の数字）を指定してください。",
  "grant.zero": "`credits` に 0 は指定できません。",
  "allowance.set":
    "毎月の割り当てを **{credits}** にしました。毎月 1 日（UTC）に残高がこの額まで補充されます。次回の補充：{next}",
  "allowance.off": "毎月の割り当てをオフにしました。",

  // /budget show の追加項目
  "budget.allowance": "毎月の割り当て",
  "budget.allowanceValue": "{credits}（次回の補充 {next}）",
  "budget.spentToday": "あなたの今日の利用",
  "budget.capLeft": "今日の上限の残り",
  "budget.slots": "あなたの空き枠",
  "budget.frozen": "⚠️ このサーバーでのあなたの動画リクエストは、管理者によって一時停止されています。",
  "budget.frozenWhy":
    "⚠️ このサーバーでのあなたの動画リクエストは、管理者によって一時停止されています：「{reason}」",

  // /video cancel
  "cancel.done": "動画 #{job} をキャンセルし、クレジットをサーバーに戻しました。",
  "cancel.sent": "動画 #{job} はすでに動画サービスに送信済みのため、止められません。",
  "cancel.over": "動画 #{job} はすでに終了しています（{state}）。",

  // モデレーター用チャンネルの記録
  "audit.grant": "{actor} さんが残高を {change} 変更しました（{reason}）。残高 {balance}。",
  "audit.config": "{actor} さんが設定を変更しました：{what}",
  "audit.freeze": "{actor} さんが {user} さんを一時停止しました{why}。",
  "audit.unfreeze": "{actor} さんが {user} さんの一時停止を解除しました。",
  "audit.denied": "{actor} さんが {user} さんの動画 #{job} を却下しました{why}。",
  "audit.approved": "{actor} さんが {user} さんの動画 #{job} を承認しました。",

  // /budget usage（管理者用）
  "usage.title": "利用額 — {period}",
  "usage.period.today": "今日（UTC）",
  "usage.period.7d": "過去 7 日間",
  "usage.period.30d": "過去 30 日間",
  "usage.period.month": "今月（UTC）",
  "usage.since": "{since} 以降。",
  "usage.counts":
    "集計の対象は、この期間に届けた動画のクレジット（動画サービスの実際の請求額で精算したもの）です。失敗・キャンセルした動画は 0 です。",
  "usage.held": "まだ集計していない分：進行中の動画のために {credits}を確保しています。",
  "usage.empty": "この期間に届けた動画はありません。利用額は 0 です。",
  "usage.member": "メンバー",
  "usage.model": "モデル",
  "usage.jobs": "本数",
  "usage.credits": "クレジット",
  "usage.total": "合計",
  "usage.more.one": "… ほか {count} 行は CSV ファイルにあります。",
  "usage.more.other": "… ほか {count} 行は CSV ファイルにあります。",
  "usage.csv": "CSV ファイルにはメンバーとモデルの組み合わせごとに 1 行ずつ入っています。",

  // /budget ledger（管理者用）
  "ledger.title": "クレジットの台帳",
  "ledger.balance": "現在の残高：**{balance}**。新しい順です。",
  "ledger.empty": "ここには行がありません。",
  "ledger.footer": "行 {newest}〜{oldest}",
  "ledger.previous": "前へ",
  "ledger.next": "次へ",
  "ledger.by": "実行：{actor}",
  "ledger.job": "動画 #{job}",
  "ledger.kind.grant": "付与",
  "ledger.kind.hold": "動画のために確保",
  "ledger.kind.capture": "精算（未使用分を返却）",
  "ledger.kind.release": "返却",
  "ledger.kind.adjustment": "追加の請求",
  "ledger.actor.cli": "コマンドラインツール",
  "ledger.actor.allowance": "毎月の割り当て",
  "ledger.actor.system": "ボット",

  // 運営者が許可していないサーバー（ALLOWED_GUILD_IDS）
  "guild.leaving":
    "こんにちは。このボットは運営者が許可したサーバーでだけ動作します。このサーバーは対象外のため、これで退出します。クレジットは消費していません。ここで使う予定だった場合は、ボットの運営者に問い合わせてください。",
  "guild.notAllowed":
    "このボットはこのサーバーでは使えません。使えるはずの場合は、ボットの運営者に問い合わせてください。",
  "reply.answeredPrivately": "お返事はご本人にだけ送りました。",
  // A delivered clip's buttons, and what they open and answer
  "clip.button.reroll": "もう一度作る",
  "clip.button.edit": "編集",
  "clip.button.continue": "続きを作る",
  "clip.button.reference": "参照に使う",
  "clip.button.share": "共有",
  "clip.edit.title": "このクリップを編集・std {std}／pro {pro} クレジット",
  "clip.edit.prompt": "変えたい内容",
  "clip.edit.quality": "品質：pro か std",
  "clip.continue.title": "このクリップの続きを作る・{cost}",
  "clip.continue.prompt": "このあと起きること",
  "clip.reference.title": "このクリップを参照して作る・{cost}",
  "clip.reference.prompt": "新しい動画に映したい内容",
  "clip.gone":
    "この動画のジョブがこのサーバーに見つからないため、このボタンは使えません。クレジットは消費していません。",
  "clip.notDone": "この動画には使える完成クリップがありません。クレジットは消費していません。",
  "clip.unavailable": "この動画はもう使えません：{why}。クレジットは消費していません。",
  "clip.tooLarge": "この動画は大きすぎて、最後のフレームを取り出せません。クレジットは消費していません。",
  "clip.frameFailed":
    "この動画の最後のフレームを取り出せませんでした。クレジットは消費していません。もう一度お試しください。",
  "clip.frame": "このクリップの最後のフレームです（{user} さんの次の動画に使います）。",
  "clip.queued": "新しい動画を受け付けました：{link}",
  "clip.cantPost":
    "このチャンネルに新しい動画を投稿できません。ボットに次の権限がありません：{permissions}。クレジットは消費していません。",
  "reason.NOT_POSTED": "この動画のメッセージをチャンネルに投稿できなかったため、送信しませんでした。",

  // Cancel on a job's reply while it waits
  "job.button.cancel": "キャンセル",

  // Share
  "share.onlyRequester": "共有できるのは、この動画を作った本人だけです。",
  "share.noGallery":
    "このサーバーにはまだギャラリー用チャンネルがありません。管理者が `/budget config gallery_channel` で設定できます。",
  "share.done": "{channel} に共有しました：{link}",
  "share.already": "この動画はすでに {channel} にあります：{link}",
  "share.busy": "この動画はいま共有しているところです。",
  "share.cantPost":
    "{channel} に投稿できません。管理者がそこでボットに「チャンネルを見る」「メッセージを送信」「ファイルを添付」「埋め込みリンク」の権限を与えられます。",
  "share.title": "共有された動画",
  "share.original": "[元のメッセージ]({link})",

  // "Animate with Kling"
  "animate.title": "Klingで動かす・{cost}",
  "animate.prompt": "プロンプト",
  "animate.duration": "長さ（秒）",
  "animate.durationHint": "{min}〜{max}",
  "animate.model": "モデル",
  "animate.modelHint": "pro、std、o3-pro、o3-std のいずれか",
  "animate.noImage":
    "「Klingで動かす」には画像付きのメッセージが必要です（PNG・JPEG・WebP の添付か、画像の埋め込み）。このメッセージには画像がありません。",
  "animate.gone":
    "そのメッセージを読めなくなりました（削除された可能性があります）。クレジットは消費していません。",
};
