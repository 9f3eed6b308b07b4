import type { ServiceInfo } from '@engram/conformance';

// The conformance package augments its own copy of vitest; this package may resolve another copy
// (a different peer variant), so the key is declared here too.
declare module 'vitest' {
  export interface ProvidedContext {
    engramService: ServiceInfo;
  }
}
