import { parse, type HTMLElement, type Node, NodeType } from 'node-html-parser';

/**
 * Converts HTML (a saved web page, or what mammoth makes of a DOCX) into the Markdown-like text the
 * chunker reads: '#' headings, '-' / '1.' list items, '| a | b |' table rows, blank-line paragraphs.
 * Inline formatting and links are reduced to their text.
 */
export interface HtmlConversion {
  /** <title>, else the first <h1>; undefined when the page has neither. */
  title?: string;
  markdown: string;
}

/** Elements whose content never reaches the knowledge base (page chrome, code, forms). */
const SKIPPED = new Set([
  'head',
  'script',
  'style',
  'noscript',
  'template',
  'nav',
  'footer',
  'svg',
  'iframe',
  'object',
  'button',
  'select',
  'textarea',
]);

/** Elements that end the current paragraph. */
const BLOCKS = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'header',
  'aside',
  'blockquote',
  'figure',
  'figcaption',
  'address',
  'dl',
  'dt',
  'dd',
  'form',
  'fieldset',
  'details',
  'summary',
  'center',
  'body',
  'html',
  'hr',
  'caption',
]);

const tagOf = (node: Node): string => (node.rawTagName ?? '').toLowerCase();
const isElement = (node: Node): node is HTMLElement => node.nodeType === NodeType.ELEMENT_NODE;
const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();

export function htmlToMarkdown(html: string): HtmlConversion {
  // node-html-parser keeps a doctype or an XML declaration as text.
  const source = html.replace(/<!doctype[^>]*>|<\?xml[^>]*\?>/gi, '');
  const root = parse(source, {
    comment: false,
    // false: drop the element's text entirely; pre keeps its raw text.
    blockTextElements: { script: false, style: false, noscript: false, pre: true },
  });
  const writer = new BlockWriter();
  writer.walk(root);
  const titleElement = root.querySelector('title');
  const h1 = root.querySelector('h1');
  const title = collapse(titleElement?.text ?? '') || collapse(plainText(h1)) || undefined;
  return { title, markdown: writer.finish() };
}

/** Collects blocks in document order; inline text accumulates until a block boundary. */
class BlockWriter {
  private readonly blocks: string[] = [];
  private inline = '';

  walk(node: Node): void {
    for (const child of node.childNodes) this.add(child);
  }

  finish(): string {
    this.flush();
    return this.blocks.join('\n\n');
  }

  add(node: Node): void {
    if (node.nodeType === NodeType.TEXT_NODE) {
      this.inline += node.text.replace(/\s+/g, ' ');
      return;
    }
    if (!isElement(node)) return;
    const tag = tagOf(node);
    if (SKIPPED.has(tag)) return;
    const heading = /^h([1-6])$/.exec(tag);
    if (heading) {
      this.block(`${'#'.repeat(Number(heading[1]))} ${collapse(plainText(node))}`);
    } else if (tag === 'ul' || tag === 'ol') {
      this.block(renderList(node, '').join('\n'));
    } else if (tag === 'table') {
      this.block(renderTable(node));
    } else if (tag === 'pre') {
      this.block('```\n' + node.text.replace(/^\n/, '').replace(/\s+$/, '') + '\n```');
    } else if (tag === 'br') {
      this.inline += '\n';
    } else if (BLOCKS.has(tag)) {
      this.flush();
      this.walk(node);
      this.flush();
    } else {
      this.walk(node);
    }
  }

  private block(text: string): void {
    this.flush();
    if (text.trim() && !/^#+ $/.test(text)) this.blocks.push(text);
  }

  private flush(): void {
    const text = this.inline
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .join('\n');
    this.inline = '';
    if (text) this.blocks.push(text);
  }
}

/** One line per item ('- ' or 'N. '), nested lists indented under their item. */
function renderList(list: HTMLElement, indent: string): string[] {
  const ordered = tagOf(list) === 'ol';
  let number = Number.parseInt(list.getAttribute('start') ?? '1', 10);
  if (!Number.isFinite(number)) number = 1;
  const lines: string[] = [];
  for (const item of list.childNodes) {
    if (!isElement(item) || tagOf(item) !== 'li') continue;
    const marker = ordered ? `${number++}.` : '-';
    const childIndent = indent + ' '.repeat(marker.length + 1);
    const nested: string[] = [];
    const writer = new BlockWriter();
    for (const child of item.childNodes) {
      const tag = tagOf(child);
      if (isElement(child) && (tag === 'ul' || tag === 'ol')) nested.push(...renderList(child, childIndent));
      else writer.add(child);
    }
    const text = writer.finish().split(/\n+/).join(`\n${childIndent}`);
    lines.push(`${indent}${marker} ${text}`.trimEnd(), ...nested);
  }
  return lines;
}

/** '| a | b |' rows; the first row is the header, followed by a '| --- |' separator. */
function renderTable(table: HTMLElement): string {
  const rows: string[][] = [];
  const caption = collapse(plainText(table.querySelector('caption')));
  const collectRows = (el: HTMLElement): void => {
    for (const child of el.childNodes) {
      if (!isElement(child)) continue;
      const tag = tagOf(child);
      if (tag === 'tr') {
        const cells = child.childNodes
          .filter((c): c is HTMLElement => isElement(c) && (tagOf(c) === 'td' || tagOf(c) === 'th'))
          .map((c) => collapse(plainText(c)).replace(/\|/g, '\\|'));
        if (cells.length) rows.push(cells);
      } else if (tag === 'thead' || tag === 'tbody' || tag === 'tfoot') {
        collectRows(child);
      }
    }
  };
  collectRows(table);
  if (!rows.length) return caption;
  const width = Math.max(...rows.map((r) => r.length));
  const line = (cells: string[]) =>
    `| ${[...cells, ...Array<string>(width - cells.length).fill('')].join(' | ')} |`;
  const out = rows.map(line);
  out.splice(1, 0, line(Array<string>(width).fill('---')));
  return (caption ? `${caption}\n\n` : '') + out.join('\n');
}

/** Text of an element with block boundaries and <br> turned into spaces. */
function plainText(node: Node | null): string {
  if (!node) return '';
  if (node.nodeType === NodeType.TEXT_NODE) return node.text;
  if (!isElement(node) || SKIPPED.has(tagOf(node))) return '';
  const tag = tagOf(node);
  const inner = node.childNodes.map(plainText).join('');
  return tag === 'br' || BLOCKS.has(tag) || tag === 'li' || tag === 'td' || tag === 'th'
    ? ` ${inner} `
    : inner;
}
