export { leadWorkflow } from './lead-workflow.js';
export { dealWorkflow } from './deal-workflow.js';
