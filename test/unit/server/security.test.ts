// Unit tests of the loopback server's token, cookie and Host/Origin checks.

import { describe, expect, it } from 'vitest';
import {
  createToken,
  isAllowedHost,
  isAllowedOrigin,
  readCookie,
  tokenCookie,
  tokenCookieName,
  tokensMatch,
} from '../../../src-main/server/security.ts';

describe('token', () => {
  it('is long, url-safe and different every run', () => {
    const first = createToken();
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createToken()).not.toBe(first);
  });

  it('matches only the exact token', () => {
    expect(tokensMatch('abc', 'abc')).toBe(true);
    expect(tokensMatch('abc', 'abd')).toBe(false);
    expect(tokensMatch('abc', 'abcd')).toBe(false);
    expect(tokensMatch('abc', null)).toBe(false);
  });
});

describe('cookie', () => {
  it('is HttpOnly, SameSite=Strict and named after the port', () => {
    expect(tokenCookie(4100, 'T')).toBe('toxscope_token_4100=T; HttpOnly; SameSite=Strict; Path=/');
  });

  it('is read back from a Cookie header among others', () => {
    const header = `a=1; ${tokenCookieName(4100)}=secret; b=2`;
    expect(readCookie(header, tokenCookieName(4100))).toBe('secret');
    expect(readCookie(header, tokenCookieName(4101))).toBeNull();
    expect(readCookie(undefined, 'x')).toBeNull();
  });
});

describe('Host and Origin', () => {
  it('accepts loopback names on our port only', () => {
    expect(isAllowedHost('127.0.0.1:4100', 4100)).toBe(true);
    expect(isAllowedHost('localhost:4100', 4100)).toBe(true);
    expect(isAllowedHost('127.0.0.1:4101', 4100)).toBe(false);
    expect(isAllowedHost('evil.example:4100', 4100)).toBe(false);
    expect(isAllowedHost(undefined, 4100)).toBe(false);
  });

  it('refuses a rebinding origin and requires an origin for WebSockets', () => {
    expect(isAllowedOrigin('http://127.0.0.1:4100', 4100, true)).toBe(true);
    expect(isAllowedOrigin('http://evil.example:4100', 4100, false)).toBe(false);
    expect(isAllowedOrigin('null', 4100, false)).toBe(false);
    expect(isAllowedOrigin(undefined, 4100, false)).toBe(true);
    expect(isAllowedOrigin(undefined, 4100, true)).toBe(false);
  });
});
