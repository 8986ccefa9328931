// Saves something the page made (a chart image, a table) as a file through the browser's or window's download.

export function download(url: string, fileName: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
}

/** Rows to CSV (RFC 4180 quoting) and saved as a file. */
export function downloadCsv(rows: (string | number)[][], fileName: string): void {
  const quote = (cell: string | number) => {
    const text = String(cell);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const csv = rows.map((row) => row.map(quote).join(',')).join('\n') + '\n';
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
  download(url, fileName);
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
