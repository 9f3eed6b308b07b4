import { serviceGlobalSetup } from '@engram/conformance/services';

export default serviceGlobalSetup('s3-vectors');
