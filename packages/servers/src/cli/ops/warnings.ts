import type { OpContext } from './command.js';

/**
 * Prints the lint warnings a write's answer carries (`warnings: [{severity, id?, path?, message}]`)
 * on standard error: the write succeeded, but a rule may not do what was meant — a backend no
 * instance carries, a rule another shadows.
 */
export function printWarnings(op: OpContext, body: unknown): void {
  const warnings = typeof body === 'object' && body !== null ? (body as { warnings?: unknown }).warnings : undefined;
  if (!Array.isArray(warnings)) return;
  for (const w of warnings) {
    if (typeof w !== 'object' || w === null) continue;
    const { severity, id, path, message } = w as Record<string, unknown>;
    const where = [typeof id === 'string' ? `rule ${id}` : '', typeof path === 'string' ? path : '']
      .filter((x) => x !== '')
      .join(' ');
    op.note(`${String(severity ?? 'warning')}: ${where === '' ? '' : `${where}: `}${String(message)}`);
  }
}
