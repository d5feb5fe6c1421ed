import proxyAddr from '@fastify/proxy-addr';

/**
 * Which peers may tell us the client's address in X-Forwarded-For: `false` (none: the socket's
 * address is the client), a number of proxy hops in front of this server, or proxy addresses and
 * CIDRs (`proxy-addr` also knows the names loopback, linklocal and uniquelocal). `true` means the
 * proxy on this machine: 127.0.0.1 and ::1.
 */
export type TrustProxy = boolean | number | string | readonly string[];

export const LOCAL_PROXY = ['127.0.0.1', '::1'] as const;

export interface ProxyTrust {
  /** For fastify's trustProxy: request.ip is the rightmost X-Forwarded-For entry not written by a trusted proxy. */
  trust: false | ((address: string, hop: number) => boolean);
  /**
   * Whether sockets from this address are a proxy's, and so carry many clients: the per-address
   * socket allowance does not apply to them. With a hop count any peer counts as the first hop, so
   * no socket is exempt there (a direct client would otherwise escape the allowance).
   */
  isProxySocket(address: string): boolean;
}

export function proxyTrust(value: TrustProxy | undefined): ProxyTrust {
  if (value === undefined || value === false) return { trust: false, isProxySocket: () => false };
  if (typeof value === 'number') return { trust: (_address, hop) => hop < value, isProxySocket: () => false };
  const list = value === true ? [...LOCAL_PROXY] : typeof value === 'string' ? splitList(value) : [...value];
  const trusted = proxyAddr.compile(list);
  return { trust: trusted, isProxySocket: (address) => trusted(address, 0) };
}

/**
 * Reads the `--trust-proxy` flag: a whole number of hops, or a comma-separated list of addresses,
 * CIDRs and proxy-addr's names. Throws a sentence on anything else.
 */
export function parseTrustProxy(raw: string): number | string[] {
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops < 1 || hops > 32) throw new Error('a hop count must be from 1 to 32');
    return hops;
  }
  const list = splitList(raw);
  if (list.length === 0) throw new Error('give a hop count or proxy addresses');
  try {
    proxyAddr.compile(list);
  } catch (err) {
    throw new Error(`${(err as Error).message.replace(/^invalid IP address: /i, 'not an IP address or CIDR: ')}`);
  }
  return list;
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}
