// The root entry imports vitest, which a globalSetup file must not load.
import { serviceGlobalSetup } from '@engram/conformance/services';

export default serviceGlobalSetup('milvus');
