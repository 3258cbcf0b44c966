/** Markdown rendering for benchmark reports. Generic: no engine imports. */

type Align = 'left' | 'right' | 'center';

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  readonly align?: Align;
}

/** A GitHub-flavoured markdown table, cells padded so it also reads well in a terminal. */
export function markdownTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = rows.map((row) => columns.map((column) => escapeCell(column.value(row))));
  const headers = columns.map((column) => escapeCell(column.header));
  const widths = columns.map((_, i) =>
    Math.max(3, width(headers[i] as string), ...cells.map((r) => width(r[i] as string))),
  );
  const line = (values: readonly string[]): string =>
    `| ${values.map((value, i) => pad(value, widths[i] as number, columns[i]?.align ?? 'left')).join(' | ')} |`;
  const rule = `| ${columns
    .map((column, i) => {
      const dashes = '-'.repeat(widths[i] as number);
      switch (column.align ?? 'left') {
        case 'right':
          return `${dashes.slice(1)}:`;
        case 'center':
          return `:${dashes.slice(2)}:`;
        default:
          return dashes;
      }
    })
    .join(' | ')} |`;
  return [line(headers), rule, ...cells.map(line)].join('\n');
}

/** A bulleted list. */
export function markdownList(items: readonly string[]): string {
  return items.map((item) => `- ${item}`).join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Display width: code points, so `µ` and `×` count as one column. */
function width(text: string): number {
  return [...text].length;
}

function pad(text: string, size: number, align: Align): string {
  const gap = Math.max(0, size - width(text));
  if (align === 'right') return ' '.repeat(gap) + text;
  if (align === 'center') return ' '.repeat(Math.floor(gap / 2)) + text + ' '.repeat(Math.ceil(gap / 2));
  return text + ' '.repeat(gap);
}
