import { serviceGlobalSetup } from '@engram/conformance/services';

export default serviceGlobalSetup('databricks');
