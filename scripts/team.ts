/**
 * Team accounts from the command line (issue 7):
 *   npm run team -- add --name "Nguyễn Văn A" [--role member|admin] --communes "phường Vị Thanh;xã Long Mỹ"
 *   npm run team -- list
 *   npm run team -- disable <member id>
 * `add` prints the member's token once (only its sha256 is stored). Uses the service's store: DATA_DIR's
 * SQLite file, or PostgreSQL when DATABASE_URL is set.
 */
import { parseArgs } from 'node:util';
import { openSqlDb } from '../src/storage/sql/index.js';
import { hashToken, newToken } from '../src/team/auth.js';
import { createTeamStore } from '../src/team/teamStore.js';
import { cliSetup } from './cli.js';

const USAGE = `usage:
  npm run team -- add --name "Tên" [--role member|admin] --communes "xã A;phường B"
  npm run team -- list
  npm run team -- disable <id>`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      role: { type: 'string', default: 'member' },
      communes: { type: 'string', default: '' },
      json: { type: 'boolean', default: false },
    },
  });
  const [command, arg] = positionals;
  const { config, logger } = cliSetup();
  const db = await openSqlDb({
    dataDir: config.dataDir,
    databaseUrl: config.database?.url,
    poolMax: 2,
    logger,
  });
  try {
    const store = createTeamStore(db);
    await store.migrate({ questions: false }); // members and audit only; the service adds the rest
    const actor = { actorId: 'cli', actorName: `npm run team (${process.env.USER ?? 'unknown'})` };
    if (command === 'add') {
      const name = values.name?.trim();
      const role = values.role;
      const communes = (values.communes ?? '')
        .split(/[;\n]/)
        .map((c) => c.trim())
        .filter(Boolean);
      if (!name || (role !== 'member' && role !== 'admin') || (role === 'member' && !communes.length)) {
        console.error(`${USAGE}\n(a member needs --name and at least one commune)`);
        return 2;
      }
      const token = newToken();
      const member = await store.members.create({ name, role, communes, tokenHash: hashToken(token) });
      await store.audit.record({
        ...actor,
        action: 'member.add',
        target: member.id,
        detail: { name, role, communes },
      });
      if (values.json) console.log(JSON.stringify({ member, token }));
      else {
        console.log(`Đã thêm ${member.role} "${member.name}" (${member.communes.join('; ') || 'mọi xã'})`);
        console.log(`id:    ${member.id}`);
        console.log(`token: ${token}`);
        console.log('Token chỉ hiện một lần: gửi riêng cho thành viên.');
      }
      return 0;
    }
    if (command === 'list') {
      const members = await store.members.list();
      if (values.json) console.log(JSON.stringify(members));
      else
        for (const m of members)
          console.log(
            `${m.id}\t${m.role}\t${m.disabled ? 'disabled' : 'active'}\t${m.name}\t${m.communes.join('; ')}`,
          );
      return 0;
    }
    if (command === 'disable' && arg) {
      const m = await store.members.get(arg);
      if (!m) {
        console.error(`no member ${arg}`);
        return 1;
      }
      await store.members.disable(m.id);
      await store.audit.record({
        ...actor,
        action: 'member.disable',
        target: m.id,
        detail: { name: m.name },
      });
      console.log(`Đã thu hồi token của "${m.name}"`);
      return 0;
    }
    console.error(USAGE);
    return 2;
  } finally {
    await db.close();
  }
}

process.exitCode = await main();
