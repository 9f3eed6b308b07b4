// globalSetup runs outside the test workers, where importing vitest fails: use the subpath that
// does not load the suites.
import { serviceGlobalSetup } from '@engram/conformance/services';

export default serviceGlobalSetup('memgraph');
