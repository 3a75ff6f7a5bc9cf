/** The cache report as tables: per prefix, the largest repositories, the largest stale images. */
import { type CacheReport, unreadableLine } from './collect.js';

export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

export function formatCacheReport(report: CacheReport, top = 10): string {
  const t = report.total;
  const lines = [
    `Cache: ${t.repositories} repositories, ${t.images} images (${t.tagged} tagged), ${humanBytes(t.bytes)}` +
      `${t.dedupedBytes !== undefined ? ` (${humanBytes(t.dedupedBytes)} with shared layers counted once)` : ''}, ~$${t.monthlyCost.toFixed(2)}/month; ` +
      `${t.staleImages} images not pulled for ${report.staleAfterDays} days (${humanBytes(t.staleBytes)}).`,
    '',
    ...table(
      ['prefix', 'repositories', 'images', 'size', 'archived', 'stale', '$/month'],
      report.byPrefix.map((p) => [
        p.prefix,
        String(p.repositories),
        String(p.images),
        humanBytes(p.bytes),
        humanBytes(p.bytesArchive),
        String(p.staleImages),
        p.monthlyCost.toFixed(2),
      ]),
    ),
  ];
  if (report.vanished.length) {
    lines.push('', `Deleted while this ran, left out: ${report.vanished.join(', ')}.`);
  }
  if (report.unreadable.length) {
    lines.push('', unreadableLine(report.unreadable));
  }
  if (report.repositories.length) {
    lines.push('', `Largest repositories (top ${Math.min(top, report.repositories.length)}):`);
    lines.push(
      ...table(
        ['repository', 'images', 'size', 'stale'],
        report.repositories
          .slice(0, top)
          .map((r) => [r.name, String(r.images), humanBytes(r.bytes), String(r.staleImages)]),
      ),
    );
  }
  if (report.staleImages.length) {
    lines.push('', `Largest stale images (not pulled for ${report.staleAfterDays} days):`);
    lines.push(
      ...table(
        ['repository', 'tags', 'size', 'last activity'],
        report.staleImages
          .slice(0, top)
          .map((s) => [
            s.repository,
            s.tags.join(',') || '(untagged)',
            humanBytes(s.bytes),
            s.lastActivity?.slice(0, 10) ?? '-',
          ]),
      ),
    );
  }
  return lines.join('\n');
}
