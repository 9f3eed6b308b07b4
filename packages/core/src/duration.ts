import { InvalidArgumentError } from './errors.js';

const units: Record<string, number> = {
  s: 1000,
  m: 60 * 1000,
  h: 60 * 60 * 1000,
  d: 24 * 60 * 60 * 1000,
};

/**
 * A duration in milliseconds from `90d`, `12h`, `30m` or `45s` (a whole number and one unit), or
 * a number of milliseconds. `name` is the setting named in the `InvalidArgumentError` thrown for
 * anything else.
 */
export function parseDuration(value: string | number, name: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    const match = /^\s*(\d+)\s*([smhd])\s*$/i.exec(value);
    if (match) return Number(match[1]) * units[match[2]!.toLowerCase()]!;
  }
  throw new InvalidArgumentError({
    source: 'core',
    message: `${name} must be a duration such as 90d, 12h, 30m or 45s (or a number of milliseconds), got ${JSON.stringify(typeof value === 'number' ? String(value) : value)}.`,
  });
}
