export { leadWorkflow } from './lead-workflow.js';
export { dealWorkflow } from './deal-workflow.js';
export { retentionSweepWorkflow } from './retention-workflow.js';
