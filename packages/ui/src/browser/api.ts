// The JSON API of the server, called with the key kept in this tab's session storage.

const storageKey = 'engram.credential';

/** An error answer of the API, with its message (which says what to do next). */
export class ApiFailure extends Error {
  /** HTTP status. */
  readonly status: number;
  /** The API's error code, e.g. `unauthorized`. */
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiFailure';
    this.status = status;
    this.code = code;
  }
}

/** The API key or OIDC token of this tab (empty: none, for a local trial server); null when signed out. */
export function credential(): string | null {
  return sessionStorage.getItem(storageKey);
}

/** Keeps the key or token for this tab only (closed with it). */
export function signIn(value: string): void {
  sessionStorage.setItem(storageKey, value);
}

/** Forgets the key or token. */
export function signOut(): void {
  sessionStorage.removeItem(storageKey);
}

/** Query string of defined values. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

async function send(path: string, init: RequestInit = {}): Promise<Response> {
  const key = credential();
  const headers = new Headers(init.headers);
  if (key) headers.set('Authorization', `Bearer ${key}`);
  if (init.body !== undefined) headers.set('Content-Type', 'application/json');
  const response = await fetch(path, { ...init, headers, credentials: 'omit', cache: 'no-store' });
  if (!response.ok) {
    let code = 'error';
    let message = `The server answered ${response.status}.`;
    try {
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // Not JSON: keep the status.
    }
    throw new ApiFailure(response.status, code, message);
  }
  return response;
}

/** Calls a JSON route and answers its body. */
export async function call<T>(
  path: string,
  options: { method?: string; body?: unknown } = {},
): Promise<T> {
  const response = await send(path, {
    method: options.method ?? 'GET',
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  return (await response.json()) as T;
}

/** Fetches a route's body as a blob (for downloads). */
export async function download(path: string): Promise<Blob> {
  return (await send(path)).blob();
}
