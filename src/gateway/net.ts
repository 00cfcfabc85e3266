/**
 * Network edge helpers: IP allow/deny lists (CIDR), request ids, W3C trace context.
 */
import { randomBytes } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../core/errors.ts';

/** Allow/deny lists of one listener: a deny match always refuses; a non-empty allow list admits only matches. */
export interface IpRules {
  allow?: string[];
  deny?: string[];
}

function blockList(cidrs: string[], key: string): BlockList {
  const list = new BlockList();
  for (const raw of cidrs) {
    const [addr = '', bits] = raw.trim().split('/');
    const type = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : null;
    if (!type) throw new ConfigError(key, `"${raw}" is not an IP address or CIDR range`);
    if (bits === undefined) list.addAddress(addr, type);
    else {
      const prefix = Number(bits);
      const max = type === 'ipv4' ? 32 : 128;
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > max)
        throw new ConfigError(key, `"${raw}" has an invalid prefix length`);
      list.addSubnet(addr, prefix, type);
    }
  }
  return list;
}

/** A predicate over remote addresses built from {@link IpRules}. */
export function ipFilter(rules: IpRules | undefined, key: string): (address: string | undefined) => boolean {
  if (!rules || (!rules.allow?.length && !rules.deny?.length)) return () => true;
  const allow = rules.allow?.length ? blockList(rules.allow, `${key}.allow`) : null;
  const deny = rules.deny?.length ? blockList(rules.deny, `${key}.deny`) : null;
  return (address) => {
    if (!address) return false;
    // IPv4 clients on a dual-stack socket show up as ::ffff:a.b.c.d.
    const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    const type = isIPv4(plain) ? 'ipv4' : 'ipv6';
    if (deny?.check(plain, type)) return false;
    return allow ? allow.check(plain, type) : true;
  };
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's `X-Request-Id` when it is sane, else a new one. */
export function requestId(header: string | null | undefined): string {
  return header && REQUEST_ID.test(header) ? header : `req_${randomBytes(12).toString('hex')}`;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A W3C trace context: the incoming trace continued with a new span of this hop. */
export interface TraceContext {
  traceId: string;
  parentSpanId: string | null;
  spanId: string;
  flags: string;
  /** The `traceparent` header value of this hop. */
  traceparent: string;
}

/** Continue the caller's `traceparent`, or start a trace when it is absent or malformed. */
export function traceContext(header: string | null | undefined): TraceContext {
  const m = header ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  const valid = m && m[1] !== 'ff' && !/^0+$/.test(m[2]!) && !/^0+$/.test(m[3]!);
  const traceId = valid ? m[2]! : randomBytes(16).toString('hex');
  const flags = valid ? m[4]! : '01';
  const spanId = randomBytes(8).toString('hex');
  return {
    traceId,
    parentSpanId: valid ? m[3]! : null,
    spanId,
    flags,
    traceparent: `00-${traceId}-${spanId}-${flags}`,
  };
}
