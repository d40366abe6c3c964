/** Extracts the text of each page of a PDF, in page order. */
export async function extractPdfPages(bytes: Uint8Array): Promise<string[]> {
  // Loaded on first use: pdf.js and its native canvas cost the running service ~30 MB otherwise,
  // and only ingest reads PDFs.
  const { PDFParse, VerbosityLevel } = await import('pdf-parse');
  // pdf.js may take over the buffer it is given: hand it a copy.
  const parser = new PDFParse({ data: new Uint8Array(bytes), verbosity: VerbosityLevel.ERRORS });
  try {
    const result = await parser.getText();
    return [...result.pages].sort((a, b) => a.num - b.num).map((page) => page.text);
  } finally {
    await parser.destroy();
  }
}

const BULLET = /^[•●▪◦○■□–*+-]\s+/;
const NUMBERED = /^(?:\d{1,3}(?:\.\d{1,3})*[.)]|[a-zđ][.)])\s+/i;
const ENDS_SENTENCE = /[.!?:;…]["”)]?$/;

/**
 * PDF text has no structure beyond lines, so this rebuilds paragraphs: lines are joined until one
 * ends a sentence; a blank line, a list marker or a short all-capitals line (a title) starts a new one.
 * Bullets become '- ' items; numbered lines keep their numbers.
 */
export function pdfPagesToMarkdown(pages: string[]): string {
  const paragraphs: string[] = [];
  for (const page of pages) {
    let current: string[] = [];
    const flush = () => {
      if (current.length) paragraphs.push(current.join(' '));
      current = [];
    };
    for (const raw of page.split('\n')) {
      const line = raw.replace(/\s+/g, ' ').trim();
      if (!line) {
        flush();
        continue;
      }
      const isTitle = line.length <= 120 && /\p{Lu}/u.test(line) && !/\p{Ll}/u.test(line);
      if (BULLET.test(line) || NUMBERED.test(line) || isTitle) flush();
      current.push(BULLET.test(line) ? line.replace(BULLET, '- ') : line);
      if (isTitle || ENDS_SENTENCE.test(line)) flush();
    }
    flush();
  }
  return paragraphs.join('\n\n');
}
