import fs from 'node:fs';
import path from 'node:path';

/**
 * Version names are directory names: letters, digits, `-` and `_` (`v20250101-120000`, `…-2`).
 * Anything else under `index/` (a `.partial` build, a hidden download in progress) is not a version.
 */
export const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

const STAMPED = /^(v\d{8}-\d{6})(?:-(\d+))?$/;

/**
 * Orders version names oldest first: by build time, then by the `-N` suffix of versions built in the
 * same second (numerically: `-10` after `-9`); other names as strings.
 */
export function compareVersionNames(a: string, b: string): number {
  const ma = STAMPED.exec(a);
  const mb = STAMPED.exec(b);
  if (ma && mb && ma[1] === mb[1]) return Number(ma[2] ?? 1) - Number(mb[2] ?? 1);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Newest first. */
export function sortVersionsNewestFirst(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => compareVersionNames(b, a));
}

/**
 * The versions pruning keeps: the newest `keep` (by name, which is by build time), the current one
 * and the one before it (so a rollback always has its target). The same rule prunes the local
 * directories and the versions published in the shared store.
 */
export function versionsToKeep(all: readonly string[], current: string | undefined, keep = 3): Set<string> {
  const sorted = sortVersionsNewestFirst(all);
  const kept = new Set(sorted.slice(0, keep));
  if (current) {
    kept.add(current);
    const i = sorted.indexOf(current);
    const previous = i >= 0 ? sorted[i + 1] : undefined;
    if (previous) kept.add(previous);
  }
  return kept;
}

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

  /** True when `<version>/manifest.json` exists (a complete version). */
  has(version: string): boolean {
    return VERSION_NAME.test(version) && fs.existsSync(path.join(this.dir(version), 'manifest.json'));
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
    return sortVersionsNewestFirst(
      fs
        .readdirSync(this.root, { withFileTypes: true })
        .filter(
          (d) =>
            d.isDirectory() &&
            VERSION_NAME.test(d.name) &&
            fs.existsSync(path.join(this.root, d.name, 'manifest.json')),
        )
        .map((d) => d.name),
    );
  }

  /**
   * A new version name from the time (`v20250101-120000`, then `-2`, `-3`… within one second), unused
   * here and not in `taken` (versions published elsewhere), and never below a name of that second
   * already used, even if that version was pruned since.
   */
  newVersionName(now = new Date(), taken: ReadonlySet<string> = new Set()): string {
    const base = `v${now.toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*$/, '')}`;
    let used = 0;
    const seen = fs.existsSync(this.root) ? fs.readdirSync(this.root) : [];
    for (const n of [...seen, ...taken]) {
      const m = STAMPED.exec(n.replace(/\.partial$/, ''));
      if (m?.[1] === base) used = Math.max(used, Number(m[2] ?? 1));
    }
    let i = used + 1;
    let name = i === 1 ? base : `${base}-${i}`;
    while (fs.existsSync(this.dir(name)) || taken.has(name)) name = `${base}-${++i}`;
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

  /** Removes old versions, keeping the newest `keep`, the current one and the one before it. */
  prune(keep = 3): string[] {
    const all = this.list();
    const kept = versionsToKeep(all, this.current(), keep);
    const removed: string[] = [];
    for (const v of all) {
      if (kept.has(v)) continue;
      fs.rmSync(this.dir(v), { recursive: true, force: true });
      removed.push(v);
    }
    return removed;
  }
}
