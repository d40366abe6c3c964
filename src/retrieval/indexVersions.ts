import fs from 'node:fs';
import path from 'node:path';

/**
 * Index versions live in `<dataDir>/index/<version>/`; the file `CURRENT` names the one in use.
 * Switching writes a temporary file and renames it over `CURRENT`, which is atomic on POSIX.
 */
export class IndexVersions {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'index');
  }

  dir(version: string): string {
    return path.join(this.root, version);
  }

  current(): string | undefined {
    try {
      const v = fs.readFileSync(path.join(this.root, 'CURRENT'), 'utf8').trim();
      return v && fs.existsSync(this.dir(v)) ? v : undefined;
    } catch {
      return undefined;
    }
  }

  /** Complete versions (those with a manifest), newest first. */
  list(): string[] {
    if (!fs.existsSync(this.root)) return [];
    return fs
      .readdirSync(this.root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(this.root, d.name, 'manifest.json')))
      .map((d) => d.name)
      .sort()
      .reverse();
  }

  newVersionName(now = new Date()): string {
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*$/, '');
    let name = `v${stamp}`;
    for (let i = 2; fs.existsSync(this.dir(name)); i++) name = `v${stamp}-${i}`;
    return name;
  }

  switchTo(version: string): void {
    fs.mkdirSync(this.root, { recursive: true });
    const tmp = path.join(this.root, `CURRENT.${process.pid}.tmp`);
    fs.writeFileSync(tmp, `${version}\n`);
    fs.renameSync(tmp, path.join(this.root, 'CURRENT'));
  }

  /** The version before the current one, for rollback. */
  previous(): string | undefined {
    const cur = this.current();
    const all = this.list();
    const i = cur ? all.indexOf(cur) : -1;
    return i >= 0 ? all[i + 1] : undefined;
  }

  /** Removes old versions, keeping the newest `keep` and the current one. */
  prune(keep = 3): string[] {
    const cur = this.current();
    const removed: string[] = [];
    for (const v of this.list().slice(keep)) {
      if (v === cur) continue;
      fs.rmSync(this.dir(v), { recursive: true, force: true });
      removed.push(v);
    }
    return removed;
  }
}
