export { type CheckRow, checkAgainstMeasurement } from './check.js';
export {
  extractFigures,
  type Figure,
  type FigureQuery,
  type FiguresFile,
  findFigure,
  formatCount,
  type MetricName,
  parseCount,
} from './figures.js';
export { loadFigures, loadPrices } from './load.js';
export { formatPlan, type Plan, type PlanLine, planDeployment, type Workload } from './plan.js';
export {
  type ComputePrice,
  type ModelPrice,
  mergePrices,
  modelPrice,
  type PriceOverrides,
  type PriceTable,
} from './prices.js';
