import { parentPort, workerData } from 'node:worker_threads';
import {
  type AnnBuildJob,
  type AnnBuildResult,
  AnnBuildStopped,
  loadUsearch,
  runAnnBuild,
} from './sqlite-ann-build.js';

/** Entry of the worker thread that builds an approximate index off the store's thread. */
const usearch = loadUsearch();
if (!usearch) throw new Error('The usearch native module does not load on this platform.');
let outcome: AnnBuildResult | { stopped: true };
try {
  outcome = runAnnBuild(workerData as AnnBuildJob, usearch);
} catch (error) {
  if (!(error instanceof AnnBuildStopped)) throw error;
  outcome = { stopped: true };
}
// The thread then ends on its own, with no native call in flight.
parentPort?.postMessage(outcome);
