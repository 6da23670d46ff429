/**
 * A proxy URL safe to return or log: credentials become `***`, and path, query and fragment are
 * dropped (some providers put tokens there). Anything unparsable becomes `[invalid proxy url]`.
 */
export function redactProxyUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '[invalid proxy url]';
  }
  const auth = u.username || u.password ? '***@' : '';
  return `${u.protocol}//${auth}${u.host}`;
}
