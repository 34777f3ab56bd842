/**
 * Pure string formatting for money and times: amounts stay the API's decimal strings (never parsed
 * into floats); we only insert grouping separators into the integer part.
 */
export function groupDecimal(value: string): string {
  const m = /^([+-]?)(\d+)(\.\d+)?$/.exec(value.trim());
  if (!m) return value;
  const [, sign, int, frac = ''] = m;
  return `${sign}${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac}`;
}

/** Compares two non-negative or negative decimal strings exactly (-1, 0, 1). */
export function compareDecimal(a: string, b: string): number {
  const norm = (v: string) => {
    const neg = v.startsWith('-');
    const [i, f = ''] = v.replace(/^[+-]/, '').split('.');
    return { neg, i: i.replace(/^0+(?=\d)/, ''), f: f.replace(/0+$/, '') };
  };
  const x = norm(a);
  const y = norm(b);
  const xz = /^0*$/.test(x.i) && x.f === '';
  const yz = /^0*$/.test(y.i) && y.f === '';
  if (xz && yz) return 0;
  if (x.neg !== y.neg) return x.neg && !xz ? -1 : y.neg && !yz ? 1 : xz ? (y.neg ? 1 : -1) : x.neg ? -1 : 1;
  let c = x.i.length - y.i.length || (x.i < y.i ? -1 : x.i > y.i ? 1 : 0);
  if (c === 0) {
    const len = Math.max(x.f.length, y.f.length);
    const xf = x.f.padEnd(len, '0');
    const yf = y.f.padEnd(len, '0');
    c = xf < yf ? -1 : xf > yf ? 1 : 0;
  }
  return x.neg ? -c : c;
}

export const isZeroDecimal = (v: string) => /^[+-]?0*(\.0*)?$/.test(v.trim());

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatRemaining(ms: number): string {
  if (ms <= 0) return '0:00';
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
