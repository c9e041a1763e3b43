import { describe, expect, it } from "vitest";
import { hostProblem, isPublicAddress } from "../../src/net/address.js";

describe("isPublicAddress", () => {
  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.255",
    "192.169.0.1",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
    "2a00:1450:4001:81c::200e",
    // NAT64 (RFC 6052) with a public IPv4 inside: reachable through the translator.
    "64:ff9b::808:808",
    "64:ff9b::8.8.8.8",
  ])("%s is public", (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  it.each([
    ["0.0.0.0", "this network"],
    ["0.255.255.255", "this network"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["100.64.0.1", "CGNAT"],
    ["100.127.255.255", "CGNAT"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["169.254.169.254", "link-local (cloud metadata)"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.0.0.1", "IETF protocol assignments"],
    ["192.0.2.1", "TEST-NET-1"],
    ["192.88.99.1", "6to4 relay anycast"],
    ["192.168.1.1", "private"],
    ["198.18.0.1", "benchmarking"],
    ["198.19.255.255", "benchmarking"],
    ["198.51.100.7", "TEST-NET-2"],
    ["203.0.113.9", "TEST-NET-3"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "broadcast"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback, long form"],
    ["::ffff:127.0.0.1", "IPv4-mapped loopback"],
    ["::ffff:7f00:1", "IPv4-mapped loopback, hex"],
    ["::ffff:8.8.8.8", "IPv4-mapped (never a real destination)"],
    ["::127.0.0.1", "IPv4-compatible (deprecated)"],
    ["64:ff9b::127.0.0.1", "NAT64 of loopback"],
    ["64:ff9b::a9fe:a9fe", "NAT64 of the metadata address"],
    ["64:ff9b::c0a8:101", "NAT64 of 192.168.1.1"],
    ["64:ff9b:1::808:808", "local-use NAT64"],
    ["100::1", "discard-only"],
    ["2001::1", "Teredo"],
    ["2001:2::1", "benchmarking"],
    ["2001:db8::1", "documentation"],
    ["2001:db8:ffff::1", "documentation"],
    ["2002:7f00:1::1", "6to4"],
    ["3fff::1", "documentation (RFC 9637)"],
    ["fc00::1", "unique local"],
    ["fd12:3456:789a::1", "unique local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local with a zone"],
    ["febf::1", "link-local"],
    ["fec0::1", "site-local (deprecated)"],
    ["ff02::1", "multicast"],
    ["ff0e::1", "global multicast"],
  ])("%s is not public (%s)", (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each([
    "",
    "localhost",
    "example.com",
    "127.1",
    "2130706433",
    "0x7f.0.0.1",
    "010.0.0.1",
    "[::1]",
    "1.2.3",
  ])("%j is not an IP address, so not a public one", (text) => {
    expect(isPublicAddress(text)).toBe(false);
  });
});

describe("hostProblem", () => {
  const problem = (url: string) => hostProblem(new URL(url));

  it.each([
    "https://example.com/a.png",
    "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1",
    "https://EXAMPLE.com./a.png",
    "https://8.8.8.8/a.png",
    "https://[2001:4860:4860::8888]/a.png",
    "https://bücher.example.org/a.png",
    "https://example.com:8443/a.png",
  ])("accepts %s", (url) => {
    expect(problem(url)).toBeUndefined();
  });

  it.each([
    "https://127.0.0.1/a.png",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/a.png",
    "https://[::ffff:127.0.0.1]/a.png",
    "https://[::ffff:a9fe:a9fe]/",
    "https://[64:ff9b::10.0.0.1]/",
    "https://[fe80::1]/",
    "https://[fd00::1]/",
    "https://10.1.2.3/",
    "https://172.20.0.1/",
    "https://192.168.0.10/",
    "https://100.100.100.200/",
    "https://0.0.0.0/",
    // WHATWG parsing turns these into 127.0.0.1 or 0.0.0.0 before we look at them.
    "https://2130706433/",
    "https://0x7f.1/",
    "https://0177.0.0.1/",
    "https://127.1/",
    "https://0/",
    "https://１２７.０.０.１/",
  ])("refuses the private address in %s", (url) => {
    expect(problem(url)).toBe("private-address");
  });

  it.each([
    "https://localhost/a.png",
    "https://LOCALHOST./a.png",
    "https://api.localhost/a.png",
    "https://printer.local/a.png",
    "https://db.internal/a.png",
    "https://router.home.arpa/",
    "https://1.0.0.127.in-addr.arpa/",
    "https://intranet/a.png",
    "https://metadata/computeMetadata/v1/",
  ])("refuses the local name in %s", (url) => {
    expect(problem(url)).toBe("local-name");
  });

  it.each(["https://user:pass@example.com/a.png", "https://user@example.com/", "https://:pw@example.com/"])(
    "refuses the credentials in %s",
    (url) => {
      expect(problem(url)).toBe("credentials");
    },
  );
});
