import { Readable } from "node:stream";

/**
 * A real, playable MP4 (H.264, 160×90, 1 s at 8 fps, no audio, `moov` before `mdat` for streaming), embedded
 * as base64 so the simulator finds it from `src/` and from `dist/` alike. Made with ffmpeg 5.1:
 *   ffmpeg -f lavfi -i testsrc=size=160x90:rate=8:duration=1 -c:v libx264 -preset veryslow -crf 35 \
 *     -pix_fmt yuv420p -movflags +faststart -an sample.mp4
 */
const SAMPLE_MP4_BASE64 = [
  "AAAAIGZ0eXBpc29tAAACAGlzb21pc28yYXZjMW1wNDEAAAOGbW9vdgAAAGxtdmhkAAAAAAAAAAAAAAAAAAAD6AAAA+gAAQAAAQAA",
  "AAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAA",
  "ArB0cmFrAAAAXHRraGQAAAADAAAAAAAAAAAAAAABAAAAAAAAA+gAAAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABAAAA",
  "AAAAAAAAAAAAAABAAAAAAKAAAABaAAAAAAAkZWR0cwAAABxlbHN0AAAAAAAAAAEAAAPoAAAQAAABAAAAAAIobWRpYQAAACBtZGhk",
  "AAAAAAAAAAAAAAAAAABAAAAAQABVxAAAAAAALWhkbHIAAAAAAAAAAHZpZGUAAAAAAAAAAAAAAABWaWRlb0hhbmRsZXIAAAAB021p",
  "bmYAAAAUdm1oZAAAAAEAAAAAAAAAAAAAACRkaW5mAAAAHGRyZWYAAAAAAAAAAQAAAAx1cmwgAAAAAQAAAZNzdGJsAAAAw3N0c2QA",
  "AAAAAAAAAQAAALNhdmMxAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAAKAAWgBIAAAASAAAAAAAAAABFUxhdmM1OS4zNy4xMDAgbGli",
  "eDI2NAAAAAAAAAAAAAAAGP//AAAAOWF2Y0MBZAAM/+EAG2dkAAyscgRCjfkwEQAAAwABAAADABAPFCmEYAEAB2joQ4JSyLD9+PgA",
  "AAAAEHBhc3AAAAABAAAAAQAAABRidHJ0AAAAAAAAQegAAEHoAAAAGHN0dHMAAAAAAAAAAQAAAAgAAAgAAAAAFHN0c3MAAAAAAAAA",
  "AQAAAAEAAAA4Y3R0cwAAAAAAAAAFAAAAAQAAEAAAAAABAABAAAAAAAEAABgAAAAAAgAAAAAAAAADAAAIAAAAABxzdHNjAAAAAAAA",
  "AAEAAAABAAAACAAAAAEAAAA0c3RzegAAAAAAAAAAAAAACAAABmAAAADvAAAAXwAAACEAAAAdAAAAGgAAABsAAAAcAAAAFHN0Y28A",
  "AAAAAAAAAQAAA7YAAABidWR0YQAAAFptZXRhAAAAAAAAACFoZGxyAAAAAAAAAABtZGlyYXBwbAAAAAAAAAAAAAAAAC1pbHN0AAAA",
  "Jal0b28AAAAdZGF0YQAAAAEAAAAATGF2ZjU5LjI3LjEwMAAAAAhmcmVlAAAIRW1kYXQAAAKvBgX//6vcRem95tlIt5Ys2CDZI+7v",
  "eDI2NCAtIGNvcmUgMTY0IHIzMDk1IGJhZWU0MDAgLSBILjI2NC9NUEVHLTQgQVZDIGNvZGVjIC0gQ29weWxlZnQgMjAwMy0yMDIy",
  "IC0gaHR0cDovL3d3dy52aWRlb2xhbi5vcmcveDI2NC5odG1sIC0gb3B0aW9uczogY2FiYWM9MSByZWY9MTYgZGVibG9jaz0xOjA6",
  "MCBhbmFseXNlPTB4MzoweDEzMyBtZT11bWggc3VibWU9MTAgcHN5PTEgcHN5X3JkPTEuMDA6MC4wMCBtaXhlZF9yZWY9MSBtZV9y",
  "YW5nZT0yNCBjaHJvbWFfbWU9MSB0cmVsbGlzPTIgOHg4ZGN0PTEgY3FtPTAgZGVhZHpvbmU9MjEsMTEgZmFzdF9wc2tpcD0xIGNo",
  "cm9tYV9xcF9vZmZzZXQ9LTIgdGhyZWFkcz0zIGxvb2thaGVhZF90aHJlYWRzPTEgc2xpY2VkX3RocmVhZHM9MCBucj0wIGRlY2lt",
  "YXRlPTEgaW50ZXJsYWNlZD0wIGJsdXJheV9jb21wYXQ9MCBjb25zdHJhaW5lZF9pbnRyYT0wIGJmcmFtZXM9OCBiX3B5cmFtaWQ9",
  "MiBiX2FkYXB0PTIgYl9iaWFzPTAgZGlyZWN0PTMgd2VpZ2h0Yj0xIG9wZW5fZ29wPTAgd2VpZ2h0cD0yIGtleWludD0yNTAga2V5",
  "aW50X21pbj04IHNjZW5lY3V0PTQwIGludHJhX3JlZnJlc2g9MCByY19sb29rYWhlYWQ9NjAgcmM9Y3JmIG1idHJlZT0xIGNyZj0z",
  "NS4wIHFjb21wPTAuNjAgcXBtaW49MCBxcG1heD02OSBxcHN0ZXA9NCBpcF9yYXRpbz0xLjQwIGFxPTE6MS4wMACAAAADqWWIgQAC",
  "P/7yK/ApnXu2UcI9vsAJ0E38BKLXtV52p9xAiyanVV+hHW0B4wrc4vpNjCL2TyCq/Nwkq+aLXBTx3mlGbBUIje0+G4U+5uu7MxIF",
  "HWVEwMkcmEpRgoiYaXSOgZshNF1kkce476BDH+56YjSVUQt5pViuGtH9kJAYZXdnYDJNTPOkQjd6udt5FejId1p+cRzABZc83lPq",
  "vhyNwZu76JXoqKCOQBnsACV6hbpTjxnykEjC7JOJ7087ioi0VJmBKXCh5S+jxABaNO0B9lnDqfTVtpQSvWTT2gS4i85iOSGAymxz",
  "ozv2oTUDR5X+fXVNtzrI6RpIZZJhv5gf0MT/zL4XbIWWpt96rvERyyHYSVZLZc5zKNq+pf80g5/jE5Ofvn3AgmKFuDLcKntOK1tN",
  "XYCIRRIdZ04BMo3MO1Id3QNuwkGp5AUBxRwjNGNYd1Q+QiKxsvYPhRPT9y8flQL6M4V+4cLVX2T+oP8+gvtdU7p884wrvRZsOLnv",
  "Qehc3KB2gW51Y4YLvDpXSyuKbdSohLlSMOjY+yTN4MHxLtYc2Ll+mot58rPCd8UXu/wUcz+3A4vmDlhtqGNb87OvtbUPKwD7lpWK",
  "GUhH9FRcnDf7M30KdWj/1U2GO0cXd+4mKg/GJUIWfYi6Dn0Dh1KWaGiAL9eMaQzVencg4ZodzpNY9XQALWCbH+YW7L4fB2YSOK+1",
  "qOG81/ylXMo5C+ozBU2q5DO6294iwFAwV3XJEwI1lLCNCL5nLVRpzsumWLdWutvRZ2Nd14BwEQ/n0k8u7kBDaiGMa7xXy51s4wXt",
  "jmh/iDYGc+LDBi5ge+yPKjbzuiQN0CP1OLYftzmhaUy1VDijI9qR7pRjZUCCFYpmqKaS/x6nEJYbTgLGZQ+NWUIpIDi1ToBKArmd",
  "zl5l/Dsr7ltJybBXxtYnOijmddu9AR/6ujHRj4DTCq26zu0sfRGjQSzTtpbp8Woo68JnFT2hPStDHzxJOkpi7iT/3xCIqr+N0aUQ",
  "khGjMBVxIHHnNythjonqfV5mv7hULslfHRUAw3dggIH25jxdstO9vPq6Km/bQQeo7jH4ffM4lZC9YRNFzhiEXuWC+0FVizM14x1+",
  "eE5Hjs7Fn1ukFHkGGXvT7BlcY60VDj7HZsh2CfPaS999gGJ0Qzcg4UIUi6Zpf38/Isw8HxgrT3JD2F/MaihU7BiySHoZAWxpMuRY",
  "7SsmjDX8mVkr7f9g6lI28tfI4A7HjA8y1mghmEZtll8AAADrQZoI7Yh3/6H+hyQDpJNotFCNk4LnqcR78nJX6tsFb87GySYAAyr8",
  "YxwvIBvHGk3kGOOfB6t/2lGP1cb5XA0cb/NknaAHAOAoU6LfjY8kSMIqLBJU1DvCFjBUTw+Rv2PtSU1agCIYHaaYclNEu0iI5vHZ",
  "ficPMZH0sXd+rnKsLoFgOGehG6y/4MWgG0hMBSvfBG8L4DMnQyAz5hIEbEvj7szwOzYasNNJI+1AMP9jrutiD8DQBI85pqj7odd2",
  "nwehFeQ5OzZ/qxoPS7DxCTQed82AVlaXgX011AP19dn4zWisewSKB2L1kpX7XAAAAFtBnhBnEEP/fg51iTtVclsbGRGo8SQj303k",
  "jHSGoAPKLw+DXdpesN4jvDl/2OsHv4fzuwsMl+VGWNB+V9BsD/IJUsqfBXjHoLOjfQFfzDBK6/0RnjaLZaaKFTGRAAAAHQGeGCaI",
  "d/+E8oEBzkXwXEloAsZ8QvCnC2SdTHiAAAAAGQGeGEaId/+E8oEBzkXagFZwDhZn+nTbhT0AAAAWAZ4YjUh3/4Q44IxojOlIe4pg",
  "AOAIKwAAABcBnhitSHf/hDmFKyjJ5Zezku5dmDzS/wAAABgBnhjNSHf/H7stSreFrUcoTZ1qKSWPgoE=",
].join("");

export const SAMPLE_MP4: Buffer = Buffer.from(SAMPLE_MP4_BASE64, "base64");

export interface PaddedVideo {
  length: number;
  stream: () => Readable;
}

/** The sample MP4 followed by a `free` box, so the file stays valid at any size. */
export function paddedVideo(target: number | undefined): PaddedVideo {
  const base = SAMPLE_MP4;
  if (target === undefined || target <= base.length) {
    return { length: base.length, stream: () => Readable.from([base]) };
  }
  let pad = Math.max(8, target - base.length);
  const large = pad > 0xffff_ffff;
  if (large) pad = Math.max(pad, 16);
  const header = Buffer.alloc(large ? 16 : 8);
  if (large) {
    header.writeUInt32BE(1, 0);
    header.write("free", 4, "latin1");
    header.writeBigUInt64BE(BigInt(pad), 8);
  } else {
    header.writeUInt32BE(pad, 0);
    header.write("free", 4, "latin1");
  }
  const zeros = Buffer.alloc(64 * 1024);
  const payload = pad - header.length;
  function* chunks(): Generator<Buffer> {
    yield base;
    yield header;
    let left = payload;
    while (left > 0) {
      const n = Math.min(left, zeros.length);
      yield n === zeros.length ? zeros : zeros.subarray(0, n);
      left -= n;
    }
  }
  return { length: base.length + pad, stream: () => Readable.from(chunks(), { objectMode: false }) };
}
