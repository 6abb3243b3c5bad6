import type { FastifyReply, FastifyRequest } from 'fastify';

// The console's two cookies, both HttpOnly and SameSite=Lax (Lax, not Strict: the identity
// provider's redirect back to the callback is a cross-site navigation that must carry the
// sign-in cookie). Secure whenever the console is served anywhere but this machine's loopback.

export const SESSION_COOKIE = 'cs_session';
export const LOGIN_COOKIE = 'cs_login';

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      // A cookie that is not valid percent-encoding is no cookie of ours: as if absent.
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function isLoopback(publicUrl: string): boolean {
  return LOOPBACK.has(new URL(publicUrl).hostname);
}

export interface CookieOptions {
  path: string;
  maxAgeSeconds?: number;
  secure: boolean;
}

function serialize(name: string, value: string, o: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${o.path}`, 'HttpOnly', 'SameSite=Lax'];
  if (o.maxAgeSeconds !== undefined) parts.push(`Max-Age=${o.maxAgeSeconds}`);
  if (o.secure) parts.push('Secure');
  return parts.join('; ');
}

export function setCookie(reply: FastifyReply, name: string, value: string, o: CookieOptions): void {
  const existing = reply.getHeader('set-cookie');
  const list = Array.isArray(existing) ? existing : existing ? [String(existing)] : [];
  reply.header('set-cookie', [...list, serialize(name, value, o)]);
}

export function clearCookie(reply: FastifyReply, name: string, o: Omit<CookieOptions, 'maxAgeSeconds'>): void {
  setCookie(reply, name, '', { ...o, maxAgeSeconds: 0 });
}
