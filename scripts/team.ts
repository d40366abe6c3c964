/**
 * Team accounts from the command line (issue 7):
 *   npm run team -- add --name "Nguyễn Văn A" [--role member|admin] --communes "phường Vị Thanh;xã Long Mỹ"
 *   npm run team -- list
 *   npm run team -- disable <member id>
 * `add` prints the member's token once (only its sha256 is stored). Uses DATA_DIR like the service.
 */
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/storage/database.js';
import { hashToken, newToken } from '../src/team/auth.js';
import { createSqliteTeamStore } from '../src/team/teamStore.js';
import { SqliteUnansweredLog } from '../src/unanswered/sqliteUnansweredLog.js';
import { cliSetup } from './cli.js';

const USAGE = `usage:
  npm run team -- add --name "Tên" [--role member|admin] --communes "xã A;phường B"
  npm run team -- list
  npm run team -- disable <id>`;

function main(): number {
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
  const { config } = cliSetup();
  const db = openDatabase(config.dataDir);
  try {
    new SqliteUnansweredLog(db); // the questions table the team store extends
    const store = createSqliteTeamStore(db);
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
      const member = store.members.create({ name, role, communes, tokenHash: hashToken(token) });
      store.audit.record({
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
      const members = store.members.list();
      if (values.json) console.log(JSON.stringify(members));
      else
        for (const m of members)
          console.log(
            `${m.id}\t${m.role}\t${m.disabled ? 'disabled' : 'active'}\t${m.name}\t${m.communes.join('; ')}`,
          );
      return 0;
    }
    if (command === 'disable' && arg) {
      const m = store.members.get(arg);
      if (!m) {
        console.error(`no member ${arg}`);
        return 1;
      }
      store.members.disable(m.id);
      store.audit.record({ ...actor, action: 'member.disable', target: m.id, detail: { name: m.name } });
      console.log(`Đã thu hồi token của "${m.name}"`);
      return 0;
    }
    console.error(USAGE);
    return 2;
  } finally {
    db.close();
  }
}

process.exitCode = main();
