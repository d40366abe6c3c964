const DOLLAR_TAG = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;

/**
 * Rewrites the `?` placeholders of portable SQL to PostgreSQL's `$1…$n`. A `?` inside a '…' string
 * literal ('' escapes a quote), a "…" identifier, a -- or /* *\/ comment, or a $tag$…$tag$ string is
 * left alone. (E'…' strings with backslash escapes are not recognized: SQLite has none.)
 */
export function toPgPlaceholders(sql: string): string {
  if (!sql.includes('?')) return sql;
  let out = '';
  let last = 0;
  let n = 0;
  let i = 0;
  const len = sql.length;
  while (i < len) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      // Skip to the closing quote; a doubled quote is an escaped one.
      let j = i + 1;
      while (j < len) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i + 2);
      i = end < 0 ? len : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      // PostgreSQL block comments nest.
      let depth = 1;
      let j = i + 2;
      while (j < len && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      i = j;
    } else if (c === '$') {
      DOLLAR_TAG.lastIndex = i;
      const m = DOLLAR_TAG.exec(sql);
      if (m && !(i > 0 && /[A-Za-z0-9_]/.test(sql[i - 1]!))) {
        const end = sql.indexOf(m[0], i + m[0].length);
        i = end < 0 ? len : end + m[0].length;
      } else i++;
    } else if (c === '?') {
      out += `${sql.slice(last, i)}$${++n}`;
      last = i + 1;
      i++;
    } else i++;
  }
  return out + sql.slice(last);
}
