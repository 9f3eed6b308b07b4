import { parentPort, workerData } from 'node:worker_threads';
import { type AnnBuildJob, loadUsearch, runAnnBuild } from './sqlite-ann-build.js';

/** Entry of the worker thread that builds an approximate index off the store's thread. */
const usearch = loadUsearch();
if (!usearch) throw new Error('The usearch native module does not load on this platform.');
parentPort?.postMessage(runAnnBuild(workerData as AnnBuildJob, usearch));
