/**
 * The first place two JSON-like values differ, as a readable path ("encoder.dropout: 0.1 vs 0.2"),
 * or null when they are equal (object key order ignored; undefined fields count as absent).
 */
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

export function jsonDifference(a: unknown, b: unknown, at = ''): string | null {
  const where = at || '(root)';
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${where}: ${a.length} entries vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = jsonDifference(a[i], b[i], `${at}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== undefined || b[k] !== undefined).sort();
    for (const k of keys) {
      const d = jsonDifference(a[k], b[k], at ? `${at}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  if (Object.is(a, b) || (typeof a === 'number' && typeof b === 'number' && a === b)) return null;
  return `${where}: ${show(a)} vs ${show(b)}`;
}
