// Pure checks for the loopback server: the per-run token, its cookie, and Host/Origin allow-lists that stop
// DNS-rebinding and cross-site requests.

import { randomBytes, timingSafeEqual } from 'node:crypto';

export function createToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison; false for a missing or differently sized candidate. */
export function tokensMatch(expected: string, candidate: string | null | undefined): boolean {
  if (typeof candidate !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(candidate);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Cookies are shared across ports of one host, so each server names its cookie after its port. */
export function tokenCookieName(port: number): string {
  return `toxscope_token_${port}`;
}

export function tokenCookie(port: number, token: string): string {
  return `${tokenCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return null;
}

function loopbackAuthorities(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

/** The Host header must name this server on a loopback name; anything else is a rebinding attempt. */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  return typeof host === 'string' && loopbackAuthorities(port).includes(host.toLowerCase());
}

/** An Origin, when sent, must be this server itself. `requireOrigin` for WebSocket upgrades, where browsers always send one. */
export function isAllowedOrigin(origin: string | undefined, port: number, requireOrigin: boolean): boolean {
  if (origin === undefined) return !requireOrigin;
  return loopbackAuthorities(port).some((authority) => origin.toLowerCase() === `http://${authority}`);
}

export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
