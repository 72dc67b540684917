// Database URLs are printed in messages and banners; their passwords never are.

/**
 * The URL with its password replaced by `***`; URLs without one are returned unchanged.
 *
 * @example
 * ```ts
 * redactUrl('postgres://app:secret@db:5432/app'); // 'postgres://app:***@db:5432/app'
 * ```
 */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
