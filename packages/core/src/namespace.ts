import { InvalidArgumentError } from './errors.js';

/**
 * Checks the namespace that separates one `Memory` collection (one server project) from another
 * in the graph and history stores, and returns it. It must be a non-blank string without control
 * characters; it is matched literally.
 */
export function checkNamespace(namespace: unknown, { source = 'core' } = {}): string {
  if (typeof namespace !== 'string' || namespace.trim().length === 0) {
    throw new InvalidArgumentError({
      source,
      message: `A non-empty namespace is required (the Memory's collection, e.g. "memories"), got ${JSON.stringify(namespace)}.`,
    });
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(namespace)) {
    throw new InvalidArgumentError({
      source,
      message: 'The namespace must not contain control characters (newlines, tabs, NUL).',
    });
  }
  return namespace;
}
