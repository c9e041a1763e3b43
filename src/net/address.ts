import { BlockList, isIP } from "node:net";

/**
 * Which addresses and hosts a link may point to: links members give are fetched by the Kling API (and
 * downloads by the bot), so none may reach a loopback, private, link-local (cloud metadata) or otherwise
 * special-purpose address. Ranges follow the IANA IPv4 and IPv6 special-purpose address registries.
 */

/** IPv4 ranges that are not public unicast destinations. */
const SPECIAL_IPV4: readonly [string, number][] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // shared address space (carrier-grade NAT)
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, where cloud metadata services answer
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation (TEST-NET-1)
  ["192.88.99.0", 24], // 6to4 relay anycast (deprecated)
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation (TEST-NET-2)
  ["203.0.113.0", 24], // documentation (TEST-NET-3)
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, with 255.255.255.255 (broadcast)
];

/**
 * IPv6 special ranges inside global unicast (2000::/3); everything outside 2000::/3 (::, ::1, IPv4-mapped
 * and -compatible, 100::/64, fc00::/7, fe80::/10, fec0::/10, ff00::/8, …) is not public anyway, except
 * NAT64, which is judged by the IPv4 address it carries.
 */
const SPECIAL_IPV6: readonly [string, number][] = [
  ["2001::", 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID, …
  ["2001:db8::", 32], // documentation
  ["2002::", 16], // 6to4: carries an IPv4 address of any kind
  ["3fff::", 20], // documentation (RFC 9637)
];

const blocked4 = new BlockList();
for (const [net, prefix] of SPECIAL_IPV4) blocked4.addSubnet(net, prefix, "ipv4");
const blocked6 = new BlockList();
for (const [net, prefix] of SPECIAL_IPV6) blocked6.addSubnet(net, prefix, "ipv6");
const globalUnicast6 = new BlockList();
globalUnicast6.addSubnet("2000::", 3, "ipv6");
/** RFC 6052 well-known NAT64 prefix: the last 32 bits are an IPv4 address reached through a translator. */
const nat64 = new BlockList();
nat64.addSubnet("64:ff9b::", 96, "ipv6");

/**
 * Whether an IP address (IPv4 dotted quad or IPv6 text, as `node:net` `isIP` accepts) is a public unicast
 * address. Anything else, including a host name or a non-canonical IPv4 form such as `127.1`, is not.
 */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return !blocked4.check(ip, "ipv4");
  if (family !== 6) return false;
  // A zone (`fe80::1%eth0`) only goes with link-local and other scoped addresses.
  if (ip.includes("%")) return false;
  if (nat64.check(ip, "ipv6")) {
    const words = ipv6Words(ip);
    const [hi, lo] = [words[6] ?? 0, words[7] ?? 0];
    return isPublicAddress(`${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`);
  }
  return globalUnicast6.check(ip, "ipv6") && !blocked6.check(ip, "ipv6");
}

/** The eight 16-bit words of an IPv6 address that `isIP` accepted (with an optional dotted IPv4 tail). */
function ipv6Words(ip: string): number[] {
  let text = ip;
  const tail = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(2).map(Number) as [number, number, number, number];
    text = `${tail[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = rest ? rest.split(":") : [];
  const zeros = rest === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((w) => Number.parseInt(w, 16));
}

/**
 * Names that never lead to a public host: `localhost` (RFC 6761), mDNS `.local`, `.internal` (ICANN, for
 * private use), `.home.arpa` and the rest of `.arpa`, the other special-use names, and names private
 * networks commonly use.
 */
const LOCAL_SUFFIXES = [
  "localhost",
  "local",
  "internal",
  "arpa",
  "test",
  "invalid",
  "example",
  "onion",
  "alt",
  "localdomain",
  "lan",
  "home",
  "corp",
  "intranet",
  "private",
];

export type HostProblem = "credentials" | "private-address" | "local-name";

/**
 * What is wrong with where a parsed link points, if anything: a user name or password, an IP literal that
 * is not public (WHATWG parsing has already turned `2130706433` or `0x7f.1` into `127.0.0.1`), or a name
 * that cannot be a public host (`localhost`, a single label such as `intranet`, a special-use suffix).
 * A public-looking name can still resolve to a private address: whoever fetches must check what it resolves to.
 */
export function hostProblem(url: URL): HostProblem | undefined {
  if (url.username || url.password) return "credentials";
  const host = url.hostname.toLowerCase().replace(/\.+$/, "");
  if (host.startsWith("[") && host.endsWith("]")) {
    return isPublicAddress(host.slice(1, -1)) ? undefined : "private-address";
  }
  if (isIP(host)) return isPublicAddress(host) ? undefined : "private-address";
  const labels = host.split(".");
  if (labels.length < 2 || labels.some((l) => l === "")) return "local-name";
  if (LOCAL_SUFFIXES.includes(labels.at(-1) ?? "")) return "local-name";
  return undefined;
}
