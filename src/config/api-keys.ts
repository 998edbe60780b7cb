/**
 * The API key check shared by every protocol (docs/security.md): the keys of `auth:` merged by digest once, and a
 * lookup that compares the presented key's SHA-256 with every configured digest by crypto.timingSafeEqual, with no
 * early exit, so neither the time taken nor the answer tells how close a guess was. http/auth.ts (REST, V2) and
 * grpc/auth.ts (metadata) both call it; neither logs a key.
 */
import { timingSafeEqual } from 'node:crypto';
import { keyDigest, type AuthScope, type ResolvedAuth } from './auth-schema.js';

/** A key that matched: its id (where it came from, e.g. `env LONGSHORE_KEY`; never the key) and its scopes. */
export interface GrantedKey {
  readonly id: string;
  readonly scopes: ReadonlySet<AuthScope>;
}

/** Finds the key `presented` is, or undefined. Keys listed twice have the scopes of both entries. */
export type KeyLookup = (presented: string) => GrantedKey | undefined;

export function apiKeyLookup(auth: ResolvedAuth): KeyLookup {
  // One entry per distinct key, its scopes merged here, so a check allocates nothing but the digest.
  const merged = new Map<string, Set<AuthScope>>();
  const ids = new Map<string, string>();
  for (const key of auth.keys) {
    merged.set(key.digest, new Set([...(merged.get(key.digest) ?? []), ...key.scopes]));
    // The key's id: its first entry's source.
    if (!ids.has(key.digest)) ids.set(key.digest, key.source);
  }
  const keys = [...merged].map(([digest, scopes]) => ({ digest: Buffer.from(digest, 'hex'), granted: { scopes, id: ids.get(digest) as string } }));
  return (presented) => {
    const digest = keyDigest(presented);
    let granted: GrantedKey | undefined;
    for (const candidate of keys) {
      // Every key is compared, with no early exit: the time does not tell which one matched.
      if (timingSafeEqual(digest, candidate.digest)) granted = candidate.granted;
    }
    return granted;
  };
}

/**
 * The key a call carries: `authorization: Bearer <key>` (scheme case-insensitive), else `x-api-key`. Header and gRPC
 * metadata values alike.
 */
export function bearerOrApiKey(authorization: string | undefined, apiKey: unknown): string | undefined {
  if (authorization !== undefined) {
    const match = /^bearer +(\S+) *$/i.exec(authorization);
    if (match !== null) return match[1];
  }
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined;
}
