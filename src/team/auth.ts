import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type restify from 'restify';
import { communeKey } from './grouping.js';
import type { Member, MemberRepository, Role } from './teamStore.js';

/** Who makes a request: a member, or the bootstrap admin of ADMIN_TOKEN. */
export interface Principal {
  id: string;
  name: string;
  role: Role;
  communes: string[];
}

export const BOOTSTRAP_ADMIN: Principal = {
  id: 'admin-token',
  name: 'Quản trị (ADMIN_TOKEN)',
  role: 'admin',
  communes: [],
};

/** A new member token: 32 random bytes, base64url. Shown once; only its sha256 is stored. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class TeamAuth {
  private readonly adminHash?: Buffer;

  constructor(
    private readonly members: MemberRepository,
    adminToken?: string,
  ) {
    if (adminToken) this.adminHash = createHash('sha256').update(adminToken, 'utf8').digest();
  }

  /**
   * The principal of a bearer token, or undefined (missing, unknown or disabled). Members are read from
   * the store on every request, so a token revoked on one replica is refused by all at once.
   */
  async authenticate(token: string | undefined): Promise<Principal | undefined> {
    if (!token) return undefined;
    if (this.adminHash) {
      const given = createHash('sha256').update(token, 'utf8').digest();
      if (timingSafeEqual(given, this.adminHash)) return BOOTSTRAP_ADMIN;
    }
    const member = await this.members.byTokenHash(hashToken(token));
    if (!member || member.disabled) return undefined;
    return toPrincipal(member);
  }

  /** The bearer token of a request (`?token=` only where `allowQuery`, for EventSource). */
  tokenOf(req: restify.Request, allowQuery = false): string | undefined {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (match) return match[1];
    if (allowQuery) {
      const q = (req.query as Record<string, unknown> | undefined)?.token;
      if (typeof q === 'string' && q) return q;
    }
    return undefined;
  }
}

export function toPrincipal(m: Member): Principal {
  return { id: m.id, name: m.name, role: m.role, communes: m.communes };
}

/** True when the principal may see and act on a question of this commune. */
export function canSeeCommune(p: Principal, commune: string | null | undefined): boolean {
  if (p.role === 'admin') return true;
  const key = communeKey(commune);
  return key !== '' && p.communes.some((c) => communeKey(c) === key);
}
